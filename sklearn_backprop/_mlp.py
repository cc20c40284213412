"""BackpropMLPClassifier: validation and bookkeeping around the network's math."""

import copy
import numbers
import os
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import __version__
from ._activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from ._callbacks import CallbackSupportMixin, with_callbacks
from ._losses import LOSSES
from ._network import (
    FlatParameters,
    allocate_activations,
    forward_pass,
    initialize,
    loss_and_gradients,
)
from ._optimizers import make_optimizer
from ._progress import EpochProgressBar
from .exceptions import DivergenceError, InconsistentVersionWarning

_FLOAT_DTYPES = (np.float64, np.float32)

# Allowed values of each parameter: a tuple of options, or (type, low, high,
# closed) for numbers; checked at fit, never in __init__ (scikit-learn's rule).
_REAL = (numbers.Real,)
_INT = (numbers.Integral,)


class BackpropMLPClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """Multilayer perceptron classifier trained by minibatch backpropagation.

    A feed-forward network of fully connected layers, trained by the
    backpropagation algorithm written directly in NumPy. By default it is the
    network of the classic teaching notebook: sigmoid hidden units and
    independent sigmoid output units trained with binary cross-entropy on
    one-hot encoded labels; with ``output_activation='softmax'`` it is a
    softmax classifier trained with categorical cross-entropy.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(256,)
        Number of units of each hidden layer; any depth, including ``()``
        (no hidden layer: logistic regression).
    activation : {'logistic', 'tanh', 'relu', 'identity'}, default='logistic'
        Activation of the hidden units.
    output_activation : {'logistic', 'softmax'}, default='logistic'
        Output units and the loss paired with them. 'logistic': one
        independent sigmoid per class, binary cross-entropy summed over the
        outputs (the notebook's choice). 'softmax': softmax over the classes,
        categorical cross-entropy. Binary problems always use a single sigmoid
        output (equivalent to a two-class softmax), and multilabel problems
        always use sigmoids, which is reported by ``out_activation_``.
    solver : {'sgd', 'adam'}, default='sgd'
        'sgd': minibatch gradient descent with optional (Nesterov) momentum.
        'adam': the Adam optimiser of Kingma and Ba.
    alpha : float, default=1e-4
        Strength of the L2 penalty ``alpha / (2 sum(w)) * sum ||W||^2`` added to
        each minibatch's loss, with ``sum(w)`` the batch's total sample weight
        (the batch size when unweighted), as in scikit-learn's MLP.
    batch_size : int, default=100
        Number of samples per minibatch (the notebook's 100); clipped to the
        number of training samples.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Step-size schedule of 'sgd': fixed; ``learning_rate_init /
        (t + 1)**power_t`` with ``t`` the number of samples seen, updated after
        each epoch (as scikit-learn does); or
        divided by 5 whenever the monitored score stops improving for
        ``n_iter_no_change`` epochs (training stops when it drops below 1e-6).
    learning_rate_init : float, default=0.1
        Initial step size.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=20
        Maximum number of epochs (passes over the training data). For
        :meth:`partial_fit`, one call is one epoch. The default of 20 is what
        SGD with the default learning rate and momentum needs on MNIST to pass
        98 % test accuracy (see ``benchmarks/``); small or hard problems may
        need more, which a ``ConvergenceWarning`` signals.
    shuffle : bool, default=True
        Whether to reshuffle the training samples before each epoch.
    random_state : int, RandomState instance or None, default=None
        Controls the weight initialisation, the shuffling and the validation
        split of ``early_stopping``. Pass an int for reproducible results.
    tol : float, default=1e-4
        Minimum improvement of the training loss (or of the validation accuracy
        when ``early_stopping``) that counts as progress.
    verbose : bool or int, default=False
        Whether to print one line per epoch to standard output: training loss
        and accuracy, validation loss and accuracy when a validation set is
        used, and the epoch's seconds. With ``verbose >= 2`` a progress bar
        also shows the minibatches within each epoch when standard output is a
        terminal.
    warm_start : bool, default=False
        When True, :meth:`fit` starts from the current ``coefs_`` and
        ``intercepts_`` (including weights assigned to them by the user)
        instead of new random ones.
    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].
    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.
    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data (or
        use ``X_val`` when given to :meth:`fit`), stop when its accuracy stops
        improving by ``tol`` for ``n_iter_no_change`` epochs, and keep the
        weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping`` and no
        ``X_val`` is given. Stratified for single-label targets.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in [0, 1).
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in [0, 1).
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Number of epochs without an improvement of at least ``tol`` after which
        training stops (or, with ``learning_rate='adaptive'``, the step shrinks).
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into the sample weights: a dict
        ``{class_label: weight}``, or 'balanced' for
        ``n_samples / (n_classes * np.bincount(y))``. Not available for
        multilabel targets, nor 'balanced' in :meth:`partial_fit`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, ``arange(n_labels)``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` has string column
        names (a pandas DataFrame, for instance).
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (fan_in, fan_out) holds the weights from layer i
        to layer i + 1, in the dtype of the training data (float32 or float64).
    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape (fan_out,) holds the biases of layer i + 1.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units (1 for binary problems).
    out_activation_ : str
        Output activation in use: 'logistic' or 'softmax'.
    loss_ : float
        Training loss of the last epoch (mean over its minibatches, penalty
        included).
    loss_curve_ : list of float
        Training loss of each epoch.
    best_loss_ : float or None
        Lowest training loss reached; None when ``early_stopping``.
    train_scores_ : list of float
        Training accuracy of each epoch, accumulated over its minibatches
        while the weights were being updated (as Keras reports it).
    validation_scores_ : list of float or None
        Accuracy on the validation set after each epoch, when one is used
        (``early_stopping`` or ``X_val``); otherwise None.
    validation_loss_curve_ : list of float or None
        Loss on the validation set after each epoch (same loss as
        ``loss_curve_``, without the penalty), when one is used; else None.
    best_validation_score_ : float or None
        Best validation accuracy, when a validation set is used; else None.
    n_iter_ : int
        Number of epochs run (counting earlier calls with ``warm_start`` or
        :meth:`partial_fit`).
    t_ : int
        Number of training samples seen by the optimiser.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's multilayer perceptron.

    Notes
    -----
    With sigmoid outputs, the outputs of a single-label problem are independent
    probabilities that need not sum to one; :meth:`predict_proba` divides each
    row by its sum so that it does (for multilabel targets it returns the raw
    sigmoids). Float32 input is trained and predicted in float32 throughout;
    float64 stays float64; any other dtype is converted to float64.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_backprop import BackpropMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X / 16, y, random_state=0)
    >>> clf = BackpropMLPClassifier(max_iter=30, random_state=0)
    >>> clf.fit(X_train, y_train)
    BackpropMLPClassifier(max_iter=30, random_state=0)
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 10)
    >>> print(f"{clf.score(X_test, y_test):.2f}")
    0.9...
    """

    def __init__(
        self,
        hidden_layer_sizes=(256,),
        activation="logistic",
        *,
        output_activation="logistic",
        solver="sgd",
        alpha=1e-4,
        batch_size=100,
        learning_rate="constant",
        learning_rate_init=0.1,
        power_t=0.5,
        max_iter=20,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        class_weight=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight

    # ------------------------------------------------------------------
    # Parameter validation
    # ------------------------------------------------------------------
    _options = {
        "activation": HIDDEN_ACTIVATIONS,
        "output_activation": tuple(LOSSES),
        "solver": ("sgd", "adam"),
        "learning_rate": ("constant", "invscaling", "adaptive"),
    }
    # name: (type, low, high, low_closed, high_closed)
    _ranges = {
        "alpha": (_REAL, 0.0, np.inf, True, False),
        "batch_size": (_INT, 1, np.inf, True, False),
        "learning_rate_init": (_REAL, 0.0, np.inf, False, False),
        "power_t": (_REAL, 0.0, np.inf, True, False),
        "max_iter": (_INT, 1, np.inf, True, False),
        "tol": (_REAL, 0.0, np.inf, True, False),
        "momentum": (_REAL, 0.0, 1.0, True, True),
        "validation_fraction": (_REAL, 0.0, 1.0, False, False),
        "beta_1": (_REAL, 0.0, 1.0, True, False),
        "beta_2": (_REAL, 0.0, 1.0, True, False),
        "epsilon": (_REAL, 0.0, np.inf, False, False),
        "n_iter_no_change": (_INT, 1, np.inf, True, False),
    }
    _booleans = ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping")

    def _validate_params(self):
        """Check every parameter; raise naming it and its allowed values."""
        name = type(self).__name__
        for param, options in self._options.items():
            value = getattr(self, param)
            if not isinstance(value, str) or value not in options:
                raise ValueError(
                    f"The '{param}' parameter of {name} must be one of "
                    f"{sorted(options)}. Got {value!r} instead."
                )
        for param, (types, low, high, low_closed, high_closed) in self._ranges.items():
            value = getattr(self, param)
            if isinstance(value, bool) or not isinstance(value, types):
                kind = "an int" if types is _INT else "a float"
                raise TypeError(
                    f"The '{param}' parameter of {name} must be {kind}. "
                    f"Got {value!r} of type {type(value).__name__} instead."
                )
            above = value >= low if low_closed else value > low
            below = value <= high if high_closed else value < high
            if not (above and below):
                interval = (
                    f"{'[' if low_closed else '('}{low}, "
                    f"{high}{']' if high_closed else ')'}"
                )
                raise ValueError(
                    f"The '{param}' parameter of {name} must be in the range "
                    f"{interval}. Got {value!r} instead."
                )
        for param in self._booleans:
            value = getattr(self, param)
            if not isinstance(value, bool | np.bool_):
                raise TypeError(
                    f"The '{param}' parameter of {name} must be a bool. "
                    f"Got {value!r} instead."
                )
        if not isinstance(self.verbose, numbers.Integral):
            raise TypeError(
                f"The 'verbose' parameter of {name} must be a bool or an int. "
                f"Got {self.verbose!r} instead."
            )
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = list(sizes)
        except TypeError:
            sizes = None
        if sizes is None or not all(
            isinstance(size, numbers.Integral)
            and not isinstance(size, bool)
            and size > 0
            for size in sizes
        ):
            raise ValueError(
                f"The 'hidden_layer_sizes' parameter of {name} must be a positive "
                f"int or a sequence of positive ints. Got {self.hidden_layer_sizes!r} "
                "instead."
            )
        cw = self.class_weight
        if not (cw is None or cw == "balanced" or isinstance(cw, dict)):
            raise ValueError(
                f"The 'class_weight' parameter of {name} must be None, 'balanced' "
                f"or a dict mapping class labels to weights. Got {cw!r} instead."
            )
        return [int(size) for size in sizes]

    # ------------------------------------------------------------------
    # Target encoding
    # ------------------------------------------------------------------
    def _check_targets(self, y, reset, classes=None):
        """Validate y; on the first call learn ``classes_``; return y as given."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        target_type = type_of_target(y, input_name="y")
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"Unknown label type: {target_type!r}. {type(self).__name__} "
                "supports binary, multiclass and multilabel-indicator targets, "
                "not continuous or multiclass-multioutput ones."
            )
        multilabel = target_type == "multilabel-indicator"
        if reset:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
            elif classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
            else:
                self.classes_ = np.unique(y)
            if not multilabel and len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes "
                    f"in the data, but the data contains only one class: "
                    f"{self.classes_[0]!r}."
                )
        elif multilabel != self._multilabel or (
            multilabel and y.shape[1] != len(self.classes_)
        ):
            raise ValueError(
                "The type of target changed since the estimator was fitted: "
                f"got {target_type!r} with shape {y.shape}."
            )
        if not multilabel:
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that are not in "
                    f"classes_ {self.classes_.tolist()}; pass every label in "
                    "`classes` on the first call to partial_fit."
                )
        return y

    def _encode(self, y, dtype):
        """One-hot (or indicator) targets Y of shape (n_samples, n_outputs_)."""
        if self._multilabel:
            return np.asarray(y, dtype=dtype)
        indices = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return indices.astype(dtype).reshape(-1, 1)
        Y = np.zeros((len(y), len(self.classes_)), dtype=dtype)
        Y[np.arange(len(y)), indices] = 1
        return Y

    def _class_weight_factors(self, y):
        """Weight of each class in ``classes_`` from ``class_weight``, or None.

        Computed once from the training targets, then applied to the training
        and validation samples alike.
        """
        if self.class_weight is None:
            return None
        if self._multilabel:
            raise ValueError(
                "class_weight is not supported for multilabel targets; use "
                "sample_weight instead."
            )
        if isinstance(self.class_weight, dict):
            unknown = [c for c in self.class_weight if c not in set(self.classes_)]
            if unknown:
                raise ValueError(
                    f"class_weight names classes {unknown} that are not in the "
                    f"data's classes {self.classes_.tolist()}."
                )
        factors = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        if not np.all(np.isfinite(factors)) or np.any(factors < 0):
            raise ValueError(
                "class_weight values must be finite and non-negative; got "
                f"{self.class_weight!r}."
            )
        return factors

    def _sample_weights(self, X, y, sample_weight, dtype, *, name="sample_weight"):
        """Validated sample weights times class weights, as a 1-D array."""
        n_samples = X.shape[0]
        if sample_weight is None:
            weights = np.ones(n_samples, dtype=dtype)
        elif isinstance(sample_weight, numbers.Real):
            weights = np.full(n_samples, sample_weight, dtype=dtype)
            if not np.isfinite(sample_weight) or sample_weight < 0:
                raise ValueError(
                    f"{name} must be finite and non-negative; got {sample_weight!r}."
                )
        else:
            weights = check_array(
                sample_weight,
                ensure_2d=False,
                dtype=dtype,
                input_name=name,
                copy=True,
            )
            if weights.ndim != 1 or weights.shape[0] != n_samples:
                raise ValueError(
                    f"{name} has shape {weights.shape} but X has {n_samples} "
                    f"samples; expected shape ({n_samples},)."
                )
            if np.any(weights < 0):
                raise ValueError(f"{name} contains negative values.")
        if self._class_factors is not None:
            weights *= self._class_factors[np.searchsorted(self.classes_, y)]
        if not np.any(weights > 0):
            raise ValueError(
                f"{name} (times class_weight) is zero for every sample; at least "
                "one sample needs a positive weight."
            )
        return weights

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @with_callbacks
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Train the network on (X, y) for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is trained in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; integer weights are
            equivalent to repeating samples (exactly so with full batches).
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data, evaluated after every epoch (loss and accuracy
            in ``validation_loss_curve_`` and ``validation_scores_``). With
            ``early_stopping``, it replaces the held-out ``validation_fraction``.
        y_val : array-like of shape (n_val,) or (n_val, n_labels), default=None
            Labels of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : BackpropMLPClassifier
            The fitted estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
            incremental=False,
        )

    @with_callbacks
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of minibatch updates on (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            Every class that can appear in any call. Required on the first
            call unless ``y`` holds them all; ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : BackpropMLPClassifier
            The updated estimator.
        """
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which "
                "sees one chunk of data at a time; compute the weights once with "
                "sklearn.utils.class_weight.compute_class_weight and pass them "
                "as a dict."
            )
        return self._fit(
            X, y, sample_weight=sample_weight, classes=classes, incremental=True
        )

    def _fit(self, X, y, **kwargs):
        """Fit, or on an error leave the estimator as it was before the call.

        Bad input must lose nothing: attributes are set while validating, so
        on any error they are all put back. A divergence is the exception when
        training started afresh: the estimator then keeps the finite weights
        of its last completed epoch (see :class:`DivergenceError`).
        """
        continuing = (self.warm_start or kwargs["incremental"]) and hasattr(
            self, "coefs_"
        )
        state_before = {
            key: copy.deepcopy(value) if key == "_optimizer" else _shallow(value)
            for key, value in self.__dict__.items()
        }
        try:
            return self._fit_epochs(X, y, **kwargs)
        except BaseException as exc:
            if isinstance(exc, DivergenceError) and not continuing:
                raise
            # scikit-learn's callback decorator tears its callbacks down after
            # this returns, from the state it set up during the call: keep it.
            callback_state = {
                key: value
                for key, value in self.__dict__.items()
                if key in ("_callback_fit_ctx", "_skl_callbacks_to_teardown")
            }
            self.__dict__.clear()
            self.__dict__.update(state_before)
            self.__dict__.update(callback_state)
            raise

    def _fit_epochs(
        self,
        X,
        y,
        *,
        sample_weight=None,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
        classes=None,
        incremental,
    ):
        """Validate, set up the network and optimiser, and run the epochs."""
        hidden_sizes = self._validate_params()
        continuing = self.warm_start or incremental
        # Data and targets are learnt afresh unless a fitted model continues;
        # weights are drawn afresh unless coefs_ exist (fitted, or assigned by
        # the user to start from given weights, as in scikit-learn's MLP).
        reset = not (continuing and hasattr(self, "classes_"))
        new_weights = not (continuing and hasattr(self, "coefs_"))
        if sp.issparse(y):
            y = y.toarray()  # a sparse multilabel indicator matrix
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=_FLOAT_DTYPES,
            multi_output=True,
            reset=reset,
        )
        dtype = X.dtype
        y = self._check_targets(y, reset, classes)
        self._class_factors = self._class_weight_factors(y)
        weights = self._sample_weights(X, y, sample_weight, dtype)
        if sp.issparse(X):
            X = X.tocsr()  # row slicing of minibatches is cheap in CSR only
        if reset or not hasattr(self, "_rng"):
            self._rng = check_random_state(self.random_state)

        validation = self._validation_data(X_val, y_val, sample_weight_val, dtype)
        if validation is not None and incremental:
            raise ValueError("partial_fit does not take a validation set.")
        if self.early_stopping and not incremental and validation is None:
            X, y, weights, validation = self._hold_out(X, y, weights)

        layer_units = [X.shape[1], *hidden_sizes, self._n_outputs()]
        if reset or new_weights:
            self._reset_bookkeeping(layer_units)
        if new_weights:
            params = FlatParameters(layer_units, dtype)
            initialize(params, self.activation, self.out_activation_, self._rng)
            self.coefs_, self.intercepts_ = params.coefs, params.intercepts
        params = self._pack_params(layer_units, dtype)
        signature = (params.flat.size, dtype.name, self.solver)
        if not incremental or getattr(self, "_optimizer_signature", None) != signature:
            self._optimizer = make_optimizer(self, params.flat.size, dtype)
            self._optimizer_signature = signature

        Y = self._encode(y, dtype)
        max_iter = 1 if incremental else self.max_iter
        # Root task of scikit-learn's callbacks (>= 1.9): one subtask per epoch.
        callback_ctx = self._init_callback_context(max_subtasks=max_iter)
        metadata = {"sample_weight": weights} if sample_weight is not None else None
        callback_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
        self._run_epochs(
            X,
            Y,
            weights,
            params,
            validation,
            max_iter,
            incremental,
            callback_ctx=callback_ctx,
            y=y,
            metadata=metadata,
        )
        callback_ctx.call_on_fit_task_end(
            estimator=self,
            X=X,
            y=y,
            metadata=metadata,
            reconstruction_attributes={},
        )
        return self

    def _reconstruction_attributes(self):
        """Fitted attributes of the current epoch, copied (coefs_ are live views)."""
        return {
            "coefs_": [coef.copy() for coef in self.coefs_],
            "intercepts_": [b.copy() for b in self.intercepts_],
            "n_iter_": self.n_iter_,
            "t_": self.t_,
            "loss_": self.loss_,
            "loss_curve_": list(self.loss_curve_),
            "train_scores_": list(self.train_scores_),
        }

    def _validation_data(self, X_val, y_val, sample_weight_val, dtype):
        """Validate an explicit validation set; None when there is none."""
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together.")
        if X_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val is given without X_val and y_val.")
            return None
        X_val = validate_data(
            self, X_val, accept_sparse=["csr", "csc"], dtype=dtype, reset=False
        )
        if sp.issparse(X_val):
            X_val = X_val.tocsr()
        if sp.issparse(y_val):
            y_val = y_val.toarray()
        y_val = self._check_targets(np.asarray(y_val), reset=False)
        if X_val.shape[0] != y_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has "
                f"{y_val.shape[0]}; they must have the same length."
            )
        weights_val = self._sample_weights(
            X_val, y_val, sample_weight_val, dtype, name="sample_weight_val"
        )
        return X_val, y_val, weights_val

    def _hold_out(self, X, y, weights):
        """Split off ``validation_fraction`` of the data for early stopping."""
        n_held = int(np.ceil(self.validation_fraction * X.shape[0]))
        counts = np.unique(y, return_counts=True)[1]
        # Stratify when every class can appear on both sides of the split.
        can_stratify = not self._multilabel and (
            counts.min() >= 2 and min(n_held, X.shape[0] - n_held) >= len(counts)
        )
        if n_held >= X.shape[0]:
            raise ValueError(
                "early_stopping needs at least one training and one validation "
                f"sample; got {X.shape[0]} samples with validation_fraction="
                f"{self.validation_fraction}."
            )
        X, X_held, y, y_held, weights, weights_held = train_test_split(
            X,
            y,
            weights,
            test_size=n_held,
            random_state=self._rng,
            stratify=y if can_stratify else None,
        )
        for part, part_weights in (("training", weights), ("validation", weights_held)):
            if not np.any(part_weights > 0):
                raise ValueError(
                    f"early_stopping's {part} split has zero total sample_weight; "
                    "give more samples a positive weight or pass X_val and y_val."
                )
        return X, y, weights, (X_held, y_held, weights_held)

    def _n_outputs(self):
        if self._multilabel:
            return len(self.classes_)
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _reset_bookkeeping(self, layer_units):
        """Layer layout and training history of a model that starts afresh."""
        self.n_layers_ = len(layer_units)
        self.n_outputs_ = layer_units[-1]
        if self._multilabel or self.n_outputs_ == 1:
            self.out_activation_ = "logistic"
        else:
            self.out_activation_ = self.output_activation
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.train_scores_ = []
        self._no_improvement_count = 0
        self._best_loss = np.inf
        self._best_params = None
        self._optimizer_signature = None
        self.validation_scores_ = None
        self.validation_loss_curve_ = None
        self.best_validation_score_ = None

    def _pack_params(self, layer_units, dtype):
        """Copy the current ``coefs_``/``intercepts_`` into one flat buffer.

        Reading the public attributes on every call (rather than a private
        cached buffer) is what makes weights assigned by the user take effect
        with ``warm_start``; afterwards ``coefs_`` are views into the buffer.
        """
        expected = list(zip(layer_units, layer_units[1:]))
        got_coefs = [np.shape(coef) for coef in self.coefs_]
        got_intercepts = [np.shape(b) for b in self.intercepts_]
        if got_coefs != expected or got_intercepts != [(o,) for _, o in expected]:
            raise ValueError(
                "coefs_ and intercepts_ do not match the network's layer sizes "
                f"{layer_units}: got coefs_ shapes {got_coefs} and intercepts_ "
                f"shapes {got_intercepts}. Use warm_start=False to start afresh."
            )
        params = FlatParameters.from_arrays(
            [np.asarray(c) for c in self.coefs_],
            [np.asarray(b) for b in self.intercepts_],
            dtype,
        )
        if not np.all(np.isfinite(params.flat)):
            raise ValueError("coefs_ or intercepts_ contain NaN or infinity.")
        self.coefs_, self.intercepts_ = params.coefs, params.intercepts
        return params

    def _run_epochs(
        self,
        X,
        Y,
        weights,
        params,
        validation,
        max_iter,
        incremental,
        *,
        callback_ctx,
        y,
        metadata,
    ):
        """The training loop: up to ``max_iter`` epochs, with their bookkeeping.

        An epoch changes the estimator's history only once it has completed
        (training and validation); an interruption before that restores the
        weights and optimiser state of the last completed epoch.
        """
        n_samples = X.shape[0]
        workspace = _Workspace(X, Y, params, min(self.batch_size, n_samples))
        total_weight = float(weights.sum())
        if validation is not None and self.validation_scores_ is None:
            self.validation_scores_, self.validation_loss_curve_ = [], []
        indices = np.arange(n_samples)
        last_good = params.flat.copy()  # the weights of the last completed epoch
        for epoch in range(1, max_iter + 1):
            start_time = time.perf_counter()
            epoch_ctx = callback_ctx.subcontext(task_name="epoch")
            epoch_ctx.call_on_fit_task_begin(
                estimator=self, X=X, y=y, metadata=metadata
            )
            optimizer_before = copy.deepcopy(self._optimizer)  # small: 1-2 vectors
            try:
                if self.shuffle:
                    self._rng.shuffle(indices)
                epoch_loss, epoch_correct = self._train_epoch(
                    X, Y, weights, indices, params, workspace
                )
                if self._diverged(epoch_loss, params, workspace):
                    params.flat[...] = last_good
                    raise DivergenceError(
                        f"The training loss or the network's outputs became "
                        f"infinite or NaN in epoch {self.n_iter_ + 1}: the "
                        "optimisation diverged. Lower learning_rate_init (now "
                        f"{self.learning_rate_init}) or scale the inputs (for "
                        "example with sklearn.preprocessing.StandardScaler, or "
                        "pixels divided by 255). The estimator keeps finite "
                        "weights: those of its last completed epoch, or with "
                        "warm_start and partial_fit those from before the call."
                    )
                val_loss, val_score = (
                    self._validation_scores(*validation)
                    if validation is not None
                    else (None, None)
                )
            except KeyboardInterrupt:
                params.flat[...] = last_good
                self._optimizer = optimizer_before
                warnings.warn(
                    f"Training interrupted during epoch {self.n_iter_ + 1}; the "
                    "estimator keeps the weights of the last completed epoch and "
                    "can resume with warm_start=True or partial_fit.",
                    UserWarning,
                    stacklevel=_caller_stacklevel(),
                )
                epoch_ctx.call_on_fit_task_end(estimator=self)  # pair the hooks
                break
            # The epoch is complete: record it.
            last_good[...] = params.flat
            self.n_iter_ += 1
            self.t_ += n_samples
            self.loss_ = epoch_loss / total_weight
            self.loss_curve_.append(self.loss_)
            self.train_scores_.append(epoch_correct / total_weight)
            if validation is not None:
                self.validation_loss_curve_.append(val_loss)
                self.validation_scores_.append(val_score)
            if self.verbose:
                seconds = time.perf_counter() - start_time
                print(self._progress_line(epoch, max_iter, seconds), flush=True)
            self._optimizer.iteration_ends(self.t_)
            stop_requested = epoch_ctx.call_on_fit_task_end(
                estimator=self,
                X=X,
                y=y,
                metadata=metadata,
                reconstruction_attributes=self._reconstruction_attributes,
            )
            if not incremental and self._update_no_improvement_count(params):
                break
            if stop_requested:
                break
        else:
            if not incremental:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=_caller_stacklevel(),
                )
        if self.early_stopping and not incremental and self._best_params is not None:
            params.flat[...] = self._best_params  # keep the best epoch's weights
        self.best_loss_ = None if self.early_stopping else self._best_loss

    def _diverged(self, epoch_loss, params, workspace):
        """Whether the epoch's loss, weights, or outputs are no longer finite.

        Weights can stay finite while the outputs they produce overflow (float32
        tops out at 3.4e38), so the last minibatch is run once more through the
        updated network: one extra forward pass per epoch.
        """
        if not (np.isfinite(epoch_loss) and np.all(np.isfinite(params.flat))):
            return True
        if workspace.last_batch is None:
            return False
        with np.errstate(over="ignore", invalid="ignore"):
            outputs = forward_pass(
                params.coefs,
                params.intercepts,
                workspace.last_batch,
                workspace.activations,
                self.activation,
            )
            return not np.all(np.isfinite(outputs))

    def _train_epoch(self, X, Y, weights, indices, params, workspace):
        """One pass of minibatch updates in the order of ``indices``.

        Returns the epoch's summed (weight-scaled) loss and its weighted count of
        correct predictions; a non-finite loss ends the epoch at once.
        """
        epoch_loss = epoch_correct = 0.0
        n_batches = -(-X.shape[0] // workspace.batch_size)
        progress = EpochProgressBar(n_batches) if self.verbose >= 2 else None
        # Saturated units may overflow harmlessly (exp(-z) = inf gives a
        # sigmoid of exactly 0); divergence is detected on the loss instead.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for batch, start in enumerate(range(0, X.shape[0], workspace.batch_size)):
                if progress is not None:
                    progress.update(batch)
                Xb, Yb, wb = workspace.gather(X, Y, weights, indices, start)
                batch_weight = float(wb.sum())
                if batch_weight == 0:
                    continue  # only zero-weight samples: no gradient
                batch_loss = loss_and_gradients(
                    params,
                    workspace.grads,
                    Xb,
                    Yb,
                    wb,
                    self.activation,
                    self.out_activation_,
                    self.alpha,
                    workspace.activations,
                    workspace.deltas,
                )
                if not np.isfinite(batch_loss):
                    return batch_loss, epoch_correct
                epoch_loss += batch_loss * batch_weight
                outputs = workspace.activations[-1][: Xb.shape[0]]
                epoch_correct += float(
                    wb @ _correct(outputs, Yb, self._multilabel, 0.5)
                )
                self._optimizer.update_params(params.flat, workspace.grads.flat)
        if progress is not None:
            progress.close()
        return epoch_loss, epoch_correct

    def _update_no_improvement_count(self, params):
        """Track progress after an epoch; return True when training should stop.

        Progress is the validation accuracy with ``early_stopping`` (whose best
        weights are kept), else the training loss, as in scikit-learn's MLP.
        """
        if self.validation_scores_ is not None and len(self.validation_scores_):
            score = self.validation_scores_[-1]
            previous_best = self.best_validation_score_
            if previous_best is None or score > previous_best:
                self.best_validation_score_ = score
        if self.early_stopping:
            # Compare with the best *before* this epoch, as scikit-learn does.
            if previous_best is not None and score < previous_best + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if previous_best is None or score > previous_best:
                self._best_params = params.flat.copy()
        else:
            if self.loss_curve_[-1] > self._best_loss - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
        self._best_loss = min(self._best_loss, self.loss_curve_[-1])
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        monitored = "Validation score" if self.early_stopping else "Training loss"
        msg = (
            f"{monitored} did not improve more than tol={self.tol} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        if self._optimizer.trigger_stopping(msg, self.verbose):
            return True
        self._no_improvement_count = 0
        return False

    def _validation_scores(self, X_val, y_val, weights_val):
        """Loss and accuracy of the current weights on the validation set."""
        Y_val = self._encode(y_val, self.coefs_[0].dtype)
        Z = self._output_preactivations(X_val)
        total = float(weights_val.sum())
        loss = LOSSES[self.out_activation_]
        with np.errstate(over="ignore", invalid="ignore"):
            val_loss = float(weights_val @ loss.fn(Y_val, Z)) / total
        val_score = float(weights_val @ _correct(Z, Y_val, self._multilabel, 0.0))
        return val_loss, val_score / total

    def _progress_line(self, epoch, max_iter, seconds):
        """The per-epoch report: the notebook's four figures and the time."""
        line = (
            f"Epoch {epoch}/{max_iter} - loss: {self.loss_curve_[-1]:.4f}"
            f" - accuracy: {self.train_scores_[-1]:.4f}"
        )
        if self.validation_scores_ is not None and len(self.validation_scores_):
            line += (
                f" - val_loss: {self.validation_loss_curve_[-1]:.4f}"
                f" - val_accuracy: {self.validation_scores_[-1]:.4f}"
            )
        return line + f" - {seconds:.2f}s"

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    # Rows per chunk at prediction time: the hidden buffers of a chunk stay in
    # cache and memory stays bounded whatever the number of samples.
    _predict_chunk_size = 4096

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        # Values beyond float32's range become inf in the cast, which the
        # finiteness check then reports clearly; the cast itself stays quiet.
        with np.errstate(over="ignore"):
            X = validate_data(
                self,
                X,
                accept_sparse=["csr", "csc"],
                dtype=self.coefs_[0].dtype,
                reset=False,
            )
        return X.tocsr() if sp.issparse(X) else X

    def _output_preactivations(self, X):
        """z_L for every row of a validated X, computed in chunks.

        Buffers are local to the call, so concurrent predictions on one fitted
        model never share memory.
        """
        coefs, intercepts = self.coefs_, self.intercepts_
        dtype = coefs[0].dtype
        layer_units = [coefs[0].shape[0]] + [coef.shape[1] for coef in coefs]
        n_samples = X.shape[0]
        chunk = min(self._predict_chunk_size, max(n_samples, 1))
        activations = allocate_activations(layer_units, chunk, dtype)
        Z = np.empty((n_samples, layer_units[-1]), dtype=dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n_samples, chunk):
                rows = slice(start, min(start + chunk, n_samples))
                Z[rows] = forward_pass(
                    coefs, intercepts, X[rows], activations, self.activation
                )
        if not np.all(np.isfinite(Z)):
            if np.any(np.isnan(Z)):
                raise ValueError(
                    "The network's outputs overflowed to NaN on this input (its "
                    f"values reach {abs(X).max():.3g}); scale the inputs as the "
                    "training data was scaled, or train in float64."
                )
            # An output of +-inf is a certain class: keep it finite so that
            # probabilities and log-probabilities stay well defined.
            finite_max = np.finfo(dtype).max
            np.clip(Z, -finite_max, finite_max, out=Z)
        return Z

    def predict(self, X):
        """Predict class labels (or a label indicator matrix for multilabel).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels.
        """
        Z = self._output_preactivations(self._validate_X_predict(X))
        # sigmoid and softmax are increasing, so thresholds and argmax can be
        # taken on z directly: sigmoid(z) > 1/2 exactly when z > 0.
        if self._multilabel:
            return (Z > 0).astype(int)
        if Z.shape[1] == 1:
            return self.classes_[(Z[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(Z, axis=1)]

    def predict_proba(self, X):
        """Probability estimates.

        With sigmoid outputs on a single-label problem, each row of sigmoids is
        divided by its sum so that rows sum to one; multilabel targets get the
        raw sigmoids.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, in the order of ``classes_``, in the dtype of
            the weights.
        """
        Z = self._output_preactivations(self._validate_X_predict(X))
        if self.out_activation_ == "softmax":
            ACTIVATIONS["softmax"](Z)
            return Z
        if self._multilabel:
            expit(Z, out=Z)
            return Z
        if Z.shape[1] == 1:
            expit(Z, out=Z)
            return np.hstack([1 - Z, Z])
        # Normalise the sigmoids in the log domain: sigmoid(z_k) / sum_j
        # sigmoid(z_j) = softmax_k(log sigmoid(z)), which never divides 0 by 0
        # when every sigmoid of a row underflows.
        np.logaddexp(0, -Z, out=Z)
        np.negative(Z, out=Z)  # log sigmoid(z) = -log(1 + exp(-z))
        ACTIVATIONS["softmax"](Z)
        return Z

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates, computed stably.

        Computed from the output pre-activations (log-sigmoid and log-sum-exp),
        so it stays finite where :meth:`predict_proba` rounds to 0 or 1.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, in the order of ``classes_``.
        """
        Z = self._output_preactivations(self._validate_X_predict(X))
        if self.out_activation_ == "softmax":
            return Z - logsumexp(Z, axis=1, keepdims=True)
        log_sigmoid = -np.logaddexp(0, -Z)  # log sigmoid(z) = -log(1 + exp(-z))
        if self._multilabel:
            return log_sigmoid
        if Z.shape[1] == 1:
            # log(1 - sigmoid(z)) = log sigmoid(-z) = -log(1 + exp(z))
            return np.hstack([-np.logaddexp(0, Z), log_sigmoid])
        return log_sigmoid - logsumexp(log_sigmoid, axis=1, keepdims=True)

    def __getstate__(self):
        state = dict(super().__getstate__())  # never the live __dict__
        state["_sklearn_backprop_version"] = __version__
        return state

    def __setstate__(self, state):
        saved_version = state.pop("_sklearn_backprop_version", "unknown")
        if saved_version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=__version__,
                    original_version=saved_version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags


def _shallow(value):
    """A copy of a list attribute (histories grow in place), else the value."""
    return list(value) if isinstance(value, list) else value


def _caller_stacklevel():
    """Stack level of the first frame outside this package and sklearn.callback.

    Warnings raised in the training loop then point at the user's ``fit`` call,
    however many wrappers (scikit-learn's callback decorator) sit in between.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE_DIR)
        or f"sklearn{os.sep}callback{os.sep}" in frame.f_code.co_filename
    ):
        frame, level = frame.f_back, level + 1
    return level


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _correct(outputs, Y, multilabel, threshold):
    """1.0 where the prediction from ``outputs`` matches the targets Y.

    ``outputs`` are pre-activations (``threshold=0``) or sigmoid/softmax
    outputs (``threshold=0.5``); both order the classes the same way.
    """
    if multilabel:
        return np.all((outputs > threshold) == (Y > 0.5), axis=1).astype(Y.dtype)
    if outputs.shape[1] == 1:
        return ((outputs[:, 0] > threshold) == (Y[:, 0] > 0.5)).astype(Y.dtype)
    return (np.argmax(outputs, axis=1) == np.argmax(Y, axis=1)).astype(Y.dtype)


class _Workspace:
    """Buffers of one training call, reused by every minibatch.

    Nothing is allocated per minibatch except NumPy's small temporaries: the
    minibatch rows are gathered into a fixed buffer with ``np.take(out=...)``
    (never a copy of all of X per epoch), and each layer has one activation and
    one delta buffer. The workspace lives only for one ``fit`` call, so it is
    never shared between threads or pickled with the model.
    """

    def __init__(self, X, Y, params, batch_size):
        dtype = params.flat.dtype
        layer_units = [X.shape[1]] + [coef.shape[1] for coef in params.coefs]
        self.batch_size = batch_size
        self.activations = allocate_activations(layer_units, batch_size, dtype)
        self.deltas = allocate_activations(layer_units, batch_size, dtype)
        self.grads = FlatParameters(layer_units, dtype)
        self.sparse_input = sp.issparse(X)
        self.X = (
            None if self.sparse_input else np.empty((batch_size, X.shape[1]), dtype)
        )
        self.Y = np.empty((batch_size, Y.shape[1]), dtype)
        self.weights = np.empty(batch_size, dtype)
        self.last_batch = None

    def gather(self, X, Y, weights, indices, start):
        """The minibatch of rows ``indices[start:start + batch_size]``."""
        batch = indices[start : start + self.batch_size]
        n_rows = len(batch)
        if self.sparse_input:
            Xb = X[batch]  # CSR row selection copies only the selected rows
        else:
            Xb = np.take(X, batch, axis=0, out=self.X[:n_rows])
        Yb = np.take(Y, batch, axis=0, out=self.Y[:n_rows])
        wb = np.take(weights, batch, out=self.weights[:n_rows])
        self.last_batch = Xb
        return Xb, Yb, wb
