"""The fit plan: everything a training call needs, validated, and nothing assigned.

:func:`make_plan` validates the data and the parameters of one ``fit`` or
``partial_fit`` call, learns or checks the targets' coding, weighs the
samples, splits off the early-stopping set, draws or packs the starting
weights and prepares the optimiser and its step schedule, in the namespace
and on the device of the data. It reads the estimator (its parameters and
what an earlier call fitted) and writes nothing to it: bad input raises here
and loses nothing. The estimator then commits the plan (see
``BaseBackpropMLP._commit``) and trains; the weights, optimiser and schedule
in the plan are new, or copies, so that training never changes what a failed
call must give back. (The random generator is the estimator's own, which
draws on: a failed call does not rewind it, as in scikit-learn.)
"""

import copy
import numbers
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, validate_data

from ._array_api import (
    backend_for,
    copy_with_arrays,
    float_dtypes,
    input_namespace,
    namespace_mismatch,
    numpy_dtype,
    to_numpy,
)
from ._defaults import resolve
from ._network import FlatParameters, initialize
from ._optimizers import make_optimizer
from ._schedules import OneCycleSchedule, make_schedule

STOCHASTIC_SOLVERS = ("sgd", "adam")


class ValidationSet(NamedTuple):
    """A validation set, validated and encoded once per training call."""

    X: object  # an array of the backend, or a CSR matrix
    y: np.ndarray  # targets as the user gave them (for scoring)
    Y: object  # encoded targets (for the loss), an array of the backend
    weights: np.ndarray  # on the host


class FitPlan(NamedTuple):
    """What one training call trains on, and the state it starts from."""

    X: object  # training data, in the backend (CSR when sparse)
    y: np.ndarray  # targets as given, on the host (for the callbacks)
    Y: object  # encoded targets, in the backend
    weights: object  # sample weights (class weights included), in the backend
    weights_host: np.ndarray  # the same, on the host
    validation: ValidationSet | None
    backend: object  # the ArrayBackend of the data
    coding: object  # the targets' output coding
    params: FlatParameters  # the starting weights, a new buffer
    optimizer: object  # new or a copy; None for 'lbfgs'
    schedule: object  # new or a copy; None for 'lbfgs'
    settings: object  # the call's batch size, step and max_iter, 'auto' resolved
    best: object  # the early-stopping checkpoint to continue from, or None
    rng: np.random.RandomState
    features: dict | None  # n_features_in_ (and feature_names_in_) learnt, or None
    fresh: bool  # a new model: its history starts afresh
    new_weights: bool  # its starting weights were drawn by this call
    incremental: bool  # partial_fit: one epoch
    sample_weight_given: bool


def make_plan(
    estimator,
    X,
    y,
    sample_weight,
    *,
    validation=(None, None, None),
    classes=None,
    incremental,
):
    """Validate one training call of ``estimator`` and return its :class:`FitPlan`.

    The data are learnt afresh unless a fitted model continues (``warm_start``
    or ``partial_fit``); weights are drawn afresh unless ``coefs_`` exist
    (fitted, or assigned by the user to start from given weights, as in
    scikit-learn's MLP). The checks run in a fixed order, so that a call with
    several problems names the same one every time.
    """
    if incremental and estimator.early_stopping:
        raise ValueError("partial_fit does not support early_stopping=True")
    hidden_sizes = hidden_layer_sizes(estimator)
    continuing = estimator.warm_start or incremental
    reset = not (continuing and hasattr(estimator, "n_outputs_"))
    new_weights = not (continuing and hasattr(estimator, "coefs_"))
    fresh = reset or new_weights
    if not new_weights:
        problem = namespace_mismatch(
            estimator, "partial_fit" if incremental else "fit", X
        )
        if problem:
            raise ValueError(problem)
    X, y, validator = _validated_data(estimator, X, y, reset)
    backend = backend_for(X)
    dtype = numpy_dtype(X.dtype)  # the host's dtype of the same name
    if incremental:
        call = "partial_fit"
    else:
        call = "fit" if reset else "warm_start"
    y, coding = estimator._targets(
        y, coding=None if reset else estimator._coding, call=call, classes=classes
    )
    class_weights = estimator._class_weights(y, coding)
    weights = sample_weights(X.shape[0], sample_weight, dtype)
    weigh_classes(weights, class_weights, coding, y)
    if reset:
        coding = estimator._learnt_coding(coding, y, weights, backend, dtype)
    if sp.issparse(X):
        X = X.tocsr()  # row slicing of minibatches is cheap in CSR only
    if reset or not hasattr(estimator, "_rng"):
        rng = check_random_state(estimator.random_state)
    else:
        rng = estimator._rng
    validation_set = _validation_set(
        estimator, validator, *validation, coding, class_weights, dtype, backend
    )
    Y = backend.asarray(coding.encode(y, dtype))
    layer_units = [X.shape[1], *hidden_sizes, coding.n_outputs]
    if new_weights:
        # Drawn before the early-stopping split, from the same generator, as
        # scikit-learn does: one seed, the same draws in both packages.
        params = FlatParameters(layer_units, X.dtype, backend)
        initialize(params, estimator.activation, coding.out_activation, rng)
    else:
        params = _packed_weights(estimator, layer_units, X.dtype, backend)
    if (
        estimator.early_stopping
        and estimator.solver in STOCHASTIC_SOLVERS
        and validation_set is None
    ):
        X, y, Y, weights, validation_set = _hold_out(
            estimator, X, y, Y, weights, coding, rng, backend
        )
    settings = resolve(estimator, X.shape[0])
    optimizer, schedule = _solver_state(estimator, params, incremental, settings)
    if isinstance(schedule, OneCycleSchedule):  # a continued or requested cycle
        settings = settings._replace(max_iter=schedule.n_epochs)
    best = None if fresh else getattr(estimator, "_best", None)
    if best is not None:  # everything follows X, the best checkpoint too
        best = copy_with_arrays(best, best.arrays(), backend.copied)
    return FitPlan(
        X=X,
        y=y,
        Y=Y,
        weights=backend.asarray(weights),
        weights_host=weights,
        validation=validation_set,
        backend=backend,
        coding=coding,
        params=params,
        optimizer=optimizer,
        schedule=schedule,
        settings=settings,
        best=best,
        rng=rng,
        features=_learnt_features(validator) if reset else None,
        fresh=fresh,
        new_weights=new_weights,
        incremental=incremental,
        sample_weight_given=sample_weight is not None,
    )


def _validated_data(estimator, X, y, reset):
    """X and y validated, y on the host; and the estimator that validated
    them, which holds the columns learnt.

    With scikit-learn's array_api_dispatch on, X stays in its namespace and on
    its device, and so does the training; the targets and the weights are
    checked and encoded on the host (small, once per call). validate_data
    learns ``n_features_in_`` and ``feature_names_in_`` when it resets: it
    does so on a shallow copy of the estimator, whose findings the commit
    assigns.
    """
    if sp.issparse(y):
        y = y.toarray()  # a sparse multilabel indicator matrix
    validator = copy.copy(estimator) if reset else estimator
    X, y = validate_data(
        validator,
        X,
        y,
        accept_sparse=["csr", "csc"],
        dtype=float_dtypes(input_namespace(X), getattr(X, "device", None)),
        multi_output=True,
        reset=reset,
    )
    return X, to_numpy(y), validator


def _learnt_features(validator):
    """What validate_data learnt about the columns: n_features_in_, and
    feature_names_in_ when they have names."""
    return {
        name: validator.__dict__[name]
        for name in ("n_features_in_", "feature_names_in_")
        if name in validator.__dict__
    }


def hidden_layer_sizes(estimator):
    """``hidden_layer_sizes`` as a list of ints, each checked positive.

    The constraint accepts any array-like, as scikit-learn's does; its
    entries are checked here with a message naming the parameter.
    """
    sizes = estimator.hidden_layer_sizes
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
            f"The 'hidden_layer_sizes' parameter of {type(estimator).__name__} "
            "must be a positive int or a sequence of positive ints. Got "
            f"{estimator.hidden_layer_sizes!r} instead."
        )
    return [int(size) for size in sizes]


def sample_weights(n_samples, sample_weight, dtype, *, name="sample_weight"):
    """Validated sample weights, as a new 1-D NumPy array (on the host,
    whatever the namespace of X)."""
    if sample_weight is not None and not isinstance(sample_weight, numbers.Real):
        sample_weight = to_numpy(sample_weight)
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, numbers.Real):
        if not np.isfinite(sample_weight) or sample_weight < 0:
            raise ValueError(
                f"{name} must be finite and non-negative; got {sample_weight!r}."
            )
        return np.full(n_samples, sample_weight, dtype=dtype)
    weights = check_array(
        sample_weight, ensure_2d=False, dtype=dtype, input_name=name, copy=True
    )
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(
            f"{name} has shape {weights.shape} but X has {n_samples} "
            f"samples; expected shape ({n_samples},)."
        )
    if np.any(weights < 0):
        raise ValueError(f"{name} contains negative values.")
    return weights


def weigh_classes(weights, class_weights, coding, y, *, name="sample_weight"):
    """Multiply ``weights`` in place by the weight of each sample's class,
    and check that some sample still weighs something."""
    if class_weights is not None:
        weights *= class_weights[coding.indices(y)]
    if not np.any(weights > 0):
        raise ValueError(
            f"{name} (times class_weight) is zero for every sample; at least "
            "one sample needs a positive weight."
        )


def _validation_set(
    estimator,
    validator,
    X_val,
    y_val,
    sample_weight_val,
    coding,
    class_weights,
    dtype,
    backend,
):
    """Validate an explicit validation set; None when there is none.

    ``validator`` holds the columns that the training data's validation
    learnt (the estimator itself, or its copy when they are learnt afresh).
    """
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together.")
    if X_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is given without X_val and y_val.")
        return None
    X_val = validate_data(
        validator,
        backend.input(X_val),
        accept_sparse=["csr", "csc"],
        dtype=backend.dtype(dtype),
        reset=False,
    )
    if sp.issparse(X_val):
        X_val = X_val.tocsr()
    if sp.issparse(y_val):
        y_val = y_val.toarray()
    y_val, _ = estimator._targets(to_numpy(y_val), coding=coding, call="y_val")
    if X_val.shape[0] != y_val.shape[0]:
        raise ValueError(
            f"X_val has {X_val.shape[0]} samples but y_val has "
            f"{y_val.shape[0]}; they must have the same length."
        )
    weights_val = sample_weights(
        X_val.shape[0], sample_weight_val, dtype, name="sample_weight_val"
    )
    weigh_classes(weights_val, class_weights, coding, y_val, name="sample_weight_val")
    return ValidationSet(
        X_val, y_val, backend.asarray(coding.encode(y_val, dtype)), weights_val
    )


def _packed_weights(estimator, layer_units, dtype, backend):
    """The current ``coefs_``/``intercepts_``, copied into one new flat buffer.

    Reading the public attributes on every call (rather than a private cached
    buffer) is what makes weights assigned by the user take effect with
    ``warm_start``; after the commit ``coefs_`` are views into the buffer.
    """
    expected = list(zip(layer_units, layer_units[1:]))
    got_coefs = [tuple(np.shape(coef)) for coef in estimator.coefs_]
    got_intercepts = [tuple(np.shape(b)) for b in estimator.intercepts_]
    if got_coefs != expected or got_intercepts != [(o,) for _, o in expected]:
        raise ValueError(
            "coefs_ and intercepts_ do not match the network's layer sizes "
            f"{layer_units}: got coefs_ shapes {got_coefs} and intercepts_ "
            f"shapes {got_intercepts}. Use warm_start=False to start afresh."
        )
    params = FlatParameters.from_arrays(
        estimator.coefs_, estimator.intercepts_, dtype, backend
    )
    xp = backend.xp
    if not bool(xp.all(xp.isfinite(params.flat))):
        raise ValueError("coefs_ or intercepts_ contain NaN or infinity.")
    return params


def _hold_out(estimator, X, y, Y, weights, coding, rng, backend):
    """Split off ``validation_fraction`` of the data for early stopping.

    Stratified on the coding's labels when every class can appear on both
    sides of the split; otherwise (a class with a single member, say) a
    plain random split. (scikit-learn stratifies binary targets only, and
    raises when one of their classes has a single member.)
    """
    n_samples = X.shape[0]
    n_held = int(np.ceil(estimator.validation_fraction * n_samples))
    if n_held < 2:  # scikit-learn's words, then ours
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or "
            f"the size of your dataset. early_stopping holds out {n_held} of "
            f"{n_samples} samples (validation_fraction="
            f"{estimator.validation_fraction}) and needs at least 2 to score."
        )
    if n_held >= n_samples:
        raise ValueError(
            "early_stopping needs at least one training and two validation "
            f"samples; got {n_samples} samples with validation_fraction="
            f"{estimator.validation_fraction}."
        )
    stratify = coding.stratify(y)
    if stratify is not None:
        counts = np.unique(stratify, return_counts=True)[1]
        if counts.min() < 2 or min(n_held, n_samples - n_held) < len(counts):
            stratify = None
    # The split is drawn on row numbers, on the host, and applied to each
    # array where it lives (the same rows as splitting the arrays).
    train, held = train_test_split(
        np.arange(n_samples), test_size=n_held, random_state=rng, stratify=stratify
    )
    X_held, Y_held = backend.take_rows(X, held), backend.take_rows(Y, held)
    X, Y = backend.take_rows(X, train), backend.take_rows(Y, train)
    y, y_held, weights, weights_held = y[train], y[held], weights[train], weights[held]
    for part, part_weights in (("training", weights), ("validation", weights_held)):
        if not np.any(part_weights > 0):
            raise ValueError(
                f"early_stopping's {part} split has zero total sample_weight; "
                "give more samples a positive weight or pass X_val and y_val."
            )
    return X, y, Y, weights, ValidationSet(X_held, y_held, Y_held, weights_held)


def _solver_state(estimator, params, incremental, settings):
    """The optimiser and step schedule of a stochastic solver's call (None
    and None for 'lbfgs').

    ``partial_fit`` continues those of the previous call (a copy, moved to
    the parameters' namespace and device) when they serve parameters of this
    size and dtype; any other call starts new ones, whose 'one_cycle' cycle is
    ``max_iter`` epochs long (resolved in ``settings``), or as long as
    ``fit_out_of_core`` asks (see ``BaseBackpropMLP._one_cycle_over``).
    Such a request starts a new cycle on a continued schedule too, unless
    one is in progress.
    """
    if estimator.solver not in STOCHASTIC_SOLVERS:
        return None, None
    n_params, dtype = params.flat.shape[0], params.flat.dtype
    cycle = getattr(estimator, "_cycle_request", None)
    optimizer = getattr(estimator, "_optimizer", None)
    schedule = getattr(estimator, "_schedule", None)
    if schedule is not None and schedule.mid_cycle:
        cycle = None  # the caller's own partial_fit calls continue their cycle
    if (
        incremental
        and optimizer is not None
        and optimizer.serves(estimator.solver, n_params, dtype)
    ):
        state = (optimizer, schedule)
        optimizer, schedule = copy_with_arrays(
            state, optimizer.state_arrays(), params.backend.copied
        )
        if cycle is not None:
            schedule.start_cycle(cycle)
        return optimizer, schedule
    optimizer = make_optimizer(estimator, n_params, dtype, like=params.flat)
    schedule = make_schedule(
        estimator, cycle or settings.max_iter, settings.learning_rate_init
    )
    return optimizer, schedule
