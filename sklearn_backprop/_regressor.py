"""BackpropMLPRegressor: the regression head of the trainer.

What a regressor adds to :class:`~sklearn_backprop._base.BaseBackpropMLP`:
real-valued targets (one or several outputs) used as they are, identity
outputs with the squared error (or exponential outputs with the Poisson
deviance), and R² as the score.
"""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, column_or_1d

from ._activations import ACTIVATIONS
from ._array_api import astype, float_dtypes, get_namespace, is_numpy, to_numpy
from ._base import BaseBackpropMLP, check_stochastic_solver, store_init_params
from ._docstrings import fill_docstring
from ._losses import REGRESSION_OUTPUTS


@fill_docstring(score="R²")
class BackpropMLPRegressor(RegressorMixin, BaseBackpropMLP):
    """Multilayer perceptron regressor trained by backpropagation.

    The same network and solvers as
    :class:`~sklearn_backprop.BackpropMLPClassifier`, with a linear (identity)
    output layer trained on the squared error: the loss of a minibatch is
    ``1/2 sum_i w_i ||y_i - yhat_i||^2 / sum_i w_i`` plus the L2 penalty,
    and the output error backpropagated is ``delta_out = yhat - y``. It takes
    every parameter of scikit-learn's
    :class:`~sklearn.neural_network.MLPRegressor`, with the same defaults, and
    adds a validation set with per-epoch curves and the hidden layers as
    features (:meth:`transform`).

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        'squared_error': identity outputs and half the squared error. 'poisson':
        exponential outputs ``yhat = exp(z)`` and half the Poisson deviance
        ``y log(y / yhat) - y + yhat``, for counts and other non-negative
        targets. For both, ``delta_out = yhat - y``.
    {{hidden_layer_sizes}}
    {{activation}}
    {{training_parameters}}
    {{transform_layer}}

    Attributes
    ----------
    {{fitted_attributes}}

    See Also
    --------
    BackpropMLPClassifier : The classification head of the same trainer.
    sklearn.neural_network.MLPRegressor : scikit-learn's multilayer perceptron.

    Notes
    -----
    Scale the inputs and, for large targets, the targets too (for example
    with :class:`~sklearn.compose.TransformedTargetRegressor`): the squared
    error grows with the square of the targets' scale, and so do the steps of
    'sgd'.

    Where it deliberately differs from scikit-learn's MLPRegressor: for
    several outputs, ``loss_curve_`` and ``loss_`` sum the squared error over
    the outputs (the loss whose gradient both compute), where scikit-learn
    reports its mean over the outputs; the per-epoch ``verbose`` lines report
    training and validation loss and R²; and ``loss_curve_``,
    ``train_scores_`` and the validation curves are also recorded by 'lbfgs'.
    Unless the hidden units are sigmoids (which start as the classifier's),
    it starts from scikit-learn's weights for the same ``random_state``, so
    that 'sgd' and 'adam' reach scikit-learn's model up to rounding.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_backprop import BackpropMLPRegressor
    >>> X, y = make_friedman1(n_samples=1000, random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> reg = BackpropMLPRegressor(solver="lbfgs", max_iter=500, random_state=0)
    >>> reg.fit(X_train, y_train)
    BackpropMLPRegressor(max_iter=500, random_state=0, solver='lbfgs')
    >>> print(f"{reg.score(X_test, y_test):.2f}")
    0.9...
    """

    _parameter_constraints: dict = {
        **BaseBackpropMLP._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_OUTPUTS))],
    }
    _score_name = "r2"

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        warmup_fraction=0.1,
        max_iter=200,
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
        max_fun=15000,
        transform_layer=-1,
    ):
        store_init_params(self, locals())

    @available_if(check_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of minibatch updates on (X, y).

        With ``learning_rate='one_cycle'`` (the classifier's default), each
        call is one epoch of a cycle of ``max_iter`` calls, after which the
        next call starts a new cycle: set ``max_iter`` to the number of calls
        planned, or pass ``learning_rate='constant'``, for a loop of another
        length. The optimiser's settings (schedule, step, ``max_iter`` as the
        cycle's length) are read on the first call; ``set_params`` between
        calls does not change them, as in scikit-learn.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : BackpropMLPRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    def _validate_targets(self, y, *, reset, call, classes=None):
        """Real-valued targets, one or several columns."""
        name = "y_val" if call == "y_val" else "y"
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name=name)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim not in (1, 2):
            raise ValueError(f"{name} must be 1-D or 2-D; got shape {y.shape}.")
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                f"loss='poisson' needs non-negative targets, but {name} has "
                "negative values."
            )
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self.n_outputs_ = n_outputs
        elif n_outputs != self.n_outputs_:
            raise ValueError(
                f"{name} has {n_outputs} output(s) but {type(self).__name__} was "
                f"fitted with {self.n_outputs_}."
            )
        return y

    def _encode_targets(self, y, dtype):
        """Y of shape (n_samples, n_outputs): the targets, in the network's dtype."""
        return np.asarray(y, dtype=dtype).reshape(len(y), -1)

    def _output_activation(self):
        return REGRESSION_OUTPUTS[self.loss]

    # ------------------------------------------------------------------
    # Scores and prediction
    # ------------------------------------------------------------------
    def _running_score(self, Y, weights):
        return _RunningR2(Y, weights)

    def _score_predictions(self, y, y_pred, sample_weight):
        return float(r2_score(y, y_pred, sample_weight=sample_weight))

    def _predict_from_preactivations(self, Z):
        with np.errstate(over="ignore"):
            ACTIVATIONS[self.out_activation_](Z)  # yhat = z, or exp(z) for poisson
        if Z.shape[1] == 1:
            return get_namespace(Z).reshape(Z, (-1,))
        return Z

    def predict(self, X):
        """Predict the targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values, in the dtype of the weights; 1-D when the model
            has a single output.
        """
        Z = self._output_preactivations(self._validate_X_predict(X, "predict"))
        return self._predict_from_preactivations(Z)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class _RunningR2:
    """R² over an epoch's minibatches, averaged over outputs as r2_score does.

    The total sum of squares is that of the whole training set around its
    weighted mean, computed once; the residual sum of squares accumulates
    batch by batch from the outputs computed on the way to each update.
    """

    def __init__(self, Y, weights):
        # In float64 where the device has it; another namespace's residuals
        # accumulate on its device and are read once per epoch.
        xp = self.xp = get_namespace(Y)
        self.dtype = np.float64 if is_numpy(xp) else float_dtypes(xp, Y.device)[0]
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
