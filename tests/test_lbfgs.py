"""solver='lbfgs': full-batch L-BFGS-B on the flat parameter vector, for both
estimators: its stopping rules, its history, its limits and its failures."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning

import sklearn_backprop._lbfgs as lbfgs_module
from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor
from sklearn_backprop._network import (
    FlatParameters,
    allocate_activations,
    loss_and_gradients,
)

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_DIGITS, Y_DIGITS = X_DIGITS[:300] / 16.0, Y_DIGITS[:300]
X_REG, Y_REG = make_friedman1(n_samples=300, noise=0.5, random_state=0)


def classifier(**params):
    defaults = dict(solver="lbfgs", hidden_layer_sizes=(10,), random_state=0)
    return BackpropMLPClassifier(**{**defaults, **params})


def regressor(**params):
    defaults = dict(solver="lbfgs", hidden_layer_sizes=(10,), random_state=0)
    return BackpropMLPRegressor(**{**defaults, **params})


def _loss_and_gradient(model, X, Y):
    """J and dJ/dtheta of a fitted model on (X, Y), recomputed from scratch."""
    units = [X.shape[1]] + [c.shape[1] for c in model.coefs_]
    params = FlatParameters.from_arrays(model.coefs_, model.intercepts_, X.dtype)
    grads = FlatParameters(units, X.dtype)
    buffers = [allocate_activations(units, len(X), X.dtype) for _ in range(2)]
    loss = loss_and_gradients(
        params,
        grads,
        X,
        Y,
        np.ones(len(X)),
        model.activation,
        model.out_activation_,
        model.alpha,
        *buffers,
    )
    return loss, grads.flat


@pytest.mark.parametrize("tol", [0.2, 0.05])
def test_stops_when_no_gradient_component_exceeds_tol(tol):
    reg = regressor(hidden_layer_sizes=(5,), tol=tol, max_iter=10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it converged
        reg.fit(X_REG, Y_REG)
    # The network learns the standardised targets.
    Y = (Y_REG[:, None] - reg.target_mean_) / reg.target_scale_
    loss, gradient = _loss_and_gradient(reg, X_REG, Y)
    assert np.max(np.abs(gradient)) <= tol
    assert reg.loss_ == pytest.approx(loss, rel=1e-12)
    # not before: the previous iterate still had a larger gradient component
    assert reg.n_iter_ > 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_history_has_one_entry_per_iteration_and_the_loss_decreases():
    clf = classifier(max_iter=40).fit(X_DIGITS, Y_DIGITS)
    assert clf.n_iter_ == len(clf.loss_curve_) == len(clf.train_scores_) == 40
    # each iteration satisfies the line search's sufficient-decrease condition
    assert np.all(np.diff(clf.loss_curve_) < 0)
    assert clf.best_loss_ == min(clf.loss_curve_) == clf.loss_
    assert clf.train_scores_[-1] == pytest.approx(clf.score(X_DIGITS, Y_DIGITS))
    assert clf.t_ == 0  # counts the samples of the stochastic solvers only
    assert clf.validation_scores_ is None


@pytest.mark.parametrize("limit", ["max_iter", "max_fun"])
def test_a_limit_warns_and_bounds_the_work(monkeypatch, limit):
    evaluations = {"count": 0}
    original = lbfgs_module.FullBatchObjective.__call__

    def counting(self, theta):
        evaluations["count"] += 1
        return original(self, theta)

    monkeypatch.setattr(lbfgs_module.FullBatchObjective, "__call__", counting)
    params = {"max_iter": 7} if limit == "max_iter" else {"max_fun": 5}
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf = classifier(**params).fit(X_DIGITS, Y_DIGITS)
    if limit == "max_iter":
        assert clf.n_iter_ == 7
    else:
        # SciPy finishes the iteration during which the limit is passed
        assert clf.n_iter_ < 7
        assert evaluations["count"] <= 5 + 20  # at most one more line search


def test_no_partial_fit():
    clf = classifier()
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit") as error:
        clf.partial_fit(X_DIGITS, Y_DIGITS)
    # the reason, chained by scikit-learn's available_if
    assert "solver='lbfgs' trains on the full batch" in str(error.value.__cause__)
    assert not hasattr(regressor(), "partial_fit")
    assert hasattr(regressor(solver="adam"), "partial_fit")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_float32_model_stays_float32():
    X32 = X_DIGITS.astype(np.float32)
    clf32 = classifier(max_iter=30).fit(X32, Y_DIGITS)
    clf64 = classifier(max_iter=30).fit(X_DIGITS, Y_DIGITS)
    assert all(w.dtype == np.float32 for w in clf32.coefs_ + clf32.intercepts_)
    assert clf32.predict_proba(X32).dtype == np.float32
    # the same optimisation, in float32 arithmetic: the curves stay close
    assert_allclose(clf32.loss_curve_[:10], clf64.loss_curve_[:10], rtol=1e-3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_continues_from_the_weights():
    reg = regressor(max_iter=20, warm_start=True).fit(X_REG, Y_REG)
    first = list(reg.loss_curve_)
    reg.fit(X_REG, Y_REG)
    assert reg.n_iter_ == 20
    assert reg.loss_curve_[:20] == first
    assert len(reg.loss_curve_) == 40
    assert reg.loss_curve_[20] < first[-1]  # not a fresh start
    fresh = regressor(max_iter=20).fit(X_REG, Y_REG)
    assert fresh.loss_curve_ == first


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_validation_set_is_scored_each_iteration_and_early_stopping_ignored():
    X_val, y_val = X_DIGITS[200:], Y_DIGITS[200:]
    clf = classifier(max_iter=15, early_stopping=True, n_iter_no_change=1)
    clf.fit(X_DIGITS[:200], Y_DIGITS[:200], X_val=X_val, y_val=y_val)
    assert clf.n_iter_ == 15  # no early stop: L-BFGS has its own rule
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == 15
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X_val, y_val))
    assert clf.best_loss_ is not None
    # without X_val, early_stopping holds nothing out for lbfgs
    clf = classifier(max_iter=5, early_stopping=True).fit(X_DIGITS, Y_DIGITS)
    assert clf.validation_scores_ is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_integer_weights_equal_repeated_rows():
    """lbfgs minimises the exact full-batch objective, so counting a sample
    twice and weighting it 2 are the same problem."""
    weights = np.arange(len(X_REG)) % 3
    rows = np.repeat(np.arange(len(X_REG)), weights)
    weighted = regressor(max_iter=10).fit(X_REG, Y_REG, sample_weight=weights)
    repeated = regressor(max_iter=10).fit(X_REG[rows], Y_REG[rows])
    assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-8)
    assert_allclose(weighted.predict(X_REG), repeated.predict(X_REG), rtol=1e-6)


def test_keyboard_interrupt_keeps_the_last_iteration(monkeypatch):
    original = lbfgs_module.FullBatchObjective.__call__
    calls = {"count": 0}

    def interrupting(self, theta):
        calls["count"] += 1
        if calls["count"] == 12:
            raise KeyboardInterrupt
        return original(self, theta)

    monkeypatch.setattr(lbfgs_module.FullBatchObjective, "__call__", interrupting)
    with pytest.warns(UserWarning, match="interrupted"):
        clf = classifier(max_iter=100).fit(X_DIGITS, Y_DIGITS)
    monkeypatch.undo()
    completed = clf.n_iter_
    assert 1 <= completed < 12
    assert len(clf.loss_curve_) == completed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = classifier(max_iter=completed).fit(X_DIGITS, Y_DIGITS)
    for a, b in zip(clf.coefs_, reference.coefs_, strict=True):
        assert_array_equal(a, b)


def test_a_bad_input_loses_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = regressor(max_iter=5, warm_start=True).fit(X_REG, Y_REG)
    before = [w.copy() for w in reg.coefs_]
    X_bad = X_REG.copy()
    X_bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(X_bad, Y_REG)
    for a, b in zip(before, reg.coefs_, strict=True):
        assert_array_equal(a, b)
    assert len(reg.loss_curve_) == 5


def test_a_failed_line_search_warns(monkeypatch):
    """A gradient that is not the loss's (here: its opposite) leaves the line
    search without a lower loss: SciPy gives up, and so must fit, loudly."""
    original = lbfgs_module.FullBatchObjective.__call__

    def wrong_gradient(self, theta):
        loss, gradient = original(self, theta)
        return loss, -gradient

    monkeypatch.setattr(lbfgs_module.FullBatchObjective, "__call__", wrong_gradient)
    with pytest.warns(ConvergenceWarning, match="ABNORMAL"):
        classifier(max_iter=50).fit(X_DIGITS, Y_DIGITS)
