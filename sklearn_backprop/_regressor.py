"""BackpropMLPRegressor: the regression head of the trainer.

What a regressor adds to :class:`~sklearn_backprop._base.BaseBackpropMLP`:
real-valued targets (one or several outputs) used as they are, identity
outputs with the squared error (or exponential outputs with the Poisson
deviance), and R² as the score.
"""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, column_or_1d

from ._base import BaseBackpropMLP, check_stochastic_solver, store_init_params
from ._coding import TargetCoding
from ._docstrings import fill_docstring
from ._losses import REGRESSION_OUTPUTS


@fill_docstring(score="R²")
class BackpropMLPRegressor(RegressorMixin, BaseBackpropMLP):
    """Multilayer perceptron regressor trained by backpropagation.

    The same network and solvers as
    :class:`~sklearn_backprop.BackpropMLPClassifier`, with a linear (identity)
    output layer trained on the squared error of standardised targets: the
    loss of a minibatch is ``1/2 sum_i w_i ||y'_i - yhat'_i||^2 / sum_i w_i``
    plus the L2 penalty, with ``y' = (y - target_mean_) / target_scale_``,
    and the output error backpropagated is ``delta_out = yhat' - y'``;
    predictions are in the units of ``y``. By default it trains scikit-learn's
    network (100 ReLU units) with Adam on a one-cycle schedule whose length
    adapts to the data (see ``max_iter``). It takes every parameter of
    scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`, and adds
    target standardisation, a validation set with per-epoch curves and the
    hidden layers as features (:meth:`transform`).

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
    standardize_target : bool, default=True
        Whether the network learns the targets standardised, each column
        centred on its mean and divided by its standard deviation (a column
        of constant targets by 1), learnt by the call that starts the model
        (:meth:`fit`, or the first :meth:`partial_fit`) from its unweighted
        targets, as :class:`~sklearn.compose.TransformedTargetRegressor` with
        a :class:`~sklearn.preprocessing.StandardScaler` does. Predictions
        and scores are in the units of ``y``; ``loss_``, ``loss_curve_``,
        ``best_loss_`` and ``validation_loss_curve_`` are in standardised
        units. False trains on ``y`` as it is, as scikit-learn's
        MLPRegressor does: with scikit-learn's other hyperparameters
        (``learning_rate='constant'``, ``learning_rate_init=0.001``,
        ``max_iter=200``) and the same ``random_state``, the same model up to
        rounding. Ignored (no scaling) with ``loss='poisson'``, whose
        targets are counts.
    {{transform_layer}}

    Attributes
    ----------
    target_mean_ : ndarray of shape (n_outputs,) or None
        Mean of each target column, subtracted before training; None when
        the targets are not standardised.
    target_scale_ : ndarray of shape (n_outputs,) or None
        Standard deviation of each target column (1 for a constant one),
        divided into the centred targets; None when they are not
        standardised.
    {{fitted_attributes}}

    See Also
    --------
    BackpropMLPClassifier : The classification head of the same trainer.
    sklearn.neural_network.MLPRegressor : scikit-learn's multilayer perceptron.

    Notes
    -----
    Scale the inputs (for example with
    :class:`~sklearn.preprocessing.StandardScaler`); the targets are
    standardised inside (``standardize_target``): with raw targets the
    squared error grows with the square of their scale, and so do the steps
    of 'sgd' (scikit-learn's ``MLPRegressor()`` ends with an R² of -1.03 on
    the diabetes data's targets, 25 to 346; this regressor's defaults 0.46,
    by 5-fold cross-validation).

    Where it deliberately differs from scikit-learn's MLPRegressor: for
    several outputs, ``loss_curve_`` and ``loss_`` sum the squared error over
    the outputs (the loss whose gradient both compute), where scikit-learn
    reports its mean over the outputs; the targets are standardised, and the
    defaults are a one-cycle schedule of adaptive length (see above); the
    per-epoch ``verbose`` lines report
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
    >>> reg = BackpropMLPRegressor(max_iter=200, random_state=0)
    >>> reg.fit(X_train, y_train)
    BackpropMLPRegressor(max_iter=200, random_state=0)
    >>> print(f"{reg.score(X_test, y_test):.2f}")
    0.9...
    """

    _parameter_constraints: dict = {
        **BaseBackpropMLP._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_OUTPUTS))],
        "standardize_target": ["boolean"],
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
        learning_rate="one_cycle",
        learning_rate_init="auto",
        power_t=0.5,
        warmup_fraction=0.1,
        max_iter="auto",
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
        standardize_target=True,
        transform_layer=-1,
    ):
        store_init_params(self, locals())

    @available_if(check_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of minibatch updates on (X, y).

        {{partial_fit_schedule}}

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
        return self._partial_fit(X, y, sample_weight)

    def _targets(self, y, *, coding, call, classes=None):
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
        if coding is None:
            coding = TargetCoding(n_outputs, REGRESSION_OUTPUTS[self.loss])
        elif n_outputs != coding.n_outputs:
            raise ValueError(
                f"{name} has {n_outputs} output(s) but {type(self).__name__} was "
                f"fitted with {coding.n_outputs}."
            )
        return y, coding

    def _learnt_coding(self, coding, y, weights, backend, dtype):
        """The coding of a new model, its targets standardised (weighted by
        the sample weights) unless ``standardize_target`` is off."""
        # Poisson targets are counts: their scale is the model's, kept.
        if self.standardize_target and self.loss == "squared_error":
            return coding.standardized(y, weights, backend, dtype)
        return coding

    @property
    def _coding(self):
        return TargetCoding(
            self.n_outputs_,
            self.out_activation_,
            getattr(self, "target_mean_", None),
            getattr(self, "target_scale_", None),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
