"""BackpropMLPRegressor: targets, scores, training modes, inputs, persistence
and bad input. Its gradients are checked in test_gradients.py, its agreement
with scikit-learn's MLPRegressor in test_parity.py."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import skops.io as sio
from _helpers import assert_same_weights, ignore_convergence
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_friedman1
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_backprop import BackpropMLPRegressor
from sklearn_backprop.exceptions import DivergenceError

X_F, Y_F = make_friedman1(n_samples=600, noise=0.5, random_state=0)
X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = train_test_split(X_F, Y_F, random_state=0)
# Two outputs on different scales.
Y2_TRAIN = np.c_[Y_TRAIN, -0.5 * Y_TRAIN + X_TRAIN[:, 0]]
Y2_TEST = np.c_[Y_TEST, -0.5 * Y_TEST + X_TEST[:, 0]]


def small(**params):
    """A small, fast, reproducible regressor."""
    defaults = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    return BackpropMLPRegressor(**{**defaults, **params})


# ----------------------------------------------------------------------
# Targets and scores
# ----------------------------------------------------------------------
@ignore_convergence
def test_single_output_predictions_are_1d():
    reg = small().fit(X_TRAIN, Y_TRAIN)
    assert reg.n_outputs_ == 1
    assert reg.out_activation_ == "identity"
    assert reg.predict(X_TEST).shape == (len(X_TEST),)


@ignore_convergence
def test_column_target_warns_and_is_raveled():
    with pytest.warns(DataConversionWarning):
        reg = small().fit(X_TRAIN, Y_TRAIN[:, None])
    assert reg.predict(X_TEST).shape == (len(X_TEST),)


@ignore_convergence
def test_multi_output():
    reg = small(solver="lbfgs", max_iter=300).fit(X_TRAIN, Y2_TRAIN)
    assert reg.n_outputs_ == 2
    pred = reg.predict(X_TEST)
    assert pred.shape == Y2_TEST.shape
    assert reg.score(X_TEST, Y2_TEST) == pytest.approx(r2_score(Y2_TEST, pred))
    assert reg.score(X_TEST, Y2_TEST) > 0.8


@ignore_convergence
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_learns_a_smooth_function(solver):
    """Friedman #1: each solver gets well past a linear model's test R² (0.773
    on this split) towards the noise-free function's (about 0.99)."""
    params = dict(
        adam=dict(max_iter=200),  # one-cycle, peak 0.01
        sgd=dict(max_iter=200),  # one-cycle, peak 0.05
        lbfgs=dict(max_iter=400),
    )[solver]
    reg = small(solver=solver, hidden_layer_sizes=(32,), **params)
    reg.fit(X_TRAIN, Y_TRAIN)
    assert reg.score(X_TEST, Y_TEST) > 0.9


@ignore_convergence
def test_train_scores_are_r2_of_the_training_set():
    reg = small(solver="lbfgs", max_iter=50).fit(X_TRAIN, Y2_TRAIN)
    # lbfgs: each entry is the R² of that iterate; the last is the final model
    assert reg.train_scores_[-1] == pytest.approx(reg.score(X_TRAIN, Y2_TRAIN))
    assert len(reg.train_scores_) == reg.n_iter_
    # minibatches: a running figure, near the end-of-epoch R² once converged
    reg = small(learning_rate_init=0.01, max_iter=200).fit(X_TRAIN, Y_TRAIN)
    assert abs(reg.train_scores_[-1] - reg.score(X_TRAIN, Y_TRAIN)) < 0.05


@ignore_convergence
def test_loss_is_half_the_mean_squared_error_plus_penalty():
    """lbfgs reports J at its last iterate, in standardised units: check it
    by hand."""
    reg = small(solver="lbfgs", max_iter=20, alpha=0.3).fit(X_TRAIN, Y2_TRAIN)
    assert_allclose(reg.target_mean_, Y2_TRAIN.mean(axis=0), rtol=1e-12)
    assert_allclose(reg.target_scale_, Y2_TRAIN.std(axis=0), rtol=1e-12)
    residual = (reg.predict(X_TRAIN) - Y2_TRAIN) / reg.target_scale_
    data_loss = 0.5 * np.mean(np.sum(residual**2, axis=1))
    penalty = 0.3 / (2 * len(X_TRAIN)) * sum(np.sum(c**2) for c in reg.coefs_)
    assert reg.loss_ == pytest.approx(data_loss + penalty, rel=1e-10)
    assert reg.loss_curve_[-1] == reg.loss_


# ----------------------------------------------------------------------
# Training modes
# ----------------------------------------------------------------------
@ignore_convergence
def test_partial_fit_epochs_equal_fit_epochs():
    params = dict(
        batch_size=50, shuffle=False, solver="sgd", learning_rate_init=0.01, max_iter=3
    )
    fitted = small(**params).fit(X_TRAIN, Y_TRAIN)
    incremental = small(**params)
    for _ in range(3):
        incremental.partial_fit(X_TRAIN, Y_TRAIN)
    assert_same_weights(incremental, fitted)
    assert incremental.loss_curve_ == fitted.loss_curve_
    assert incremental.n_iter_ == 1 and fitted.n_iter_ == 3
    assert incremental.t_ == fitted.t_ == 3 * len(X_TRAIN)


@ignore_convergence
def test_warm_start_continues_and_counts_the_last_call():
    reg = small(max_iter=5, warm_start=True, learning_rate_init=0.01)
    reg.fit(X_TRAIN, Y_TRAIN)
    first_curve = list(reg.loss_curve_)
    reg.fit(X_TRAIN, Y_TRAIN)
    assert reg.n_iter_ == 5
    assert len(reg.loss_curve_) == 10
    assert reg.loss_curve_[:5] == first_curve
    assert reg.loss_curve_[5] < first_curve[0]  # it did not start afresh
    assert reg.t_ == 10 * len(X_TRAIN)


@ignore_convergence
def test_integer_sample_weights_equal_repeated_rows_in_full_batches():
    weights = np.arange(len(X_TRAIN)) % 3  # 0, 1 or 2 copies of each row
    rows = np.repeat(np.arange(len(X_TRAIN)), weights)
    params = dict(solver="sgd", batch_size=10_000, shuffle=False, max_iter=5)
    weighted = small(**params).fit(X_TRAIN, Y_TRAIN, sample_weight=weights)
    repeated = small(**params).fit(X_TRAIN[rows], Y_TRAIN[rows])
    for a, b in zip(weighted.coefs_, repeated.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)


@ignore_convergence
def test_validation_set_curves():
    reg = small(learning_rate_init=0.01, max_iter=8, tol=0, n_iter_no_change=100)
    reg.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    assert len(reg.validation_scores_) == len(reg.validation_loss_curve_) == 8
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X_TEST, Y_TEST))
    # The loss is in standardised units; the score is in y's.
    residual = (reg.predict(X_TEST) - Y_TEST) / reg.target_scale_[0]
    assert reg.validation_loss_curve_[-1] == pytest.approx(0.5 * np.mean(residual**2))
    assert reg.best_validation_score_ == max(reg.validation_scores_)


@ignore_convergence
def test_early_stopping_keeps_the_best_epoch():
    reg = small(
        early_stopping=True, learning_rate_init=0.05, n_iter_no_change=3, max_iter=200
    )
    reg.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    assert reg.n_iter_ < 200
    assert reg.best_loss_ is None
    assert reg.score(X_TEST, Y_TEST) == pytest.approx(reg.best_validation_score_)
    # held out from the training data when no X_val is given
    reg = small(early_stopping=True, validation_fraction=0.2).fit(X_TRAIN, Y_TRAIN)
    assert reg.t_ == reg.n_iter_ * (len(X_TRAIN) - int(np.ceil(0.2 * len(X_TRAIN))))


# ----------------------------------------------------------------------
# Inputs and dtypes
# ----------------------------------------------------------------------
@ignore_convergence
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_stays_float32(solver):
    reg = small(solver=solver).fit(X_TRAIN.astype(np.float32), Y2_TRAIN)
    assert all(c.dtype == np.float32 for c in reg.coefs_ + reg.intercepts_)
    assert reg.predict(X_TEST.astype(np.float32)).dtype == np.float32
    reference = small(solver=solver).fit(X_TRAIN, Y2_TRAIN)
    assert abs(reg.score(X_TEST, Y2_TEST) - reference.score(X_TEST, Y2_TEST)) < 0.05


@ignore_convergence
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_equals_dense(fmt):
    dense = small(max_iter=5).fit(X_TRAIN, Y_TRAIN)
    sparse = small(max_iter=5).fit(sp.csr_matrix(X_TRAIN).asformat(fmt), Y_TRAIN)
    for a, b in zip(dense.coefs_, sparse.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert_allclose(sparse.predict(sp.csr_matrix(X_TEST)), dense.predict(X_TEST))


@ignore_convergence
def test_pickle_and_skops_round_trips_continue_identically():
    reg = small(max_iter=3).fit(X_TRAIN, Y2_TRAIN)
    from_pickle = pickle.loads(pickle.dumps(reg))
    data = sio.dumps(reg)
    untrusted = sio.get_untrusted_types(data=data)
    assert all(name.startswith("sklearn_backprop.") for name in untrusted), untrusted
    from_skops = sio.loads(data, trusted=untrusted)
    for loaded in (from_pickle, from_skops):
        assert_array_equal(loaded.predict(X_TEST), reg.predict(X_TEST))
    for model in (reg, from_pickle, from_skops):
        model.partial_fit(X_TRAIN, Y2_TRAIN)
    assert_same_weights(from_pickle, reg)
    assert_same_weights(from_skops, reg)


# ----------------------------------------------------------------------
# Poisson
# ----------------------------------------------------------------------
@ignore_convergence
def test_poisson_learns_a_log_linear_rate():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(800, 3))
    rate = np.exp(1.0 + X[:, 0] - 0.5 * X[:, 1])
    y = rng.poisson(rate)
    reg = small(loss="poisson", solver="lbfgs", max_iter=200).fit(X, y)
    assert reg.out_activation_ == "exp"
    pred = reg.predict(X)
    assert np.all(pred > 0)
    # recovers the rate far better than the constant mean
    assert np.mean((pred - rate) ** 2) < 0.1 * np.mean((y.mean() - rate) ** 2)


def test_poisson_rejects_negative_targets():
    reg = small(loss="poisson")
    with pytest.raises(ValueError, match="non-negative"):
        reg.fit(X_TRAIN, Y_TRAIN - 100)
    assert not hasattr(reg, "coefs_")


# ----------------------------------------------------------------------
# Bad input: a clear error, nothing lost
# ----------------------------------------------------------------------
@ignore_convergence
@pytest.mark.parametrize(
    "y, message",
    [
        (np.array(["a", "b"] * 225), "string"),
        (np.r_[np.nan, Y_TRAIN[1:]], "NaN"),
        (np.c_[Y_TRAIN, Y_TRAIN, Y_TRAIN], "3 output"),
        (Y_TRAIN[:, None, None], "y"),
    ],
    ids=["strings", "nan", "outputs", "3-d"],
)
def test_bad_targets_raise_and_keep_the_model(y, message):
    reg = small(max_iter=3).fit(X_TRAIN, Y2_TRAIN)
    before = [w.copy() for w in reg.coefs_ + reg.intercepts_]
    with pytest.raises(ValueError, match=message):
        reg.partial_fit(X_TRAIN, y)
    for a, b in zip(before, reg.coefs_ + reg.intercepts_, strict=True):
        assert_array_equal(a, b)
    assert len(reg.loss_curve_) == 3


def test_bad_validation_targets_are_named():
    with pytest.raises(ValueError, match="y_val has 2 output"):
        small().fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y2_TEST)


@pytest.mark.parametrize(
    "param, value",
    [("loss", "absolute_error"), ("loss", None), ("transform_layer", "last")],
)
def test_invalid_parameters_raise_scikit_learns_error(param, value):
    with pytest.raises(InvalidParameterError, match=param):
        small(**{param: value}).fit(X_TRAIN, Y_TRAIN)


def test_divergence_keeps_finite_weights():
    """Unscaled targets and a huge step: the loss overflows. The error names
    the cure, and the model keeps the weights of its last finite epoch."""
    reg = small(
        solver="sgd", learning_rate_init=10.0, max_iter=50, activation="identity"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DivergenceError, match="scale the inputs"):
            reg.fit(X_TRAIN, Y_TRAIN * 1e3)
    assert all(np.all(np.isfinite(w)) for w in reg.coefs_ + reg.intercepts_)
    assert len(reg.loss_curve_) == reg.n_iter_
