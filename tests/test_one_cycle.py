"""The 'one_cycle' step schedule, the classifier's default (issue 11).

The step rises linearly from 0 to ``learning_rate_init`` over the first
``warmup_fraction`` of ``max_iter`` epochs and falls linearly back to 0 at the
end, minibatch by minibatch; a fit that runs the cycle through has finished
(no ConvergenceWarning); ``partial_fit`` follows the cycle one epoch per call
and then starts another; a warm-started ``fit`` runs a new cycle.
"""

import pickle
import warnings

import numpy as np
import pytest
from _helpers import digits
from _steps import expected_steps, recorded_steps
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor
from sklearn_backprop import _minibatch as minibatch_module
from sklearn_backprop._schedules import (
    ConstantSchedule,
    OneCycleSchedule,
    make_schedule,
    one_cycle_learning_rate,
)


# ----------------------------------------------------------------------
# The schedule itself
# ----------------------------------------------------------------------
def test_step_rises_to_the_peak_and_falls_to_zero():
    peak, w = 0.6, 0.25
    assert one_cycle_learning_rate(peak, 0.0, w) == 0.0
    assert one_cycle_learning_rate(peak, w / 2, w) == pytest.approx(peak / 2)
    assert one_cycle_learning_rate(peak, w, w) == pytest.approx(peak)
    assert one_cycle_learning_rate(peak, (1 + w) / 2, w) == pytest.approx(peak / 2)
    assert one_cycle_learning_rate(peak, 1.0, w) == 0.0
    positions = np.linspace(0, 1, 101)
    steps = np.array([one_cycle_learning_rate(peak, p, w) for p in positions])
    assert np.all(np.diff(steps[positions <= w]) > 0)
    assert np.all(np.diff(steps[positions >= w]) < 0)
    # No warm-up: a linear fall from the peak.
    assert one_cycle_learning_rate(peak, 0.0, 0.0) == peak
    assert one_cycle_learning_rate(peak, 0.5, 0.0) == pytest.approx(peak / 2)


def test_schedule_hands_out_each_minibatchs_step_and_restarts():
    schedule = OneCycleSchedule(0.8, n_epochs=4, warmup_fraction=0.25)
    epochs, finished, mid_cycle = [], [], []
    for _ in range(5):
        epochs.append(list(schedule.epoch_steps(2)))
        schedule.epoch_ends(0)
        finished.append(schedule.finished)
        mid_cycle.append(schedule.mid_cycle)
    assert finished == [False, False, False, True, False]
    assert mid_cycle == [True, True, True, False, True]
    # Midpoints of eighths of the cycle: 1/16, 3/16, ... 15/16.
    expected = [0.8 * p / 0.25 for p in (1 / 16, 3 / 16)] + [
        0.8 * (1 - p) / 0.75 for p in np.arange(5, 16, 2) / 16
    ]
    assert_allclose(sum(epochs[:4], []), expected, rtol=1e-15)
    assert all(0 < step < 0.8 for step in expected)
    assert epochs[4] == epochs[0]  # a fifth epoch starts a new cycle
    # The other schedules keep one step per epoch, and never finish.
    constant = ConstantSchedule(0.1)
    assert list(constant.epoch_steps(2)) == [0.1, 0.1]
    constant.epoch_ends(100)
    assert not constant.finished and not constant.mid_cycle


def test_start_cycle_sets_the_length_of_the_next_cycle():
    schedule = OneCycleSchedule(0.8, n_epochs=4)
    for _ in range(4):
        schedule.epoch_steps(3)
        schedule.epoch_ends(0)
    schedule.start_cycle(2)
    assert not schedule.finished and schedule.cycle_epoch == 0
    steps = [list(schedule.epoch_steps(3)) for _ in range(1)]
    schedule.epoch_ends(0)
    assert_allclose(steps[0], expected_steps(0.8, 2, 0.1, 3, [0]), rtol=1e-15)
    # Only 'one_cycle' has cycles, for 'sgd' and 'adam'; Adam with
    # scikit-learn's schedules takes a constant step, as scikit-learn's does.
    for params in (
        dict(solver="adam", learning_rate="invscaling"),
        dict(learning_rate="constant"),
    ):
        clf = BackpropMLPClassifier(**params)
        assert type(make_schedule(clf, 5, 0.001)) is ConstantSchedule
    for solver in ("sgd", "adam"):
        clf = BackpropMLPClassifier(solver=solver)
        assert type(make_schedule(clf, 5, 0.001)) is OneCycleSchedule


def test_fit_takes_the_schedules_step_before_every_minibatch(monkeypatch):
    X, y = digits(400)  # batches of 100: 4 a epoch
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(8,),
        batch_size=100,
        learning_rate_init=0.5,
        warmup_fraction=0.2,
        max_iter=5,
        tol=0.0,
        random_state=0,
    )
    with recorded_steps(monkeypatch) as steps:
        clf.fit(X, y)
    assert clf.n_iter_ == 5
    assert_allclose(steps, expected_steps(0.5, 5, 0.2, 4, range(5)), rtol=1e-15)
    # ... and the steps are the updates': a constant step of the same size at
    # every minibatch (here the peak) trains another model.
    other = BackpropMLPClassifier(
        hidden_layer_sizes=(8,),
        batch_size=100,
        learning_rate="constant",
        learning_rate_init=0.5,
        max_iter=5,
        tol=0.0,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        other.fit(X, y)
    assert not np.allclose(clf.coefs_[0], other.coefs_[0])


def test_regressor_takes_the_schedule_too(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    reg = BackpropMLPRegressor(
        solver="sgd",
        learning_rate="one_cycle",
        learning_rate_init=0.01,
        batch_size=40,
        max_iter=6,
        tol=0.0,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with recorded_steps(monkeypatch) as steps:
            reg.fit(X, y)
    assert_allclose(steps, expected_steps(0.01, 6, 0.1, 3, range(6)), rtol=1e-15)
    assert reg.score(X, y) > 0.9


# ----------------------------------------------------------------------
# No warning at the end of the cycle; the warning elsewhere
# ----------------------------------------------------------------------
def test_defaults_fit_digits_without_warnings():
    X, y = digits()  # 1797 rows: batches of 100, 18 a epoch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = BackpropMLPClassifier(random_state=0).fit(X, y)
    # 'auto': at least 350 updates, 20 epochs of 18.
    assert (clf.batch_size_, clf.max_iter_, clf.learning_rate_init_) == (100, 20, 0.6)
    assert clf.n_iter_ == clf.max_iter_ == 20
    assert clf.score(X, y) > 0.99
    assert clf._schedule.learning_rate < 0.01 * clf.learning_rate_init_


def test_grid_search_with_the_defaults_raises_no_convergence_warning():
    # Issue 11 counted 28 ConvergenceWarnings in a 3x3 search on digits.
    X, y = digits(900)
    search = GridSearchCV(
        BackpropMLPClassifier(random_state=0),
        {"hidden_layer_sizes": [(32,), (64,), (128,)], "alpha": [1e-4, 1e-3, 1e-2]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_score_ > 0.85


@pytest.mark.parametrize(
    "params",
    [
        dict(learning_rate="constant"),
        dict(learning_rate="invscaling"),
        dict(learning_rate="adaptive"),
        dict(solver="adam", learning_rate="constant", learning_rate_init=0.001),
    ],
    ids=["constant", "invscaling", "adaptive", "adam-constant"],
)
def test_a_max_iter_that_cuts_training_short_still_warns(params):
    X, y = digits(300)
    clf = BackpropMLPClassifier(hidden_layer_sizes=(8,), max_iter=2, **params)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(2\\)"):
        clf.fit(X, y)


def test_the_tol_rule_does_not_end_a_cycle(capsys):
    X, y = digits(300)
    params = dict(
        hidden_layer_sizes=(8,), max_iter=50, tol=10.0, n_iter_no_change=2,
        random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BackpropMLPClassifier(verbose=True, **params).fit(X, y)
    # No epoch lowers the loss by 10: every third one is a plateau, and the
    # cycle runs its course through them (a cycle cut short ends in its
    # warm-up, at a large step).
    assert clf.n_iter_ == 50
    assert capsys.readouterr().out.count("The one-cycle schedule runs its course") == 16
    # A constant step stops there: the first epoch sets the best loss; 2 more
    # without progress are tolerated, a third is not.
    constant = BackpropMLPClassifier(
        learning_rate="constant", learning_rate_init=0.1, **params
    ).fit(X, y)
    assert constant.n_iter_ == 4


# ----------------------------------------------------------------------
# partial_fit, warm_start, interruption, pickling
# ----------------------------------------------------------------------
def test_partial_fit_follows_the_cycle_then_starts_another(monkeypatch):
    X, y = digits(300)
    params = dict(
        hidden_layer_sizes=(8,),
        batch_size=100,
        max_iter=3,
        shuffle=False,
        random_state=0,
    )
    clf = BackpropMLPClassifier(**params)
    with recorded_steps(monkeypatch) as steps:
        for _ in range(4):
            clf.partial_fit(X, y, classes=np.arange(10))
    expected = expected_steps(0.6, 3, 0.1, 3, [0, 1, 2, 0])
    assert_allclose(steps, expected, rtol=1e-15)
    # Three calls are a fit of max_iter=3, weight for weight.
    fitted = BackpropMLPClassifier(**params).fit(X, y)
    again = BackpropMLPClassifier(**params)
    for _ in range(3):
        again.partial_fit(X, y, classes=np.arange(10))
    for ours, theirs in zip(again.coefs_, fitted.coefs_):
        assert_array_equal(ours, theirs)


def test_set_params_between_partial_fit_calls_keeps_the_running_cycle(monkeypatch):
    # As in scikit-learn, partial_fit's optimiser is made on the first call.
    X, y = digits(300)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(8,), batch_size=100, max_iter=4, random_state=0
    )
    with recorded_steps(monkeypatch) as steps:
        clf.partial_fit(X, y, classes=np.arange(10))
        clf.set_params(max_iter=2, learning_rate_init=0.1)
        clf.partial_fit(X, y)
    assert_allclose(steps, expected_steps(0.6, 4, 0.1, 3, [0, 1]), rtol=1e-15)


def test_adam_follows_the_schedule(monkeypatch):
    X, y = digits(300)
    params = dict(
        hidden_layer_sizes=(8,), solver="adam", batch_size=100, max_iter=3,
        random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the cycle ran its course
        with recorded_steps(monkeypatch, "adam") as steps:
            scheduled = BackpropMLPClassifier(**params).fit(X, y)
    # The classifier's 'auto' peak for Adam, 0.05.
    assert scheduled.learning_rate_init_ == 0.05
    assert_allclose(steps, expected_steps(0.05, 3, 0.1, 3, range(3)), rtol=1e-15)
    # scikit-learn's schedules leave Adam's step constant, as theirs do.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with recorded_steps(monkeypatch, "adam") as steps:
            BackpropMLPClassifier(learning_rate="invscaling", **params).fit(X, y)
    assert steps == [0.001] * 9


def test_early_stopping_keeps_the_best_epoch_within_the_cycle():
    X, y = digits()
    X_val, y_val = X[1200:], y[1200:]
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(64,),
        early_stopping=True,
        n_iter_no_change=2,
        max_iter=30,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X[:1200], y[:1200], X_val=X_val, y_val=y_val)
    assert clf.n_iter_ < 30  # stopped inside the cycle
    best = int(np.argmax(clf.validation_scores_))
    assert best < clf.n_iter_ - 1  # ... after a better epoch than its last
    # The weights kept are the best epoch's, not the last one's.
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)
    assert clf.score(X_val, y_val) > clf.validation_scores_[-1]


def test_warm_start_fit_runs_a_new_cycle_from_the_weights(monkeypatch):
    X, y = digits(300)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(8,), max_iter=4, warm_start=True, random_state=0
    )
    with recorded_steps(monkeypatch) as first:
        clf.fit(X, y)
    weights = [c.copy() for c in clf.coefs_]
    with recorded_steps(monkeypatch) as second:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            clf.fit(X, y)
    assert second == first  # the whole cycle again, from its warm-up
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 8
    # It continued from the weights: a fresh fit of the same 4 epochs is worse.
    fresh = BackpropMLPClassifier(hidden_layer_sizes=(8,), max_iter=4, random_state=0)
    assert clf.loss_curve_[-1] < fresh.fit(X, y).loss_curve_[-1]
    assert not np.allclose(weights[0], clf.coefs_[0])


def test_an_interrupted_partial_fit_keeps_the_cycles_position(monkeypatch):
    X, y = digits(300)

    def make():
        return BackpropMLPClassifier(
            hidden_layer_sizes=(8,), max_iter=4, shuffle=False, random_state=0
        )

    reference = make()
    for _ in range(3):
        reference.partial_fit(X, y, classes=np.arange(10))

    clf = make()
    clf.partial_fit(X, y, classes=np.arange(10))
    original = minibatch_module.loss_and_gradients
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # inside the second epoch
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(minibatch_module, "loss_and_gradients", interrupted)
    with pytest.warns(UserWarning, match="(?i)interrupted"):
        clf.partial_fit(X, y)
    monkeypatch.undo()
    assert clf._schedule.epochs_done == 1
    for _ in range(2):
        clf.partial_fit(X, y)
    for ours, theirs in zip(clf.coefs_, reference.coefs_):
        assert_array_equal(ours, theirs)


def test_a_pickled_model_continues_its_cycle():
    X, y = digits(300)
    clf = BackpropMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    for _ in range(2):
        clf.partial_fit(X, y, classes=np.arange(10))
    copy = pickle.loads(pickle.dumps(clf))
    assert copy._schedule.epochs_done == 2
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    for ours, theirs in zip(copy.coefs_, clf.coefs_):
        assert_array_equal(ours, theirs)


# ----------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------
@pytest.mark.parametrize("value", [1.0, -0.1, 2])
def test_warmup_fraction_out_of_range_is_refused(value):
    X, y = digits(100)
    clf = BackpropMLPClassifier(warmup_fraction=value)
    with pytest.raises(ValueError, match="warmup_fraction"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_no_warmup_starts_at_the_peak(monkeypatch):
    X, y = digits(200)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(8,),
        batch_size=100,
        warmup_fraction=0.0,
        max_iter=2,
        random_state=0,
    )
    with recorded_steps(monkeypatch) as steps:
        clf.fit(X, y)
    assert steps[0] == pytest.approx(0.6 * (1 - 0.5 / 4))
    assert np.all(np.diff(steps) < 0)
