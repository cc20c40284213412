"""Numerical extremes and divergence. Unscaled inputs (raw pixels, values up
to 1e6, constant columns) and saturated units train in float32 and float64
without a ``RuntimeWarning`` or NaN, and inputs near the largest floats still
give valid probabilities. A learning rate far too large stops training with a
``FloatingPointError`` that names the cure, and the estimator keeps finite
weights: those of its last completed epoch, or with ``warm_start`` and
``partial_fit`` its whole state from before the call.
"""

import warnings

import numpy as np
import pytest
from _helpers import (
    assert_finite_weights,
    assert_same_weights,
    digits,
    ignore_convergence,
    toy,
    weights,
)
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor
from sklearn_backprop._activations import ACTIVATIONS
from sklearn_backprop._losses import LOSSES

pytestmark = ignore_convergence

HIDDEN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
OUTPUT_ACTIVATIONS = ["logistic", "softmax"]
DTYPES = [np.float32, np.float64]


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


# ----------------------------------------------------------------------------
# Numerical extremes
# ----------------------------------------------------------------------------
def _pixels():
    """Digits scaled to raw 0..255 pixel values, many constant-zero columns."""
    return digits(300, scale=255 / 16)


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
        assert_finite_weights(clf)
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
        assert_finite_weights(clf)
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
    X, y = toy(n_samples=120, n_features=5, n_classes=n_classes)
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
        X, y = toy(n_samples=120, n_features=5, n_classes=n_classes)
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
        assert_finite_weights(clf)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _assert_valid_probabilities(clf, X)


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
        batch_size=100,
        max_iter=30,
        random_state=0,
    )
    if activation == "relu":
        defaults.update(RELU_DIVERGING)
    return BackpropMLPClassifier(**(defaults | params))


@pytest.mark.parametrize("activation, dtype", DIVERGING)
def test_divergent_fit_raises_and_keeps_last_finite_weights(activation, dtype):
    X, y = digits(200, scale=1e3)
    X = X.astype(dtype)
    clf = _diverging_clf(activation)
    with pytest.raises(FloatingPointError) as excinfo:
        clf.fit(X, y)
    message = str(excinfo.value)
    assert "learning_rate_init" in message
    assert "scale" in message

    assert_finite_weights(clf)
    assert clf.n_iter_ == len(clf.loss_curve_)
    assert np.all(np.isfinite(clf.loss_curve_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pred = clf.predict(X)
    assert np.all(np.isin(pred, clf.classes_))
    # The last finite weights are those of the last completed epoch.
    assert clf.n_iter_ >= 1
    reference = _diverging_clf(activation, max_iter=clf.n_iter_).fit(X, y)
    assert_same_weights(clf, reference)


@pytest.mark.parametrize("activation, dtype", DIVERGING)
def test_divergent_warm_start_keeps_weights_from_before_the_call(activation, dtype):
    X, y = digits(200, scale=1e3)
    X = X.astype(dtype)
    clf = _diverging_clf(activation, learning_rate_init=1e-6, max_iter=3)
    clf.fit(X / 1e3 / 16, y)
    before = weights(clf)
    clf.set_params(warm_start=True, learning_rate_init=1e3, max_iter=30)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        clf.fit(X, y)
    assert_same_weights(clf, before)
    # The model still works and can be trained on with a sane step size.
    _assert_valid_probabilities(clf, X[:20] / 1e3 / 16)
    clf.set_params(learning_rate_init=1e-3, max_iter=2)
    clf.fit(X / 1e3 / 16, y)
    assert_finite_weights(clf)


def test_divergent_warm_start_restores_the_training_history():
    """The weights go back to those before the call, so must n_iter_, t_ and
    the curves: they describe the weights the estimator holds."""
    X, y = digits(200, scale=1e3)
    clf = _diverging_clf("identity", learning_rate_init=1e-3, max_iter=3)
    clf.fit(X / 1e3 / 16, y)
    history = (clf.n_iter_, clf.t_, list(clf.loss_curve_), clf.loss_)
    clf.set_params(warm_start=True, learning_rate_init=1e3, max_iter=30)
    with pytest.raises(FloatingPointError):
        clf.fit(X, y)
    assert (clf.n_iter_, clf.t_, list(clf.loss_curve_), clf.loss_) == history


def test_divergent_partial_fit_keeps_weights_from_before_the_call():
    X, y = digits(200, scale=1e3)
    clf = _diverging_clf("identity")
    for _ in range(30):
        before = weights(clf) if hasattr(clf, "coefs_") else None
        n_iter = getattr(clf, "n_iter_", 0)
        try:
            clf.partial_fit(X, y, classes=np.arange(10))
        except FloatingPointError as exc:
            assert "learning_rate_init" in str(exc)
            break
    else:
        pytest.fail("partial_fit with learning_rate_init=1e3 never diverged")
    assert before is not None
    assert_same_weights(clf, before)
    assert clf.n_iter_ == n_iter
    assert_finite_weights(clf)


def test_divergent_fit_from_assigned_weights_keeps_them():
    """Weights assigned by the user are a starting point like a fitted model's:
    a fit from them that diverges gives them back, unfitted as before."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = X @ np.array([1.0, 2.0, 3.0])
    reg = BackpropMLPRegressor(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=10.0,
        warm_start=True,
        max_iter=50,
        random_state=0,
    )
    reg.coefs_ = [np.full((3, 4), 0.1), np.full((4, 1), 0.1)]
    reg.intercepts_ = [np.zeros(4), np.zeros(1)]
    assigned = weights(reg)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        reg.fit(X * 1e3, y * 1e3)
    assert_same_weights(reg, assigned)
    assert not hasattr(reg, "n_outputs_") and not hasattr(reg, "loss_curve_")
