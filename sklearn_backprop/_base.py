"""The trainer that every estimator of the family shares.

:class:`BaseBackpropMLP` validates the data and the parameters, builds the
network, runs a solver (minibatch epochs or full-batch L-BFGS) with its
bookkeeping (training and validation curves, early stopping, callbacks,
rollback on failure), predicts in chunks, exposes the hidden layers through
``transform`` and pickles with its version. It knows nothing about labels: a
head (:class:`~sklearn_backprop.BackpropMLPClassifier`,
:class:`~sklearn_backprop.BackpropMLPRegressor`) encodes the targets, picks the
output activation and loss, and scores.
"""

import copy
import numbers
import os
import sys
import time
import warnings
from abc import ABCMeta, abstractmethod
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import __version__
from ._activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from ._array_api import (
    all_finite,
    asarray,
    copy_array,
    float_dtypes,
    float_value,
    get_namespace,
    input_namespace,
    is_numpy,
    namespace_and_device,
    numpy_dtype,
    to_namespace,
    to_numpy,
)
from ._callbacks import CallbackSupportMixin, IterationCallbacks
from ._lbfgs import CONVERGED, FullBatchObjective
from ._lbfgs import minimize as minimize_lbfgs
from ._losses import LOSSES
from ._minibatch import Workspace, train_epoch
from ._network import FlatParameters, allocate_activations, forward_pass, initialize
from ._optimizers import make_optimizer
from .exceptions import DivergenceError, InconsistentVersionWarning

_FLOAT_DTYPES = (np.float64, np.float32)
STOCHASTIC_SOLVERS = ("sgd", "adam")


def store_init_params(estimator, arguments):
    """Store each ``__init__`` argument, unchanged, as an attribute of its name.

    scikit-learn's rule: ``__init__`` validates and computes nothing; ``fit``
    does. Both heads call this with ``locals()``, so that the list of
    parameters is written once, in each head's signature.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def check_stochastic_solver(estimator):
    """``available_if`` test of ``partial_fit``: not for the full-batch 'lbfgs'.

    (An invalid solver gets ``partial_fit``, whose parameter validation then
    names the parameter.)
    """
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for the stochastic solvers 'sgd' and "
            "'adam'; solver='lbfgs' trains on the full batch."
        )
    return True


def _library(xp):
    """The library of an array namespace: 'torch' for array-api-compat's
    wrapper of PyTorch, 'numpy', 'array_api_strict', ..."""
    return xp.__name__.rsplit(".", 1)[-1]


class ValidationSet(NamedTuple):
    """A validation set, validated and encoded once per training call."""

    X: object  # ndarray or CSR matrix
    y: np.ndarray  # targets as the user gave them (for scoring)
    Y: np.ndarray  # encoded targets (for the loss)
    weights: np.ndarray


class BaseBackpropMLP(
    CallbackSupportMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the multilayer perceptrons; use a head, not this class."""

    # Declared once for the family with scikit-learn's own constraint
    # machinery: the parameters accept what scikit-learn's MLPs accept (np.inf
    # for n_iter_no_change included), and a bad value raises its
    # InvalidParameterError (a ValueError and a TypeError) with the message
    # its users know. Checked in fit, never in __init__.
    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "learning_rate": [
            StrOptions({"constant", "invscaling", "adaptive", "one_cycle"})
        ],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
        "warmup_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Options(numbers.Real, {np.inf}),
        ],
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "transform_layer": [Interval(numbers.Integral, None, None, closed="neither")],
    }

    # Name of what the head's ``score`` measures, in the per-epoch lines.
    _score_name = "score"

    # ------------------------------------------------------------------
    # What a head provides
    # ------------------------------------------------------------------
    @abstractmethod
    def _validate_targets(self, y, *, reset, call, classes=None):
        """Check y; on ``reset`` learn what the targets are; return y.

        ``call`` is 'fit', 'warm_start' (a warm-started fit of a fitted
        model), 'partial_fit' or 'y_val'; ``classes`` is partial_fit's.
        """

    @abstractmethod
    def _encode_targets(self, y, dtype):
        """The targets as the network's output layer sees them: (n, n_outputs)."""

    @abstractmethod
    def _output_activation(self):
        """Name of the output activation (and so of the loss) of a new model."""

    @abstractmethod
    def _running_score(self, Y, weights):
        """An accumulator of the training score over an epoch's minibatches.

        It has ``reset()``, ``add(outputs, Y_batch, weights_batch)`` with the
        network's outputs a_L, and ``value()``.
        """

    @abstractmethod
    def _predict_from_preactivations(self, Z):
        """Predictions from the output pre-activations z_L (may reuse Z)."""

    @abstractmethod
    def _score_predictions(self, y, y_pred, sample_weight):
        """The head's score of predictions (accuracy, R²)."""

    def _target_weights(self, y):
        """Per-sample factors from the targets (class weights), or None."""
        return None

    def _stratify(self, y):
        """Labels to stratify the early-stopping split on, or None."""
        return None

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
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
        """Train the network on (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is trained in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values: class labels or a multilabel indicator matrix for
            the classifier, real numbers for the regressor.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples. An integer weight counts a
            sample that many times in the loss of full batches; within a
            minibatch it weighs the sample against its batch's total weight.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data, evaluated after every epoch (or 'lbfgs'
            iteration): loss and score in ``validation_loss_curve_`` and
            ``validation_scores_``. With ``early_stopping``, it replaces the
            held-out ``validation_fraction``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight,
            validation=(X_val, y_val, sample_weight_val),
            incremental=False,
        )

    def _fit(self, X, y, sample_weight, **kwargs):
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
            return self._fit_once(X, y, sample_weight, **kwargs)
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

    def _fit_once(
        self,
        X,
        y,
        sample_weight,
        *,
        validation=(None, None, None),
        classes=None,
        incremental,
    ):
        """Validate, set up the network and the solver, and train."""
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        hidden_sizes = self._hidden_layer_sizes()
        continuing = self.warm_start or incremental
        # The data are learnt afresh unless a fitted model continues; weights
        # are drawn afresh unless coefs_ exist (fitted, or assigned by the user
        # to start from given weights, as in scikit-learn's MLP).
        reset = not (continuing and hasattr(self, "n_outputs_"))
        new_weights = not (continuing and hasattr(self, "coefs_"))
        if sp.issparse(y):
            y = y.toarray()  # a sparse multilabel indicator matrix
        # With scikit-learn's array_api_dispatch on, X stays in its namespace
        # and on its device, and so does the training; the targets and the
        # weights are checked and encoded on the host (small, once per call).
        xp_in = input_namespace(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=float_dtypes(xp_in, getattr(X, "device", None)),
            multi_output=True,
            reset=reset,
        )
        xp, device = namespace_and_device(X)
        y = to_numpy(y)
        dtype = numpy_dtype(X.dtype)  # the host's dtype of the same name
        if incremental:
            call = "partial_fit"
        else:
            call = "fit" if reset else "warm_start"
        y = self._validate_targets(y, reset=reset, call=call, classes=classes)
        weights = self._sample_weights(X, y, sample_weight, dtype)
        if sp.issparse(X):
            X = X.tocsr()  # row slicing of minibatches is cheap in CSR only
        if reset or not hasattr(self, "_rng"):
            self._rng = check_random_state(self.random_state)

        validation_set = self._validation_set(*validation, dtype, xp, device)
        Y = asarray(self._encode_targets(y, dtype), xp, device)

        layer_units = [X.shape[1], *hidden_sizes, Y.shape[1]]
        if reset or new_weights:
            self._reset_bookkeeping(layer_units)
        if new_weights:
            # Drawn before the early-stopping split, from the same generator,
            # as scikit-learn does: one seed, the same draws in both packages.
            params = FlatParameters(layer_units, X.dtype, xp, device)
            initialize(params, self.activation, self.out_activation_, self._rng)
            self.coefs_, self.intercepts_ = params.coefs, params.intercepts
        params = self._pack_params(layer_units, X.dtype, xp, device)
        # Everything follows X: the optimiser's state and the early-stopping
        # snapshot of a model fitted on another namespace or device move too.
        self._convert_arrays(lambda array: to_namespace(array, xp, device))
        if (
            self.early_stopping
            and self.solver in STOCHASTIC_SOLVERS
            and validation_set is None
        ):
            X, y, Y, weights, validation_set = self._hold_out(X, y, Y, weights)
        weights_host, weights = weights, asarray(weights, xp, device)
        if validation_set is not None and self.validation_scores_ is None:
            self.validation_scores_, self.validation_loss_curve_ = [], []

        max_iter = 1 if incremental else self.max_iter
        # Root task of scikit-learn's callbacks (>= 1.9): one subtask per epoch
        # or L-BFGS iteration.
        callback_ctx = self._init_callback_context(max_subtasks=max_iter)
        metadata = {"sample_weight": weights} if sample_weight is not None else None
        callback_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
        run = self._fit_lbfgs if self.solver == "lbfgs" else self._fit_stochastic
        run(
            X,
            Y,
            weights,
            params,
            validation_set,
            max_iter=max_iter,
            incremental=incremental,
            callbacks=IterationCallbacks(callback_ctx, self, X, y, metadata),
            weights_host=weights_host,
        )
        callback_ctx.call_on_fit_task_end(
            estimator=self,
            X=X,
            y=y,
            metadata=metadata,
            reconstruction_attributes={},
        )
        return self

    def _hidden_layer_sizes(self):
        """``hidden_layer_sizes`` as a list of ints, each checked positive.

        The constraint accepts any array-like, as scikit-learn's does; its
        entries are checked here with a message naming the parameter.
        """
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = [sizes]
        sizes = list(np.ravel(np.asarray(sizes, dtype=object)))
        if not all(
            isinstance(size, numbers.Integral)
            and not isinstance(size, bool | np.bool_)
            and size > 0
            for size in sizes
        ):
            raise ValueError(
                f"The 'hidden_layer_sizes' parameter of {type(self).__name__} must "
                "be a positive int or a sequence of positive ints. Got "
                f"{self.hidden_layer_sizes!r} instead."
            )
        return [int(size) for size in sizes]

    def _sample_weights(self, X, y, sample_weight, dtype, *, name="sample_weight"):
        """Validated sample weights times the head's target weights, as 1-D,
        on the host (a NumPy array), whatever the namespace of X."""
        n_samples = X.shape[0]
        if sample_weight is not None and not isinstance(sample_weight, numbers.Real):
            sample_weight = to_numpy(sample_weight)
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
        factors = self._target_weights(y)
        if factors is not None:
            weights *= factors
        if not np.any(weights > 0):
            raise ValueError(
                f"{name} (times class_weight) is zero for every sample; at least "
                "one sample needs a positive weight."
            )
        return weights

    def _validation_set(self, X_val, y_val, sample_weight_val, dtype, xp, device):
        """Validate an explicit validation set; None when there is none."""
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together.")
        if X_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val is given without X_val and y_val.")
            return None
        X_val = validate_data(
            self,
            to_namespace(X_val, xp, device) if not is_numpy(xp) else X_val,
            accept_sparse=["csr", "csc"],
            dtype=dtype if is_numpy(xp) else getattr(xp, dtype.name),
            reset=False,
        )
        if sp.issparse(X_val):
            X_val = X_val.tocsr()
        if sp.issparse(y_val):
            y_val = y_val.toarray()
        y_val = self._validate_targets(to_numpy(y_val), reset=False, call="y_val")
        if X_val.shape[0] != y_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has "
                f"{y_val.shape[0]}; they must have the same length."
            )
        weights_val = self._sample_weights(
            X_val, y_val, sample_weight_val, dtype, name="sample_weight_val"
        )
        return ValidationSet(
            X_val,
            y_val,
            asarray(self._encode_targets(y_val, dtype), xp, device),
            weights_val,
        )

    def _hold_out(self, X, y, Y, weights):
        """Split off ``validation_fraction`` of the data for early stopping.

        Stratified on the head's labels when every class can appear on both
        sides of the split; otherwise (a class with a single member, say) a
        plain random split. (scikit-learn stratifies binary targets only, and
        raises when one of their classes has a single member.)
        """
        n_samples = X.shape[0]
        n_held = int(np.ceil(self.validation_fraction * n_samples))
        if not 1 <= n_held < n_samples:
            raise ValueError(
                "early_stopping needs at least one training and one validation "
                f"sample; got {n_samples} samples with validation_fraction="
                f"{self.validation_fraction}."
            )
        stratify = self._stratify(y)
        if stratify is not None:
            counts = np.unique(stratify, return_counts=True)[1]
            if counts.min() < 2 or min(n_held, n_samples - n_held) < len(counts):
                stratify = None
        # The split is drawn on row numbers, on the host, and applied to each
        # array where it lives (the same rows as splitting the arrays).
        train, held = train_test_split(
            np.arange(n_samples),
            test_size=n_held,
            random_state=self._rng,
            stratify=stratify,
        )
        xp, device = namespace_and_device(X)
        if is_numpy(xp):
            X, X_held, Y, Y_held = X[train], X[held], Y[train], Y[held]
        else:
            train_rows, held_rows = (
                asarray(train, xp, device),
                asarray(held, xp, device),
            )
            X, X_held = xp.take(X, train_rows, axis=0), xp.take(X, held_rows, axis=0)
            Y, Y_held = xp.take(Y, train_rows, axis=0), xp.take(Y, held_rows, axis=0)
        y, y_held, weights, weights_held = (
            y[train],
            y[held],
            weights[train],
            weights[held],
        )
        for part, part_weights in (("training", weights), ("validation", weights_held)):
            if not np.any(part_weights > 0):
                raise ValueError(
                    f"early_stopping's {part} split has zero total sample_weight; "
                    "give more samples a positive weight or pass X_val and y_val."
                )
        return X, y, Y, weights, ValidationSet(X_held, y_held, Y_held, weights_held)

    def _reset_bookkeeping(self, layer_units):
        """Layer layout and training history of a model that starts afresh."""
        self.n_layers_ = len(layer_units)
        self.n_outputs_ = layer_units[-1]
        self.out_activation_ = self._output_activation()
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

    def _device_arrays(self):
        """The arrays that live beside the weights, in the namespace and on the
        device of the training data: the weights, the early-stopping snapshot
        and the optimiser's state. (``classes_`` and the training history stay
        on the host.)"""
        arrays = [*getattr(self, "coefs_", []), *getattr(self, "intercepts_", [])]
        if getattr(self, "_best_params", None) is not None:
            arrays.append(self._best_params)
        optimizer = getattr(self, "_optimizer", None)
        if optimizer is not None:
            arrays += [getattr(optimizer, name) for name in optimizer.state_names]
        return [array for array in arrays if array is not None]

    def _convert_arrays(self, convert):
        """Replace each of :meth:`_device_arrays` by ``convert(array)``."""
        if hasattr(self, "coefs_"):
            self.coefs_ = [convert(coef) for coef in self.coefs_]
        if hasattr(self, "intercepts_"):
            self.intercepts_ = [convert(intercept) for intercept in self.intercepts_]
        if getattr(self, "_best_params", None) is not None:
            self._best_params = convert(self._best_params)
        if getattr(self, "_optimizer", None) is not None:
            self._optimizer.convert_state(convert)

    def __sklearn_array_api_convert__(self, converter):
        """A copy of this estimator whose arrays are ``converter(array)``.

        The protocol of scikit-learn's (private) estimator converter, which
        otherwise converts ``classes_`` too (labels may be strings, which no
        array library but NumPy holds) and misses the optimiser's state. Used
        by :func:`sklearn_backprop.move_estimator_to`.
        """
        # Deep-copy everything but the arrays to convert, so that continuing
        # to train the copy leaves this estimator's history alone.
        memo = {id(array): array for array in self._device_arrays()}
        moved = copy.deepcopy(self, memo)
        # A converter may hand back the same memory (scikit-learn's returns
        # an array already in place unchanged, and converts others through
        # DLPack without a copy): copy, so that the two models share nothing.
        moved._convert_arrays(lambda array: copy_array(converter(array)))
        return moved

    def _pack_params(self, layer_units, dtype, xp=np, device=None):
        """Copy the current ``coefs_``/``intercepts_`` into one flat buffer.

        Reading the public attributes on every call (rather than a private
        cached buffer) is what makes weights assigned by the user take effect
        with ``warm_start``; afterwards ``coefs_`` are views into the buffer.
        """
        expected = list(zip(layer_units, layer_units[1:]))
        got_coefs = [tuple(np.shape(coef)) for coef in self.coefs_]
        got_intercepts = [tuple(np.shape(b)) for b in self.intercepts_]
        if got_coefs != expected or got_intercepts != [(o,) for _, o in expected]:
            raise ValueError(
                "coefs_ and intercepts_ do not match the network's layer sizes "
                f"{layer_units}: got coefs_ shapes {got_coefs} and intercepts_ "
                f"shapes {got_intercepts}. Use warm_start=False to start afresh."
            )
        params = FlatParameters.from_arrays(
            [to_namespace(c, xp, device) for c in self.coefs_],
            [to_namespace(b, xp, device) for b in self.intercepts_],
            dtype,
            xp,
            device,
        )
        if not all_finite(params.flat):
            raise ValueError("coefs_ or intercepts_ contain NaN or infinity.")
        self.coefs_, self.intercepts_ = params.coefs, params.intercepts
        return params

    # ------------------------------------------------------------------
    # The stochastic solvers: epochs of minibatch updates
    # ------------------------------------------------------------------
    def _fit_stochastic(
        self,
        X,
        Y,
        weights,
        params,
        validation_set,
        *,
        max_iter,
        incremental,
        callbacks,
        weights_host,
    ):
        """Up to ``max_iter`` epochs, with their bookkeeping.

        An epoch changes the estimator's history only once it has completed
        (training and validation); an interruption before that restores the
        weights and optimiser state of the last completed epoch.
        """
        n_params = params.flat.shape[0]
        # The dtype's name, not the namespace's dtype object: the state moves
        # with the parameters from one namespace to another (and pickles
        # without the library that trained it).
        signature = (n_params, numpy_dtype(params.flat.dtype).name, self.solver)
        if not incremental or self._optimizer_signature != signature:
            self._optimizer = make_optimizer(
                self, n_params, params.flat.dtype, like=params.flat
            )
            self._optimizer_signature = signature
        n_samples = X.shape[0]
        batch_size = min(
            200 if self.batch_size == "auto" else self.batch_size, n_samples
        )
        workspace = Workspace(X, Y, params, batch_size)
        running_score = self._running_score(Y, weights)
        total_weight = float(weights_host.sum())
        indices = np.arange(n_samples)
        last_good = copy_array(params.flat)  # the weights of the last completed epoch
        self.n_iter_ = 0
        for epoch in range(1, max_iter + 1):
            start_time = time.perf_counter()
            callbacks.begin()
            optimizer_before = copy.deepcopy(self._optimizer)  # small: 1-2 vectors
            try:
                if self.shuffle:
                    self._rng.shuffle(indices)
                running_score.reset()
                loss_sum = train_epoch(
                    X,
                    Y,
                    weights,
                    indices,
                    params,
                    workspace,
                    self._optimizer,
                    hidden_activation=self.activation,
                    output_activation=self.out_activation_,
                    alpha=self.alpha,
                    running_score=running_score,
                    progress=self.verbose >= 2,
                    weights_host=weights_host,
                )
                if self._diverged(loss_sum, params, workspace):
                    params.flat[...] = last_good
                    raise self._divergence_error()
                validation = self._validation_figures(validation_set)
            except KeyboardInterrupt:
                params.flat[...] = last_good
                self._optimizer = optimizer_before
                self._warn_interrupted()
                callbacks.close()
                break
            # The epoch is complete: record it.
            last_good[...] = params.flat
            self.t_ += n_samples
            self._record_iteration(
                loss_sum / total_weight, running_score.value(), *validation
            )
            val_score = validation[1]
            if self.verbose:
                seconds = time.perf_counter() - start_time
                print(
                    self._progress_line("Epoch", epoch, max_iter, seconds), flush=True
                )
            self._optimizer.iteration_ends(self.t_)
            stop_requested = callbacks.end()
            if self._update_no_improvement_count(params, val_score) and not incremental:
                break
            if stop_requested:
                break
        else:
            # A 'one_cycle' schedule that has run its course has brought the
            # step down to 0: the end of training, not a failure to converge.
            if not incremental and not self._optimizer.schedule_finished:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=_caller_stacklevel(),
                )
        if self.early_stopping and self._best_params is not None:
            params.flat[...] = self._best_params  # keep the best epoch's weights
        self.best_loss_ = None if self.early_stopping else self._best_loss

    def _diverged(self, loss_sum, params, workspace):
        """Whether the epoch's loss, weights, or outputs are no longer finite.

        Weights can stay finite while the outputs they produce overflow (float32
        tops out at 3.4e38), so the last minibatch is run once more through the
        updated network: one extra forward pass per epoch.
        """
        if not (np.isfinite(loss_sum) and all_finite(params.flat)):
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
            ACTIVATIONS[self.out_activation_](outputs)  # exp outputs can overflow
            return not all_finite(outputs)

    def _divergence_error(self):
        what = "epoch" if self.solver in STOCHASTIC_SOLVERS else "iteration"
        return DivergenceError(
            f"The training loss or the network's outputs became infinite or NaN "
            f"in {what} {self.n_iter_ + 1}: the optimisation diverged. Lower "
            f"learning_rate_init (now {self.learning_rate_init}) or scale the "
            "inputs (for example with sklearn.preprocessing.StandardScaler, or "
            "pixels divided by 255) and, for regression, the targets. The "
            "estimator keeps finite weights: those of its last completed "
            f"{what}, or with warm_start and partial_fit those from before the "
            "call."
        )

    def _warn_interrupted(self):
        warnings.warn(
            f"Training interrupted during iteration {self.n_iter_ + 1}; the "
            "estimator keeps the weights of the last completed epoch (or "
            "L-BFGS iteration) and can resume with warm_start=True or "
            "partial_fit.",
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )

    # ------------------------------------------------------------------
    # The full-batch solver: L-BFGS
    # ------------------------------------------------------------------
    def _fit_lbfgs(
        self,
        X,
        Y,
        weights,
        params,
        validation_set,
        *,
        max_iter,
        incremental,
        callbacks,
        weights_host,
    ):
        """Minimise the full-batch loss with L-BFGS-B, recording each iteration.

        scikit-learn records nothing per iteration for 'lbfgs'; here
        ``loss_curve_``, ``train_scores_`` and the validation curves get one
        entry per iteration, so that ``len(loss_curve_)`` grows by ``n_iter_``.
        """
        objective = FullBatchObjective(
            X, Y, weights, params, self.activation, self.out_activation_, self.alpha
        )
        running_score = self._running_score(Y, weights)
        last_good = copy_array(params.flat)  # the weights of the last iteration
        self.n_iter_ = 0
        iteration_start = time.perf_counter()

        def evaluate(theta):
            callbacks.begin()  # an iteration starts with its first evaluation
            return objective(theta)

        def on_iteration(theta, loss):
            nonlocal iteration_start
            outputs = objective.outputs_at(theta)  # also sets params to theta
            running_score.reset()
            running_score.add(outputs, Y, weights)
            validation = self._validation_figures(validation_set)
            last_good[...] = params.flat
            self._record_iteration(float(loss), running_score.value(), *validation)
            if self.verbose:
                seconds = time.perf_counter() - iteration_start
                line = self._progress_line("Iteration", self.n_iter_, max_iter, seconds)
                print(line, flush=True)
            self._update_no_improvement_count(params, validation[1], may_stop=False)
            iteration_start = time.perf_counter()
            return callbacks.end()

        try:
            result = minimize_lbfgs(
                evaluate,
                to_numpy(params.flat),
                max_iter=max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                on_iteration=on_iteration,
            )
        except KeyboardInterrupt:
            params.flat[...] = last_good
            self._warn_interrupted()
            return
        finally:
            # Evaluations after the last iteration (a failed line search)
            # opened a subtask that no iteration completes.
            callbacks.close()
        if not np.isfinite(result.fun) or not np.all(np.isfinite(result.x)):
            params.flat[...] = last_good
            raise self._divergence_error()
        objective.set_point(result.x)
        self.loss_ = float(result.fun)
        self.best_loss_ = self._best_loss
        if result.status != CONVERGED and not result.stopped_by_callback:
            # A limit reached, or a line search that found no lower loss.
            warnings.warn(
                f"lbfgs failed to converge after {result.nit} iteration(s) and "
                f"{result.nfev} loss evaluations ({result.message}). Increase "
                "max_iter or max_fun, or scale the data.",
                ConvergenceWarning,
                stacklevel=_caller_stacklevel(),
            )

    # ------------------------------------------------------------------
    # Bookkeeping shared by the solvers
    # ------------------------------------------------------------------
    def _validation_figures(self, validation_set):
        """Loss and score of the current weights on the validation set."""
        if validation_set is None:
            return None, None
        X_val, y_val, Y_val, weights_val = validation_set
        Z = self._output_preactivations(X_val)
        loss = LOSSES[self.out_activation_]
        xp, device = namespace_and_device(Z)
        with np.errstate(over="ignore", invalid="ignore"):
            val_loss = float_value(
                asarray(weights_val, xp, device) @ loss.fn(Y_val, Z)
            ) / float(weights_val.sum())
        y_pred = to_numpy(self._predict_from_preactivations(Z))
        return val_loss, self._score_predictions(y_val, y_pred, weights_val)

    def _record_iteration(self, loss, train_score, val_loss, val_score):
        """Append a completed epoch (or L-BFGS iteration) to the history."""
        self.n_iter_ += 1
        self.loss_ = loss
        self.loss_curve_.append(loss)
        self.train_scores_.append(train_score)
        if val_score is not None:
            self.validation_loss_curve_.append(val_loss)
            self.validation_scores_.append(val_score)

    def _update_no_improvement_count(self, params, val_score, *, may_stop=True):
        """Track progress after an epoch; return True when training should stop.

        Progress is the validation score with ``early_stopping`` (whose best
        weights are kept), else the training loss, as in scikit-learn's MLP.
        With ``may_stop=False`` (L-BFGS, which has its own stopping rule) only
        the best figures are tracked.
        """
        previous_best = self.best_validation_score_
        improved = val_score is not None and (
            previous_best is None or val_score > previous_best
        )
        if improved:
            self.best_validation_score_ = val_score
        early_stopping = self.early_stopping and may_stop
        if early_stopping:
            # Compare with the best *before* this epoch, as scikit-learn does.
            if previous_best is not None and val_score < previous_best + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if improved:
                self._best_params = copy_array(params.flat)
        elif self.loss_curve_[-1] > self._best_loss - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        self._best_loss = min(self._best_loss, self.loss_curve_[-1])
        if not may_stop or self._no_improvement_count <= self.n_iter_no_change:
            return False
        monitored = "Validation score" if early_stopping else "Training loss"
        msg = (
            f"{monitored} did not improve more than tol={self.tol} for "
            f"{self._no_improvement_count} consecutive epochs."
        )
        if self._optimizer.trigger_stopping(msg, self.verbose):
            return True
        self._no_improvement_count = 0
        return False

    def _progress_line(self, unit, number, max_iter, seconds):
        """The per-epoch report: the notebook's four figures and the time."""
        score = self._score_name
        line = (
            f"{unit} {number}/{max_iter} - loss: {self.loss_curve_[-1]:.4f}"
            f" - {score}: {self.train_scores_[-1]:.4f}"
        )
        if self.validation_scores_:
            line += (
                f" - val_loss: {self.validation_loss_curve_[-1]:.4f}"
                f" - val_{score}: {self.validation_scores_[-1]:.4f}"
            )
        return line + f" - {seconds:.2f}s"

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

    # ------------------------------------------------------------------
    # Prediction and hidden features
    # ------------------------------------------------------------------
    # Rows per chunk at prediction time: the hidden buffers of a chunk stay in
    # cache and memory stays bounded whatever the number of samples.
    _predict_chunk_size = 4096

    def _validate_X_predict(self, X, method):
        check_is_fitted(self)
        xp_fit, device_fit = namespace_and_device(self.coefs_[0])
        xp_in = input_namespace(X)
        if xp_in is not xp_fit or (
            not is_numpy(xp_fit) and getattr(X, "device", None) != device_fit
        ):
            raise ValueError(
                f"Inputs passed to {type(self).__name__}.{method}() must use the "
                "same namespace and the same device as those passed to fit(): "
                f"fitted on {_library(xp_fit)} arrays on device {device_fit}, "
                f"got {_library(xp_in)} arrays on device "
                f"{getattr(X, 'device', None)}. Move the data to the model's "
                "namespace and device (with scikit-learn's array_api_dispatch "
                "on), or the model to the data's with "
                "sklearn_backprop.move_estimator_to."
            )
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

    def _forward_in_chunks(self, X, n_layers):
        """z of layer ``n_layers`` for every row of a validated X, in chunks.

        The first ``n_layers`` weight layers are run; the last of them is left
        un-activated. Buffers are local to the call, so concurrent predictions
        on one fitted model never share memory.
        """
        coefs, intercepts = self.coefs_[:n_layers], self.intercepts_[:n_layers]
        xp, device = namespace_and_device(coefs[0])
        dtype = coefs[0].dtype
        layer_units = [coefs[0].shape[0]] + [coef.shape[1] for coef in coefs]
        n_samples = X.shape[0]
        chunk = min(self._predict_chunk_size, max(n_samples, 1))
        activations = allocate_activations(layer_units, chunk, dtype, xp, device)
        shape = (n_samples, layer_units[-1])
        if is_numpy(xp):
            Z = np.empty(shape, dtype=dtype)
        else:
            Z = xp.empty(shape, dtype=dtype, device=device)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n_samples, chunk):
                rows = slice(start, min(start + chunk, n_samples))
                Z[rows, ...] = forward_pass(
                    coefs, intercepts, X[rows, ...], activations, self.activation
                )
        if bool(xp.any(xp.isnan(Z))):
            largest = (
                float_value(xp.max(xp.abs(X))) if not sp.issparse(X) else abs(X).max()
            )
            raise ValueError(
                "The network's outputs overflowed to NaN on this input (its "
                f"values reach {largest:.3g}); scale the inputs as the "
                "training data was scaled, or train in float64."
            )
        return Z

    def _output_preactivations(self, X):
        """z_L for every row of a validated X, never infinite."""
        Z = self._forward_in_chunks(X, len(self.coefs_))
        if not all_finite(Z):
            # An output of +-inf is a certain class or an extreme value: keep
            # it finite so that what is computed from it stays well defined.
            xp = get_namespace(Z)
            finite_max = float(xp.finfo(Z.dtype).max)
            if is_numpy(xp):
                np.clip(Z, -finite_max, finite_max, out=Z)
            else:
                Z[...] = xp.clip(Z, min=-finite_max, max=finite_max)
        return Z

    def transform(self, X):
        """Return the activations of a hidden layer: the features learnt.

        The layer is ``transform_layer`` (by default the last hidden layer),
        so that the estimator can feed another one in a
        :class:`~sklearn.pipeline.Pipeline`, or its features can be inspected.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        hidden : ndarray of shape (n_samples, n_units)
            The activations a_l = f(z_l) of the chosen hidden layer, in the
            dtype of the weights.
        """
        X = self._validate_X_predict(X, "transform")
        layer = self._transform_layer_index()
        hidden = self._forward_in_chunks(X, layer + 1)
        ACTIVATIONS[self.activation](hidden)  # a_l = f(z_l) of that hidden layer
        return hidden

    def _transform_layer_index(self):
        """``transform_layer`` as a 0-based index into the hidden layers."""
        n_hidden = len(self.coefs_) - 1
        if n_hidden == 0:
            raise ValueError(
                f"{type(self).__name__} has no hidden layer "
                "(hidden_layer_sizes=()), so transform has no features to return."
            )
        if not -n_hidden <= self.transform_layer < n_hidden:
            raise ValueError(
                f"transform_layer={self.transform_layer} is out of range for "
                f"{n_hidden} hidden layer(s): use 0 to {n_hidden - 1}, or -1 to "
                f"-{n_hidden} counting from the last."
            )
        return self.transform_layer % n_hidden

    @property
    def _n_features_out(self):
        """Width of the layer ``transform`` returns (for feature names).

        An AttributeError when there is none, so that ``hasattr`` and ``dir``
        (which skl2onnx calls) work on a network without hidden layers.
        """
        try:
            return self.coefs_[self._transform_layer_index()].shape[1]
        except ValueError as exc:
            raise AttributeError(str(exc)) from exc

    def get_feature_names_out(self, input_features=None):
        """Return the names of the hidden units that :meth:`transform` returns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in fit, if any.

        Returns
        -------
        feature_names_out : ndarray of str
            ``<class name in lower case><unit>``, e.g. ``backpropmlpclassifier0``.
        """
        check_is_fitted(self)
        self._transform_layer_index()  # the ValueError naming what is wrong
        return super().get_feature_names_out(input_features)

    # ------------------------------------------------------------------
    # Persistence and tags
    # ------------------------------------------------------------------
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
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # Array API dispatch needs scikit-learn's own support (tested from
        # 1.9) and SciPy >= 1.14 (scikit-learn's condition for turning it on).
        tags.array_api_support = _ARRAY_API_AVAILABLE
        return tags


def _array_api_available():
    import scipy
    import sklearn
    from sklearn.utils.fixes import parse_version

    return parse_version(sklearn.__version__).release >= (1, 9) and parse_version(
        scipy.__version__
    ).release >= (1, 14)


_ARRAY_API_AVAILABLE = _array_api_available()


def _shallow(value):
    """A copy of a list attribute (histories grow in place), else the value."""
    return list(value) if isinstance(value, list) else value


def _caller_stacklevel():
    """Stack level of the first frame outside this package and sklearn.

    Warnings raised in the training loop then point at the user's ``fit`` call,
    however many wrappers (scikit-learn's fit and callback decorators) sit in
    between.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE_DIR)
        or frame.f_code.co_filename.startswith(_SKLEARN_WRAPPERS)
    ):
        frame, level = frame.f_back, level + 1
    return level


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKLEARN_WRAPPERS = tuple(
    os.path.join(os.path.dirname(os.path.abspath(module.__file__)), name)
    for module, name in (
        (sys.modules["sklearn"], "base.py"),
        (sys.modules["sklearn"], "callback" + os.sep),
        (sys.modules["sklearn"], "utils" + os.sep + "_available_if.py"),
    )
)
