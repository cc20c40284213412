"""Robust and safe (issue 6): bad input, numerical extremes, divergence,
interruption, thread safety and persistence.

Every bad call must raise a ``ValueError`` or ``TypeError`` whose message names
the problem (never an ``IndexError``, a broadcasting error or a silent wrong
answer), and a fitted model hit by a bad call must keep its state: same
weights, same classes, same predictions.
"""

import contextlib
import io
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import skops.io as sio
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits

import sklearn_backprop
import sklearn_backprop._base as base_module
import sklearn_backprop._minibatch as minibatch_module
from sklearn_backprop import BackpropMLPClassifier
from sklearn_backprop._activations import ACTIVATIONS
from sklearn_backprop._losses import LOSSES
from sklearn_backprop.exceptions import InconsistentVersionWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HIDDEN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
OUTPUT_ACTIVATIONS = ["logistic", "softmax"]
DTYPES = [np.float32, np.float64]


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------
def _toy(n_samples=60, n_features=4, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    y = np.arange(n_samples) % n_classes
    X[:, 0] += y  # something learnable
    return X, y


def _weights(clf):
    return [np.array(a, copy=True) for a in clf.coefs_ + clf.intercepts_]


def _assert_weights_equal(clf, expected):
    got = clf.coefs_ + clf.intercepts_
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert_array_equal(g, e)


def _assert_all_finite_weights(clf):
    for array in clf.coefs_ + clf.intercepts_:
        assert np.all(np.isfinite(array))


def _assert_valid_probabilities(clf, X):
    """Probabilities in [0, 1] summing to 1, finite log-probabilities."""
    proba = clf.predict_proba(X)
    log_proba = clf.predict_log_proba(X)
    rtol = 1e-5 if proba.dtype == np.float32 else 1e-10
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    assert_allclose(proba.sum(axis=1), 1, rtol=rtol)
    assert np.all(np.isfinite(log_proba)), "predict_log_proba returned -inf/NaN"
    pred = clf.predict(X)
    assert np.all(np.isin(pred, clf.classes_))
    # The predicted class has the largest probability (ties allowed).
    idx = np.searchsorted(clf.classes_, pred)
    assert_array_equal(proba[np.arange(len(X)), idx], proba.max(axis=1))


def _fitted(**params):
    X, y = _toy()
    defaults = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    return BackpropMLPClassifier(**(defaults | params)).fit(X, y), X, y


# ----------------------------------------------------------------------------
# Bad input: type, message, and the fitted model left untouched
# ----------------------------------------------------------------------------
def _nan(X, value=np.nan):
    X = np.array(X, dtype=float, copy=True)
    X[1, 2] = value
    return X


def _ones(n):
    return np.ones(n)


# Each case: (id, call(clf, X, y), exception type(s), message regex).
# The estimator was fitted on X (60 x 4, float64) with y in {0, 1, 2}.
BAD_CALLS = [
    ("nan-in-X", lambda c, X, y: c.fit(_nan(X), y), ValueError, "X contains NaN"),
    (
        "inf-in-X",
        lambda c, X, y: c.fit(_nan(X, np.inf), y),
        ValueError,
        "X contains infinity",
    ),
    (
        "neg-inf-in-X",
        lambda c, X, y: c.fit(_nan(X, -np.inf), y),
        ValueError,
        "X contains infinity",
    ),
    (
        "nan-in-sparse-X",
        lambda c, X, y: c.fit(sp.csr_matrix(_nan(X)), y),
        ValueError,
        "X contains NaN",
    ),
    (
        "nan-in-y",
        lambda c, X, y: c.fit(X, np.where(np.arange(len(y)) == 3, np.nan, y)),
        ValueError,
        "y contains NaN",
    ),
    (
        "empty-X",
        lambda c, X, y: c.fit(X[:0], y[:0]),
        ValueError,
        "0 sample",
    ),
    ("1d-X", lambda c, X, y: c.fit(X[:, 0], y), ValueError, "Expected 2D array"),
    ("3d-X", lambda c, X, y: c.fit(X[:, :, None], y), ValueError, "dim 3"),
    (
        "single-class",
        lambda c, X, y: c.fit(X, np.zeros_like(y)),
        ValueError,
        "only one class",
    ),
    (
        "single-class-new-label",
        lambda c, X, y: c.fit(X, np.full(len(y), "z")),
        ValueError,
        "only one class",
    ),
    (
        "continuous-y",
        lambda c, X, y: c.fit(X, np.linspace(0, 1, len(y))),
        ValueError,
        "continuous",
    ),
    (
        "mixed-type-y",
        lambda c, X, y: c.fit(X, np.array([1, "a"] * (len(y) // 2), dtype=object)),
        ValueError,
        "label type",
    ),
    (
        "str-X",
        lambda c, X, y: c.fit(np.full(X.shape, "a"), y),
        ValueError,
        "string",
    ),
    (
        "object-X",
        lambda c, X, y: c.fit(np.full(X.shape, object(), dtype=object), y),
        TypeError,
        "object",
    ),
    (
        "complex-X",
        lambda c, X, y: c.fit(X + 1j, y),
        ValueError,
        "Complex",
    ),
    (
        "X-y-lengths",
        lambda c, X, y: c.fit(X, y[:-1]),
        ValueError,
        "inconsistent numbers of samples",
    ),
    (
        "sample_weight-length",
        lambda c, X, y: c.fit(X, y, sample_weight=_ones(len(y) - 1)),
        ValueError,
        "sample_weight has shape",
    ),
    (
        "sample_weight-2d",
        lambda c, X, y: c.fit(X, y, sample_weight=_ones((len(y), 1))),
        ValueError,
        "sample_weight has shape",
    ),
    (
        "sample_weight-negative",
        lambda c, X, y: c.fit(X, y, sample_weight=np.r_[-1.0, _ones(len(y) - 1)]),
        ValueError,
        "sample_weight contains negative",
    ),
    (
        "sample_weight-all-zero",
        lambda c, X, y: c.fit(X, y, sample_weight=np.zeros(len(y))),
        ValueError,
        "zero for every sample",
    ),
    (
        "sample_weight-nan",
        lambda c, X, y: c.fit(X, y, sample_weight=np.r_[np.nan, _ones(len(y) - 1)]),
        ValueError,
        "sample_weight contains NaN",
    ),
    (
        "sample_weight-inf",
        lambda c, X, y: c.fit(X, y, sample_weight=np.r_[np.inf, _ones(len(y) - 1)]),
        ValueError,
        "sample_weight contains infinity",
    ),
    (
        "X_val-nan",
        lambda c, X, y: c.fit(X, y, X_val=_nan(X), y_val=y),
        ValueError,
        "X contains NaN",
    ),
    (
        "X_val-inf",
        lambda c, X, y: c.fit(X, y, X_val=_nan(X, np.inf), y_val=y),
        ValueError,
        "X contains infinity",
    ),
    (
        "X_val-n_features",
        lambda c, X, y: c.fit(X, y, X_val=X[:, :3], y_val=y),
        ValueError,
        "expecting 4 features",
    ),
    (
        "X_val-y_val-lengths",
        lambda c, X, y: c.fit(X, y, X_val=X, y_val=y[:-1]),
        ValueError,
        "same length",
    ),
    (
        "y_val-unknown-labels",
        lambda c, X, y: c.fit(X, y, X_val=X, y_val=y + 10),
        ValueError,
        "not in classes_",
    ),
    (
        "sample_weight_val-nan",
        lambda c, X, y: c.fit(
            X, y, X_val=X, y_val=y, sample_weight_val=np.full(len(y), np.nan)
        ),
        ValueError,
        "sample_weight_val contains NaN",
    ),
    (
        "sample_weight_val-negative",
        lambda c, X, y: c.fit(X, y, X_val=X, y_val=y, sample_weight_val=-_ones(len(y))),
        ValueError,
        "sample_weight_val contains negative",
    ),
    (
        "class_weight-unknown-class",
        lambda c, X, y: c.set_params(class_weight={7: 2.0}).fit(X, y),
        ValueError,
        r"class_weight names classes \[7\]",
    ),
    (
        "class_weight-unknown-class-warm_start",
        lambda c, X, y: c.set_params(class_weight={7: 2.0}, warm_start=True).fit(X, y),
        ValueError,
        r"class_weight.*\b7\b",
    ),
    (
        "class_weight-unknown-class-partial_fit",
        lambda c, X, y: c.set_params(class_weight={7: 2.0}).partial_fit(X, y),
        ValueError,
        r"class_weight.*\b7\b",
    ),
    (
        "class_weight-negative",
        lambda c, X, y: c.set_params(class_weight={0: -1.0}).fit(X, y),
        ValueError,
        "class_weight",
    ),
    (
        "class_weight-nan",
        lambda c, X, y: c.set_params(class_weight={0: np.nan}).fit(X, y),
        ValueError,
        "class_weight",
    ),
    (
        "class_weight-inf",
        lambda c, X, y: c.set_params(class_weight={0: np.inf}).fit(X, y),
        ValueError,
        "class_weight",
    ),
    (
        # One positive weight: the early-stopping split leaves one side with
        # zero total weight (a ZeroDivisionError before the fix).
        "early_stopping-split-without-positive-weight",
        lambda c, X, y: c.set_params(early_stopping=True).fit(
            X, y, sample_weight=np.r_[1.0, np.zeros(len(y) - 1)]
        ),
        ValueError,
        "weight",
    ),
    (
        "partial_fit-labels-outside-classes",
        lambda c, X, y: c.partial_fit(X, y + 5),
        ValueError,
        r"labels \[5, 6, 7\] that are not in classes_",
    ),
    (
        "partial_fit-n_features",
        lambda c, X, y: c.partial_fit(X[:, :3], y),
        ValueError,
        "expecting 4 features",
    ),
    (
        "partial_fit-nan",
        lambda c, X, y: c.partial_fit(_nan(X), y),
        ValueError,
        "X contains NaN",
    ),
    (
        "warm_start-n_features",
        lambda c, X, y: c.set_params(warm_start=True).fit(X[:, :3], y),
        ValueError,
        "expecting 4 features",
    ),
    (
        "warm_start-target-type-changed",
        lambda c, X, y: c.set_params(warm_start=True).fit(
            X, np.c_[y == 0, y == 1].astype(int)
        ),
        ValueError,
        "type of target changed",
    ),
    (
        "multiclass-multioutput-y",
        lambda c, X, y: c.fit(X, np.c_[y, (y + 1) % 3]),
        ValueError,
        "multiclass-multioutput",
    ),
    # A bad call that also brings new (otherwise valid) data must not leave a
    # half-updated estimator behind: classes_, n_features_in_ and the output
    # layout must stay those of the weights.
    (
        "new-labels-and-negative-sample_weight",
        lambda c, X, y: c.fit(X, np.array(list("ab"))[y % 2], sample_weight=-_ones(60)),
        ValueError,
        "sample_weight contains negative",
    ),
    (
        "new-labels-and-unknown-class_weight",
        lambda c, X, y: c.set_params(class_weight={"q": 1.0}).fit(
            X, np.array(list("ab"))[y % 2]
        ),
        ValueError,
        r"class_weight names classes \['q'\]",
    ),
    (
        "new-n_features-and-continuous-y",
        lambda c, X, y: c.fit(X[:, :2], np.linspace(0, 1, len(y))),
        ValueError,
        "continuous",
    ),
    (
        "new-n_features-and-nan-X_val",
        lambda c, X, y: c.fit(X[:, :2], y, X_val=np.full((len(y), 2), np.nan), y_val=y),
        ValueError,
        "X contains NaN",
    ),
    (
        "multilabel-y-with-class_weight",
        lambda c, X, y: c.set_params(class_weight={0: 2.0}).fit(
            X, np.c_[y == 0, y == 1].astype(int)
        ),
        ValueError,
        "class_weight is not supported for multilabel",
    ),
    (
        "early_stopping-too-few-samples-new-labels",
        lambda c, X, y: c.set_params(
            early_stopping=True, validation_fraction=0.999
        ).fit(X, np.array(list("ab"))[y % 2]),
        ValueError,
        "early_stopping needs at least one training",
    ),
]


@pytest.mark.parametrize(
    "bad_call, exc_type, match",
    [pytest.param(*case[1:], id=case[0]) for case in BAD_CALLS],
)
def test_bad_call_raises_named_error_and_keeps_fitted_model(bad_call, exc_type, match):
    clf, X, y = _fitted()
    weights = _weights(clf)
    classes = clf.classes_.copy()
    n_features = clf.n_features_in_
    proba = clf.predict_proba(X)
    pred = clf.predict(X)

    with pytest.raises(exc_type, match=f"(?i){match}"):
        bad_call(clf, X, y)

    _assert_weights_equal(clf, weights)
    assert_array_equal(clf.classes_, classes)
    assert clf.n_features_in_ == n_features
    assert_array_equal(clf.predict(X), pred)
    assert_array_equal(clf.predict_proba(X), proba)


def test_fit_with_new_n_features_is_a_refit_not_an_error():
    """A plain fit on different data is legitimate: it starts afresh."""
    clf, X, y = _fitted()
    clf.fit(X[:, :2], y)
    assert clf.n_features_in_ == 2
    assert clf.coefs_[0].shape[0] == 2
    with pytest.raises(ValueError, match="expecting 2 features"):
        clf.predict(X)


BAD_PREDICT_X = [
    ("n_features", lambda X: X[:, :3], ValueError, "expecting 4 features"),
    ("too-many-features", lambda X: np.c_[X, X], ValueError, "expecting 4 features"),
    ("nan", lambda X: _nan(X), ValueError, "X contains NaN"),
    ("inf", lambda X: _nan(X, np.inf), ValueError, "X contains infinity"),
    ("empty", lambda X: X[:0], ValueError, "0 sample"),
    ("1d", lambda X: X[0], ValueError, "Expected 2D array"),
    ("3d", lambda X: X[:, :, None], ValueError, "dim 3"),
    ("str", lambda X: np.full(X.shape, "a"), ValueError, "string"),
    ("object", lambda X: np.full(X.shape, object(), dtype=object), TypeError, "object"),
]


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
@pytest.mark.parametrize(
    "make_X, exc_type, match",
    [pytest.param(*case[1:], id=case[0]) for case in BAD_PREDICT_X],
)
def test_bad_input_at_predict(method, make_X, exc_type, match):
    clf, X, _ = _fitted()
    weights = _weights(clf)
    proba = clf.predict_proba(X)
    with pytest.raises(exc_type, match=f"(?i){match}"):
        getattr(clf, method)(make_X(X))
    _assert_weights_equal(clf, weights)
    assert_array_equal(clf.predict_proba(X), proba)


def test_unfitted_model_raises_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    X, _ = _toy()
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(NotFittedError):
            getattr(BackpropMLPClassifier(), method)(X)


# ----------------------------------------------------------------------------
# Numerical extremes
# ----------------------------------------------------------------------------
def _pixels():
    """Digits scaled to raw 0..255 pixel values, many constant-zero columns."""
    X, y = load_digits(return_X_y=True)
    return X[:300] * (255 / 16), y[:300]


def _huge_and_constant():
    """Columns up to 1e6, a tiny one, and two constant columns."""
    rng = np.random.RandomState(0)
    n = 300
    X = np.c_[
        rng.rand(n) * 1e6,
        rng.randn(n),
        np.full(n, 7.0),
        np.zeros(n),
        rng.rand(n) * 1e6,
    ]
    y = (X[:, 1] > 0).astype(int) + (X[:, 0] > 5e5)
    return X, y


DATASETS = {"pixels-0-255": _pixels, "up-to-1e6-and-constant": _huge_and_constant}


def test_primitives_are_stable_at_extremes():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for dtype in DTYPES:
            z = np.array([[-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4]], dtype=dtype)
            a = z.copy()
            ACTIVATIONS["logistic"](a)
            assert np.all(np.isfinite(a)) and np.all((a >= 0) & (a <= 1))
            s = z.copy()
            ACTIVATIONS["softmax"](s)
            assert np.all(np.isfinite(s))
            assert_allclose(s.sum(axis=1), 1, rtol=1e-6)
            for loss in (LOSSES["logistic"], LOSSES["softmax"]):
                # Targets: a one-hot row; the loss comes from z, not log(a).
                Y = np.zeros_like(z)
                Y[0, 0] = 1
                value = loss.fn(Y, z)
                assert np.all(np.isfinite(value))
                assert value[0] > 1e3  # confidently wrong: big, finite loss


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("output_activation", OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_unscaled_inputs_train_without_warnings_or_nan(
    dataset, activation, output_activation, dtype
):
    X, y = DATASETS[dataset]()
    X = X.astype(dtype)
    # Adam's step is bounded by the learning rate whatever the scale of the
    # gradient, so any divergence here would be numerical, not mathematical.
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(16,),
        activation=activation,
        output_activation=output_activation,
        solver="adam",
        learning_rate_init=1e-3,
        max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clf.fit(X, y)
        _assert_all_finite_weights(clf)
        assert all(c.dtype == dtype for c in clf.coefs_ + clf.intercepts_)
        assert np.all(np.isfinite(clf.loss_curve_))
        _assert_valid_probabilities(clf, X)
        assert clf.predict_proba(X).dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("output_activation", OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_saturating_units_with_sgd_on_raw_pixels(activation, output_activation, dtype):
    """The notebook's setting (sigmoid, lr 0.1) on unscaled pixels: saturated
    sigmoids must not produce log(0), exp overflow or NaN."""
    X, y = _pixels()
    X = X.astype(dtype)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(16,),
        activation=activation,
        output_activation=output_activation,
        max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clf.fit(X, y)
        _assert_all_finite_weights(clf)
        assert np.all(np.isfinite(clf.loss_curve_))
        _assert_valid_probabilities(clf, X)


def _extreme_rows(n_features, value):
    return np.array(
        [
            [value] * n_features,
            [-value] * n_features,
            [value if j % 2 else -value for j in range(n_features)],
            [0.0] * (n_features - 1) + [value],
            [0.0] * n_features,
        ]
    )


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("output_activation", OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_predict_on_extreme_inputs(activation, output_activation, dtype, n_classes):
    X, y = _toy(n_samples=120, n_features=5, n_classes=n_classes)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(8,),
        activation=activation,
        output_activation=output_activation,
        learning_rate_init=0.05,
        max_iter=20,
        random_state=0,
    ).fit(X.astype(dtype), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for value in (1e30, 1e10):
            _assert_valid_probabilities(clf, _extreme_rows(5, value).astype(dtype))


@pytest.mark.parametrize("output_activation", OUTPUT_ACTIVATIONS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_float32_model_on_inputs_near_float32_max(activation, output_activation):
    """Inputs that float32 represents (1e38 < 3.4e38) overflow the float32
    forward pass of unbounded units; predictions must stay well defined."""
    for n_classes in (2, 3):
        X, y = _toy(n_samples=120, n_features=5, n_classes=n_classes)
        clf = BackpropMLPClassifier(
            hidden_layer_sizes=(8,),
            activation=activation,
            output_activation=output_activation,
            learning_rate_init=0.05,
            max_iter=20,
            random_state=0,
        ).fit(X.astype(np.float32), y)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            _assert_valid_probabilities(clf, _extreme_rows(5, 1e38).astype(np.float32))


# ----------------------------------------------------------------------------
# Divergence
# ----------------------------------------------------------------------------
def test_fit_never_returns_a_model_whose_outputs_overflow():
    """Found by Hypothesis: float32, identity units, lr 1.0 on inputs ~355.
    The loss grows to 1e22 but stays finite while training, so fit returned
    weights ~1e15 whose float32 forward pass overflows: predict_proba gave NaN.
    Either fit reports the divergence, or the model predicts sane values."""
    X = np.full((19, 1), 355.0, dtype=np.float32)
    y = np.array([42, 255, 42, 42, 42, 42, 255, 0, 0, 42, 42, 42, 42, 42, 42, 42])
    y = np.r_[y, 42, 42, 0]
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(1, 3),
        activation="identity",
        learning_rate_init=1.0,
        momentum=0.0,
        batch_size=19,
        alpha=0.0,
        max_iter=3,
        shuffle=False,
        random_state=1,
    )
    try:
        clf.fit(X, y)
    except FloatingPointError as exc:
        assert "learning_rate_init" in str(exc)
        _assert_all_finite_weights(clf)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _assert_valid_probabilities(clf, X)


def _digits(scale):
    X, y = load_digits(return_X_y=True)
    return X[:200] * scale, y[:200]


DIVERGING = [
    pytest.param("identity", np.float64, id="identity-float64"),
    pytest.param("identity", np.float32, id="identity-float32"),
    pytest.param("relu", np.float32, id="relu-float32"),
]
# With most starting draws, a step of 1e3 kills every ReLU unit in the first
# epoch (a finite, constant network); this one overflows float32 instead.
RELU_DIVERGING = dict(hidden_layer_sizes=(64,), random_state=4)


def _diverging_clf(activation, **params):
    defaults = dict(
        hidden_layer_sizes=(16,),
        activation=activation,
        # A constant step: the weights after k epochs are fit(max_iter=k)'s.
        learning_rate="constant",
        learning_rate_init=1e3,
        max_iter=30,
        random_state=0,
    )
    if activation == "relu":
        defaults.update(RELU_DIVERGING)
    return BackpropMLPClassifier(**(defaults | params))


@pytest.mark.parametrize("activation, dtype", DIVERGING)
def test_divergent_fit_raises_and_keeps_last_finite_weights(activation, dtype):
    X, y = _digits(1e3)
    X = X.astype(dtype)
    clf = _diverging_clf(activation)
    with pytest.raises(FloatingPointError) as excinfo:
        clf.fit(X, y)
    message = str(excinfo.value)
    assert "learning_rate_init" in message
    assert "scale" in message

    _assert_all_finite_weights(clf)
    assert clf.n_iter_ == len(clf.loss_curve_)
    assert np.all(np.isfinite(clf.loss_curve_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pred = clf.predict(X)
    assert np.all(np.isin(pred, clf.classes_))
    # The last finite weights are those of the last completed epoch.
    assert clf.n_iter_ >= 1
    reference = _diverging_clf(activation, max_iter=clf.n_iter_).fit(X, y)
    _assert_weights_equal(clf, _weights(reference))


@pytest.mark.parametrize("activation, dtype", DIVERGING)
def test_divergent_warm_start_keeps_weights_from_before_the_call(activation, dtype):
    X, y = _digits(1e3)
    X = X.astype(dtype)
    clf = _diverging_clf(activation, learning_rate_init=1e-6, max_iter=3)
    clf.fit(X / 1e3 / 16, y)
    weights = _weights(clf)
    clf.set_params(warm_start=True, learning_rate_init=1e3, max_iter=30)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        clf.fit(X, y)
    _assert_weights_equal(clf, weights)
    # The model still works and can be trained on with a sane step size.
    _assert_valid_probabilities(clf, X[:20] / 1e3 / 16)
    clf.set_params(learning_rate_init=1e-3, max_iter=2)
    clf.fit(X / 1e3 / 16, y)
    _assert_all_finite_weights(clf)


def test_divergent_warm_start_restores_the_training_history():
    """The weights go back to those before the call, so must n_iter_, t_ and
    the curves: they describe the weights the estimator holds."""
    X, y = _digits(1e3)
    clf = _diverging_clf("identity", learning_rate_init=1e-3, max_iter=3)
    clf.fit(X / 1e3 / 16, y)
    history = (clf.n_iter_, clf.t_, list(clf.loss_curve_), clf.loss_)
    clf.set_params(warm_start=True, learning_rate_init=1e3, max_iter=30)
    with pytest.raises(FloatingPointError):
        clf.fit(X, y)
    assert (clf.n_iter_, clf.t_, list(clf.loss_curve_), clf.loss_) == history


def test_divergent_partial_fit_keeps_weights_from_before_the_call():
    X, y = _digits(1e3)
    clf = _diverging_clf("identity")
    for _ in range(30):
        weights = _weights(clf) if hasattr(clf, "coefs_") else None
        n_iter = getattr(clf, "n_iter_", 0)
        try:
            clf.partial_fit(X, y, classes=np.arange(10))
        except FloatingPointError as exc:
            assert "learning_rate_init" in str(exc)
            break
    else:
        pytest.fail("partial_fit with learning_rate_init=1e3 never diverged")
    assert weights is not None
    _assert_weights_equal(clf, weights)
    assert clf.n_iter_ == n_iter
    _assert_all_finite_weights(clf)


# ----------------------------------------------------------------------------
# Interruption (KeyboardInterrupt)
# ----------------------------------------------------------------------------
def _interrupt_after(monkeypatch, n_calls):
    """Make the n_calls-th minibatch step raise KeyboardInterrupt."""
    original = minibatch_module.loss_and_gradients
    count = {"calls": 0}

    def step(*args, **kwargs):
        count["calls"] += 1
        if count["calls"] == n_calls:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(minibatch_module, "loss_and_gradients", step)
    return count


@contextlib.contextmanager
def _interrupt_handled():
    """Fail the test (instead of aborting pytest) if the interrupt escapes fit,
    and require the warning that training was interrupted."""
    try:
        with pytest.warns(UserWarning, match="(?i)interrupted"):
            yield
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped from fit instead of ending training")


# A constant step, so that the weights of k completed epochs are those of
# fit(max_iter=k) ('one_cycle' stretches its cycle over max_iter).
INTERRUPT_PARAMS = dict(
    hidden_layer_sizes=(6,),
    batch_size=30,
    learning_rate="constant",
    learning_rate_init=0.1,
    random_state=0,
)


# 90 samples, batch_size 30: 3 minibatch steps per epoch.
@pytest.mark.parametrize(
    "raise_on_call, completed", [(1, 0), (3, 0), (4, 1), (7, 2), (9, 2), (14, 4)]
)
def test_keyboard_interrupt_keeps_last_completed_epoch(
    monkeypatch, raise_on_call, completed
):
    X, y = _toy(n_samples=90)
    _interrupt_after(monkeypatch, raise_on_call)
    clf = BackpropMLPClassifier(max_iter=10, **INTERRUPT_PARAMS)
    with _interrupt_handled():
        clf.fit(X, y)
    monkeypatch.undo()

    assert clf.n_iter_ == completed
    assert len(clf.loss_curve_) == completed
    assert clf.t_ == completed * len(X)
    _assert_all_finite_weights(clf)
    assert np.all(np.isin(clf.predict(X), clf.classes_))
    if completed:
        reference = BackpropMLPClassifier(max_iter=completed, **INTERRUPT_PARAMS)
        reference.fit(X, y)
        _assert_weights_equal(clf, _weights(reference))

    # Resume with warm_start.
    weights = _weights(clf)
    clf.set_params(warm_start=True, max_iter=2)
    clf.fit(X, y)
    assert clf.n_iter_ == 2  # the epochs of this call, as in scikit-learn
    assert len(clf.loss_curve_) == completed + 2
    assert not all(
        np.array_equal(a, b) for a, b in zip(weights, clf.coefs_ + clf.intercepts_)
    )


def test_keyboard_interrupt_with_early_stopping_keeps_best_epoch(monkeypatch):
    X, y = _toy(n_samples=90, seed=1)
    X_val, y_val = _toy(n_samples=45, seed=2)
    params = dict(
        INTERRUPT_PARAMS,
        early_stopping=True,
        learning_rate_init=0.5,
        n_iter_no_change=100,
    )
    _interrupt_after(monkeypatch, 3 * 12 + 2)  # during epoch 13
    clf = BackpropMLPClassifier(max_iter=50, **params)
    with _interrupt_handled():
        clf.fit(X, y, X_val=X_val, y_val=y_val)
    monkeypatch.undo()

    assert clf.n_iter_ == 12
    assert len(clf.validation_scores_) == 12
    # The best epoch is not the last one, so this checks the restore.
    assert np.argmax(clf.validation_scores_) != 11
    assert clf.score(X_val, y_val) == pytest.approx(max(clf.validation_scores_))
    reference = BackpropMLPClassifier(max_iter=12, **params)
    reference.fit(X, y, X_val=X_val, y_val=y_val)
    _assert_weights_equal(clf, _weights(reference))


def test_keyboard_interrupt_during_partial_fit_keeps_weights(monkeypatch):
    X, y = _toy(n_samples=90)
    clf = BackpropMLPClassifier(**INTERRUPT_PARAMS).partial_fit(X, y)
    weights, n_epochs = _weights(clf), len(clf.loss_curve_)
    _interrupt_after(monkeypatch, 2)
    with _interrupt_handled():
        clf.partial_fit(X, y)
    monkeypatch.undo()
    _assert_weights_equal(clf, weights)
    assert len(clf.loss_curve_) == n_epochs
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == n_epochs + 1


def test_keyboard_interrupt_during_validation_scoring(monkeypatch):
    """Ctrl-C can arrive while the validation set is scored after an epoch
    (which takes a while on a large validation set): training must end
    just as cleanly as when it arrives inside a minibatch step."""
    X, y = _toy(n_samples=90, seed=1)
    X_val, y_val = _toy(n_samples=45, seed=2)
    params = dict(INTERRUPT_PARAMS, early_stopping=True, learning_rate_init=0.5)
    original = BackpropMLPClassifier._validation_figures
    count = {"calls": 0}

    def record(self, *args):
        count["calls"] += 1
        if count["calls"] == 6:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(BackpropMLPClassifier, "_validation_figures", record)
    clf = BackpropMLPClassifier(max_iter=20, **params)
    with _interrupt_handled():
        clf.fit(X, y, X_val=X_val, y_val=y_val)
    monkeypatch.undo()

    assert clf.n_iter_ == len(clf.loss_curve_) == len(clf.validation_scores_)
    reference = BackpropMLPClassifier(max_iter=clf.n_iter_, **params)
    reference.fit(X, y, X_val=X_val, y_val=y_val)
    _assert_weights_equal(clf, _weights(reference))


# ----------------------------------------------------------------------------
# Thread safety
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("output_activation", OUTPUT_ACTIVATIONS)
def test_concurrent_predictions_equal_serial_ones(output_activation, dtype):
    X, y = _toy(n_samples=600, n_features=8, n_classes=4)
    X = X.astype(dtype)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(32, 16),
        activation="tanh",
        output_activation=output_activation,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    clf._predict_chunk_size = 50  # several chunks per call, too
    rng = np.random.RandomState(0)
    slices = []
    for _ in range(120):
        start = rng.randint(0, len(X) - 1)
        slices.append(slice(start, rng.randint(start + 1, len(X) + 1)))
    methods = ["predict", "predict_proba", "predict_log_proba"]
    jobs = [(m, s) for s in slices for m in methods]

    def run(job):
        method, rows = job
        return getattr(clf, method)(X[rows])

    serial = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(run, jobs))
    for expected, got in zip(serial, concurrent):
        assert_array_equal(got, expected)


# ----------------------------------------------------------------------------
# Persistence
# ----------------------------------------------------------------------------
def _pickle_roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


def _joblib_roundtrip(obj):
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


ROUNDTRIPS = {"pickle": _pickle_roundtrip, "joblib": _joblib_roundtrip}


def test_saved_files_record_the_package_version(tmp_path):
    clf, _, _ = _fitted()
    state = clf.__getstate__()
    assert state["_sklearn_backprop_version"] == sklearn_backprop.__version__
    version = sklearn_backprop.__version__.encode()
    assert version in pickle.dumps(clf)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    assert version in path.read_bytes()


def test_getstate_does_not_modify_the_estimator():
    """__getstate__ must return a new dict, not add the version key to the
    live estimator's __dict__ (object.__getstate__ returns __dict__ itself)."""
    clf, _, _ = _fitted()
    before = dict(vars(clf))
    state = clf.__getstate__()
    pickle.dumps(clf)
    assert "_sklearn_backprop_version" in state
    assert set(vars(clf)) == set(before)
    state["n_iter_"] = -1
    assert clf.n_iter_ == before["n_iter_"]


@pytest.mark.parametrize("roundtrip", list(ROUNDTRIPS))
def test_same_version_loads_without_warning(roundtrip):
    clf, X, _ = _fitted()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = ROUNDTRIPS[roundtrip](clf)
    assert "_sklearn_backprop_version" not in vars(loaded)
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("roundtrip", list(ROUNDTRIPS))
def test_other_version_warns_on_load(monkeypatch, roundtrip):
    clf, X, _ = _fitted()
    monkeypatch.setattr(base_module, "__version__", "0.0.1")
    if roundtrip == "pickle":
        data = pickle.dumps(clf)
    else:
        buffer = io.BytesIO()
        joblib.dump(clf, buffer)
        data = buffer.getvalue()
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning) as record:
        if roundtrip == "pickle":
            loaded = pickle.loads(data)
        else:
            loaded = joblib.load(io.BytesIO(data))
    warning = record[0].message
    assert warning.original_version == "0.0.1"
    assert warning.current_version == sklearn_backprop.__version__
    assert warning.estimator_name == "BackpropMLPClassifier"
    assert "0.0.1" in str(warning) and sklearn_backprop.__version__ in str(warning)
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("saved", ["0.0.1", None], ids=["other-version", "no-version"])
def test_setstate_with_edited_version(saved):
    clf, X, _ = _fitted()
    state = dict(clf.__getstate__())
    if saved is None:
        del state["_sklearn_backprop_version"]  # a file from before versioning
    else:
        state["_sklearn_backprop_version"] = saved
    new = BackpropMLPClassifier.__new__(BackpropMLPClassifier)
    with pytest.warns(InconsistentVersionWarning, match=saved or "unknown"):
        new.__setstate__(state)
    assert_array_equal(new.predict(X), clf.predict(X))


SKOPS_CASES = {
    "sgd": dict(),
    "adam-softmax": dict(solver="adam", output_activation="softmax"),
    "float32-str-labels": dict(),
    "early_stopping-class_weight": dict(early_stopping=True, class_weight="balanced"),
    "class_weight-dict-rng-instance": dict(
        class_weight={"b": 2.0}, random_state=np.random.RandomState(3)
    ),
    "multilabel": dict(hidden_layer_sizes=(4, 3)),
    "after-partial_fit": dict(),
}


@pytest.mark.parametrize("case", list(SKOPS_CASES))
def test_skops_roundtrip_trusts_only_own_types(case):
    X, y = _toy()
    params = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    params.update(SKOPS_CASES[case])
    clf = BackpropMLPClassifier(**params)
    if case == "float32-str-labels":
        X = X.astype(np.float32)
    if case != "multilabel":
        y = np.array(["a", "b", "c"])[y]
    else:
        y = np.c_[y == 0, y == 1, y != 1].astype(int)
    if case == "after-partial_fit":
        clf.partial_fit(X, y)
    else:
        clf.fit(X, y)

    data = sio.dumps(clf)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted, "the estimator's own class must need trust"
    assert all(name.startswith("sklearn_backprop.") for name in untrusted), untrusted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = sio.loads(data, trusted=untrusted)
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(loaded.predict(X), clf.predict(X))
    assert "_sklearn_backprop_version" not in vars(loaded)

    # Both continue identically ('balanced' is not available in partial_fit).
    if params.get("class_weight") != "balanced":
        loaded.partial_fit(X, y)
        clf.partial_fit(X, y)
        _assert_weights_equal(loaded, _weights(clf))
        assert loaded.n_iter_ == clf.n_iter_


def test_skops_refuses_untrusted_load():
    clf, _, _ = _fitted()
    data = sio.dumps(clf)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)


def test_skops_from_other_version_warns(monkeypatch):
    clf, X, _ = _fitted()
    monkeypatch.setattr(base_module, "__version__", "0.0.1")
    data = sio.dumps(clf)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
