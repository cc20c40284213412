"""Validation sets and what training reports: the validation curves and the
best validation score, early stopping on a given or a held-out validation set
(keeping the best epoch), the stopping rule's count of epochs without
improvement, the verbose line printed per epoch, and the ConvergenceWarning
pointing at the caller's line.
"""

import warnings

import numpy as np
import pytest
from _helpers import (
    X_MC,
    X_TEST,
    X_TRAIN,
    Y_MC,
    Y_TEST,
    Y_TRAIN,
    ignore_convergence,
    small,
)
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning


@ignore_convergence
def test_validation_set_curves():
    clf = small(max_iter=8, output_activation="softmax")
    clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    assert clf.n_iter_ == 8
    assert len(clf.validation_scores_) == clf.n_iter_
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert np.all(np.isfinite(clf.validation_scores_))
    assert np.all(np.isfinite(clf.validation_loss_curve_))
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the last entries describe the final weights
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X_TEST, Y_TEST))
    proba = clf.predict_proba(X_TEST)
    log_loss = -np.mean(np.log(proba[np.arange(len(Y_TEST)), Y_TEST]))
    assert_allclose(clf.validation_loss_curve_[-1], log_loss, rtol=1e-8)
    assert clf.best_loss_ == min(clf.loss_curve_)  # no early stopping


@ignore_convergence
def test_early_stopping_keeps_best_epoch_of_given_validation_set():
    clf = small(
        max_iter=20,
        early_stopping=True,
        n_iter_no_change=100,
        learning_rate_init=1.0,
        batch_size=16,
        hidden_layer_sizes=(16,),
    )
    clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    assert clf.n_iter_ == 20
    scores = clf.validation_scores_
    assert len(scores) == 20
    assert clf.best_validation_score_ == max(scores)
    assert clf.best_loss_ is None
    # the run's last epoch is not its best, so restoring matters
    assert scores[-1] < max(scores)
    assert clf.score(X_TEST, Y_TEST) == pytest.approx(clf.best_validation_score_)


def _expected_stop(curve, tol, n_iter_no_change, higher_is_better):
    """Epoch after which scikit-learn's stopping rule ends training, or None."""
    best, count = (-np.inf if higher_is_better else np.inf), 0
    for epoch, value in enumerate(curve, 1):
        improved = value >= best + tol if higher_is_better else value <= best - tol
        count = 0 if improved else count + 1
        best = max(best, value) if higher_is_better else min(best, value)
        if count > n_iter_no_change:
            return epoch
    return None


@ignore_convergence
@pytest.mark.parametrize("early_stopping", [True, False])
def test_stopping_rule_counts_epochs_without_improvement(early_stopping):
    """Training stops once the monitored figure (validation accuracy with
    early_stopping, else training loss) failed to improve by ``tol`` for more
    than ``n_iter_no_change`` consecutive epochs -- not earlier."""
    n_iter_no_change, tol, max_iter = 2, 1e-4, 25
    clf = small(
        hidden_layer_sizes=(16,),
        max_iter=max_iter,
        early_stopping=early_stopping,
        n_iter_no_change=n_iter_no_change,
        tol=tol,
        # A constant step: a one-cycle schedule runs its course through
        # plateaus of the training loss.
        learning_rate="constant",
        learning_rate_init=0.5,
        batch_size=32,
    )
    clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    if early_stopping:
        curve, higher = clf.validation_scores_, True
    else:
        curve, higher = clf.loss_curve_, False
    expected = _expected_stop(curve, tol, n_iter_no_change, higher) or max_iter
    # the monitored figure improved during the first epochs
    assert clf.n_iter_ > n_iter_no_change + 1, (clf.n_iter_, curve)
    assert clf.n_iter_ == expected, (clf.n_iter_, curve)


@ignore_convergence
def test_early_stopping_with_held_out_fraction():
    n = len(Y_TRAIN)
    clf = small(max_iter=6, early_stopping=True, validation_fraction=0.2)
    clf.fit(X_TRAIN, Y_TRAIN)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.t_ == clf.n_iter_ * (n - int(np.ceil(0.2 * n)))


@ignore_convergence
def test_no_validation_set_means_no_validation_attributes():
    clf = small(max_iter=3).fit(X_TRAIN, Y_TRAIN)
    assert clf.validation_scores_ is None
    assert clf.validation_loss_curve_ is None
    assert clf.best_validation_score_ is None
    # refitting without X_val after a fit with it resets them
    clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    assert len(clf.validation_scores_) == 3
    clf.fit(X_TRAIN, Y_TRAIN)
    assert clf.validation_scores_ is None
    assert clf.validation_loss_curve_ is None


@ignore_convergence
@pytest.mark.parametrize("with_val", [False, True])
def test_verbose_prints_one_line_per_epoch(capsys, with_val):
    clf = small(max_iter=4, verbose=True)
    if with_val:
        clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    else:
        clf.fit(X_TRAIN, Y_TRAIN)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 4
    for epoch, line in enumerate(lines, 1):
        assert f"{epoch}/4" in line
        assert "loss" in line
        assert "accuracy" in line
        assert ("val_loss" in line) == with_val
        assert ("val_accuracy" in line) == with_val
        assert f"{clf.loss_curve_[epoch - 1]:.4f}" in line

    small(max_iter=2, verbose=False).fit(X_TRAIN, Y_TRAIN)
    assert capsys.readouterr().out == ""


def test_convergence_warning_points_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        small(max_iter=1, learning_rate="constant").fit(X_MC, Y_MC)
    (warning,) = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert warning.filename == __file__
