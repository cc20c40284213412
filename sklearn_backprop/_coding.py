"""Output codings: how a head's targets become the network's outputs, and back.

Every output case is one small class, decided in one place, when a fit learns
its targets (:func:`label_coding`, :class:`TargetCoding`); a fitted estimator
rebuilds its coding from the fitted attributes that the coding set
(``fitted_attributes``), so that nothing is stored twice. The coding encodes the
targets for the loss, names the output activation (and so the loss), turns
the output pre-activations z_L into predictions, probabilities and
log-probabilities, and scores predictions, during training (a running score
accumulated over an epoch's minibatches) and after. The heads, the trainer and
the ONNX export ask the coding and never branch on the case again.

The classifier's cases:

* :class:`BinaryCoding`: two classes, one sigmoid output;
* :class:`SigmoidsCoding`: more classes, one independent sigmoid per class
  (the notebook's network);
* :class:`SoftmaxCoding`: more classes, a softmax over them;
* :class:`MultilabelCoding`: an indicator matrix, one sigmoid per label.

The regressor's: :class:`TargetCoding`, real values (standardised by
default, mapped back in its predictions), with identity outputs (or
exponential ones for the Poisson deviance).
"""

import numpy as np
from sklearn.metrics import accuracy_score, r2_score

from ._activations import ACTIVATIONS
from ._array_api import (
    astype,
    backend_for,
    concat_columns,
    device,
    expit,
    expit_into,
    float_dtypes,
    float_value,
    get_namespace,
    host_scalar,
    log_sigmoid,
    log_sigmoid_into,
    log_softmax_rows,
    namespace_and_device,
    to_namespace,
    to_numpy,
)


class LabelCoding:
    """Class labels, one-hot encoded: one output per class, the prediction is
    the class of the largest output.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The sorted class labels (``classes_``).
    """

    out_activation = None  # set by each case

    def __init__(self, classes):
        self.classes = classes

    @property
    def n_outputs(self):
        return len(self.classes)

    def fitted_attributes(self):
        """The fitted attributes that determine the coding (a fitted
        classifier's coding is ``label_coding`` of them)."""
        return {
            "classes_": self.classes,
            "n_outputs_": self.n_outputs,
            "out_activation_": self.out_activation,
            "_multilabel": isinstance(self, MultilabelCoding),
        }

    def indices(self, y):
        """The position of each label of ``y`` in ``classes``."""
        return np.searchsorted(self.classes, y)

    def stratify(self, y):
        """Labels to stratify the early-stopping split on (None: a plain split)."""
        return y

    def encode(self, y, dtype):
        """Y of shape (n_samples, n_outputs): one-hot rows."""
        Y = np.zeros((len(y), len(self.classes)), dtype=dtype)
        Y[np.arange(len(y)), self.indices(y)] = 1
        return Y

    # sigmoid and softmax are increasing, so thresholds and argmax can be
    # taken on z directly: sigmoid(z) > 1/2 exactly when z > 0.
    def predict(self, Z):
        """Predictions from the output pre-activations z_L (may reuse Z)."""
        xp = get_namespace(Z)
        return backend_for(Z).labels(self.classes, xp.argmax(Z, axis=1))

    def hits(self, A, Y):
        """Whether each row of outputs a_L predicts its encoded target."""
        xp = get_namespace(A)
        return xp.argmax(A, axis=1) == xp.argmax(Y, axis=1)

    def running_score(self, Y, weights):
        """An accumulator of the training accuracy over an epoch's minibatches."""
        return RunningAccuracy(self)

    def score(self, y, y_pred, sample_weight):
        return float(accuracy_score(y, y_pred, sample_weight=sample_weight))


class SoftmaxCoding(LabelCoding):
    """A softmax over the classes, trained with categorical cross-entropy."""

    out_activation = "softmax"

    def probabilities(self, Z):
        """predict_proba from z_L (computed in Z's buffer)."""
        return ACTIVATIONS["softmax"](Z)

    def log_probabilities(self, Z):
        """predict_log_proba from z_L: z - log sum_k exp(z_k)."""
        return log_softmax_rows(Z)


class SigmoidsCoding(LabelCoding):
    """One independent sigmoid per class, trained with binary cross-entropy:
    the notebook's output layer. Their probabilities are the sigmoids divided
    by their sum, so that rows sum to one."""

    out_activation = "logistic"

    def probabilities(self, Z):
        # Normalise the sigmoids in the log domain: sigmoid(z_k) / sum_j
        # sigmoid(z_j) = softmax_k(log sigmoid(z)), which never divides 0 by 0
        # when every sigmoid of a row underflows.
        log_sigmoid_into(Z, out=Z)
        return ACTIVATIONS["softmax"](Z)

    def log_probabilities(self, Z):
        return log_softmax_rows(log_sigmoid(Z))


class BinaryCoding(SigmoidsCoding):
    """Two classes: a single sigmoid output, the probability of the second
    class (equivalent to a two-class softmax)."""

    @property
    def n_outputs(self):
        return 1

    def encode(self, y, dtype):
        return self.indices(y).astype(dtype).reshape(-1, 1)

    def predict(self, Z):
        backend = backend_for(Z)
        positive = astype(Z[:, 0] > 0, backend.dtype(np.int64))
        return backend.labels(self.classes, positive)

    def hits(self, A, Y):
        return (A[:, 0] > 0.5) == (Y[:, 0] > 0.5)

    def probabilities(self, Z):
        # 1 - sigmoid(z) = sigmoid(-z), computed as such: it keeps its
        # relative accuracy where 1 - sigmoid(z) would round to 0.
        return concat_columns([expit(-Z), expit(Z)])

    def log_probabilities(self, Z):
        # log(1 - sigmoid(z)) = log sigmoid(-z)
        return concat_columns([log_sigmoid(-Z), log_sigmoid(Z)])


class MultilabelCoding(SigmoidsCoding):
    """An indicator matrix: one independent sigmoid per label, each predicted
    when it exceeds 1/2; ``classes_`` is ``arange(n_labels)``."""

    def stratify(self, y):
        return None

    def encode(self, y, dtype):
        return np.asarray(y, dtype=dtype)

    def predict(self, Z):
        return astype(Z > 0, backend_for(Z).dtype(np.int64))

    def hits(self, A, Y):
        return get_namespace(A).all((A > 0.5) == (Y > 0.5), axis=1)

    def probabilities(self, Z):
        return expit_into(Z, out=Z)  # the raw sigmoids: rows need not sum to 1

    def log_probabilities(self, Z):
        return log_sigmoid(Z)


def label_coding(classes, multilabel, output_activation):
    """The coding of a classifier's labels: the one place where the output
    case is decided.

    Parameters
    ----------
    classes : ndarray
        Sorted class labels (for multilabel targets, ``arange(n_labels)``).
    multilabel : bool
        Whether the targets are a label indicator matrix.
    output_activation : {'logistic', 'softmax'}
        The classifier's parameter: sigmoids or a softmax for more than two
        classes (binary and multilabel targets always use sigmoids).
    """
    if multilabel:
        return MultilabelCoding(classes)
    if len(classes) == 2:
        return BinaryCoding(classes)
    if output_activation == "softmax":
        return SoftmaxCoding(classes)
    return SigmoidsCoding(classes)


class TargetCoding:
    """Real-valued targets, one output per target column, standardised or
    used as they are.

    Parameters
    ----------
    n_outputs : int
        Number of target columns (1 for 1-D targets).
    out_activation : {'identity', 'exp'}
        Identity outputs (squared error) or exponential ones (Poisson
        deviance).
    mean, scale : ndarray of shape (n_outputs,) or None
        The network learns ``(y - mean) / scale`` and predictions are mapped
        back, ``yhat = mean + scale * a_L``; None: the targets as they are.
    """

    def __init__(self, n_outputs, out_activation, mean=None, scale=None):
        self.n_outputs, self.out_activation = int(n_outputs), out_activation
        self.mean, self.scale = mean, scale

    def standardized(self, y, weights, backend, dtype):
        """A coding of the same outputs that standardises targets as ``y``
        (1-D or 2-D) weighted by ``weights``: each column's weighted mean and
        standard deviation (a constant column keeps a scale of 1, as in
        :class:`~sklearn.preprocessing.StandardScaler`). Weighted, so that
        integer weights still equal repeated rows. Computed on the host, kept
        as arrays of ``dtype`` where the weights live (``backend``)."""
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        weights = np.asarray(weights, dtype=np.float64)
        mean = np.average(Y, axis=0, weights=weights)
        scale = np.sqrt(np.average((Y - mean) ** 2, axis=0, weights=weights))
        tiny = scale <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1)
        scale[tiny] = 1.0
        mean, scale = (backend.asarray(a.astype(dtype)) for a in (mean, scale))
        return type(self)(self.n_outputs, self.out_activation, mean, scale)

    def fitted_attributes(self):
        """The fitted attributes that determine the coding."""
        return {
            "n_outputs_": self.n_outputs,
            "out_activation_": self.out_activation,
            "target_mean_": self.mean,
            "target_scale_": self.scale,
        }

    def stratify(self, y):
        return None

    def encode(self, y, dtype):
        """Y of shape (n_samples, n_outputs): the targets (standardised, when
        the coding standardises), in the network's dtype."""
        Y = np.asarray(y).reshape(len(y), -1)
        if self.scale is not None:
            mean, scale = to_numpy(self.mean), to_numpy(self.scale)
            Y = (Y - mean) / scale  # y' = (y - mean) / scale
        return np.asarray(Y, dtype=dtype)

    def predict(self, Z):
        with np.errstate(over="ignore"):
            ACTIVATIONS[self.out_activation](Z)  # yhat = z, or exp(z) for poisson
        if self.scale is not None:
            scale, mean = (
                astype(to_namespace(a, *namespace_and_device(Z)), Z.dtype)
                for a in (self.scale, self.mean)
            )
            Z = Z * scale + mean  # yhat = mean + scale * a_L, in y's units
        if Z.shape[1] == 1:
            return get_namespace(Z).reshape(Z, (-1,))
        return Z

    def running_score(self, Y, weights):
        """An accumulator of the training R² over an epoch's minibatches."""
        return RunningR2(Y, weights)

    def score(self, y, y_pred, sample_weight):
        return float(r2_score(y, y_pred, sample_weight=sample_weight))


class RunningAccuracy:
    """Weighted share of correct predictions over an epoch's minibatches.

    Parameters
    ----------
    coding : LabelCoding
        Tells which outputs are hits.
    """

    def __init__(self, coding):
        self.coding = coding
        self.reset()

    def reset(self):
        self.correct = self.total = 0.0

    def add(self, outputs, Y, weights):
        """Count a minibatch: ``outputs`` are sigmoid or softmax outputs a_L.

        NumPy's counts are Python floats; another namespace's stay 0-d arrays
        on its device until ``value`` reads them, once per epoch.
        """
        hits = self.coding.hits(outputs, Y)
        correct = host_scalar(weights @ astype(hits, weights.dtype))
        self.correct = self.correct + correct
        self.total = self.total + host_scalar(get_namespace(weights).sum(weights))

    def value(self):
        total = float_value(self.total)
        return float_value(self.correct) / total if total else 0.0


class RunningR2:
    """R² over an epoch's minibatches, averaged over outputs as r2_score does.

    The total sum of squares is that of the whole training set around its
    weighted mean, computed once; the residual sum of squares accumulates
    batch by batch from the outputs computed on the way to each update.
    """

    def __init__(self, Y, weights):
        # In float64 where the device has it; another namespace's residuals
        # accumulate on its device and are read once per epoch.
        xp = get_namespace(Y)
        self.dtype = float_dtypes(xp, device(Y))[0]
        weights = astype(weights, self.dtype)
        Y = astype(Y, self.dtype)
        mean = weights @ Y / xp.sum(weights)
        self.total_ss = to_numpy(weights @ (Y - mean) ** 2).astype(np.float64)
        self.reset()

    def reset(self):
        self.residual_ss = 0.0

    def add(self, outputs, Y, weights):
        residual = astype(outputs - Y, self.dtype) ** 2
        self.residual_ss = self.residual_ss + astype(weights, self.dtype) @ residual

    def value(self):
        residual_ss = to_numpy(self.residual_ss).astype(np.float64)
        residual_ss = residual_ss + np.zeros_like(self.total_ss)  # 0.0: no batch
        constant = self.total_ss == 0
        # r2_score's convention for a constant target: 1 if perfect, else 0.
        r2 = np.where(constant, (residual_ss == 0).astype(float), 0.0)
        r2[~constant] = 1 - residual_ss[~constant] / self.total_ss[~constant]
        return float(r2.mean())
