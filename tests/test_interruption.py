"""Interruption: Ctrl-C (``KeyboardInterrupt``) during ``fit`` or
``partial_fit``, inside a minibatch step or while the validation set is
scored, ends training cleanly with a warning instead of escaping. The
estimator keeps the weights of the last completed epoch (the best one with
early stopping), predicts, and resumes with ``warm_start`` or ``partial_fit``.
"""

import contextlib

import numpy as np
import pytest
from _helpers import (
    assert_finite_weights,
    assert_same_weights,
    ignore_convergence,
    toy,
    weights,
)

import sklearn_backprop._minibatch as minibatch_module
from sklearn_backprop import BackpropMLPClassifier

pytestmark = ignore_convergence


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
    X, y = toy(n_samples=90)
    _interrupt_after(monkeypatch, raise_on_call)
    clf = BackpropMLPClassifier(max_iter=10, **INTERRUPT_PARAMS)
    with _interrupt_handled():
        clf.fit(X, y)
    monkeypatch.undo()

    assert clf.n_iter_ == completed
    assert len(clf.loss_curve_) == completed
    assert clf.t_ == completed * len(X)
    assert_finite_weights(clf)
    assert np.all(np.isin(clf.predict(X), clf.classes_))
    if completed:
        reference = BackpropMLPClassifier(max_iter=completed, **INTERRUPT_PARAMS)
        reference.fit(X, y)
        assert_same_weights(clf, reference)

    # Resume with warm_start.
    before = weights(clf)
    clf.set_params(warm_start=True, max_iter=2)
    clf.fit(X, y)
    assert clf.n_iter_ == 2  # the epochs of this call, as in scikit-learn
    assert len(clf.loss_curve_) == completed + 2
    assert not all(
        np.array_equal(a, b) for a, b in zip(before, clf.coefs_ + clf.intercepts_)
    )


def test_keyboard_interrupt_with_early_stopping_keeps_best_epoch(monkeypatch):
    X, y = toy(n_samples=90, seed=1)
    X_val, y_val = toy(n_samples=45, seed=2)
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
    assert_same_weights(clf, reference)


def test_keyboard_interrupt_during_partial_fit_keeps_weights(monkeypatch):
    X, y = toy(n_samples=90)
    clf = BackpropMLPClassifier(**INTERRUPT_PARAMS).partial_fit(X, y)
    before, n_epochs = weights(clf), len(clf.loss_curve_)
    _interrupt_after(monkeypatch, 2)
    with _interrupt_handled():
        clf.partial_fit(X, y)
    monkeypatch.undo()
    assert_same_weights(clf, before)
    assert len(clf.loss_curve_) == n_epochs
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == n_epochs + 1


def test_keyboard_interrupt_during_validation_scoring(monkeypatch):
    """Ctrl-C can arrive while the validation set is scored after an epoch
    (which takes a while on a large validation set): training must end
    just as cleanly as when it arrives inside a minibatch step."""
    X, y = toy(n_samples=90, seed=1)
    X_val, y_val = toy(n_samples=45, seed=2)
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
    assert_same_weights(clf, reference)
