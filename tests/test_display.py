"""TrainingCurvesDisplay, drawn with matplotlib's Agg backend: the figure's
lines hold the curves the estimator recorded."""

import matplotlib
import numpy as np
import pytest
from _helpers import digits, ignore_convergence
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_friedman1
from sklearn.exceptions import NotFittedError

from sklearn_backprop import (
    BackpropMLPClassifier,
    BackpropMLPRegressor,
    TrainingCurvesDisplay,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

pytestmark = ignore_convergence


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _y_data(line):
    return np.asarray(line.get_ydata(), dtype=float)


def test_the_lines_hold_the_recorded_curves_with_validation():
    X, y = digits(500)
    clf = BackpropMLPClassifier(hidden_layer_sizes=(16,), max_iter=6, random_state=0)
    clf.fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    display = TrainingCurvesDisplay.from_estimator(clf)
    assert set(display.lines_) == {
        "loss",
        "score",
        "validation loss",
        "validation score",
    }
    assert_array_equal(_y_data(display.lines_["loss"]), clf.loss_curve_)
    assert_array_equal(_y_data(display.lines_["score"]), clf.train_scores_)
    assert_array_equal(
        _y_data(display.lines_["validation loss"]), clf.validation_loss_curve_
    )
    assert_array_equal(
        _y_data(display.lines_["validation score"]), clf.validation_scores_
    )
    assert_array_equal(display.lines_["loss"].get_xdata(), np.arange(1, 7))
    loss_ax, score_ax = display.axes_
    assert display.figure_ is loss_ax.figure is score_ax.figure
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("epoch", "loss")
    assert score_ax.get_ylabel() == "accuracy"
    assert display.best_epoch_lines_ == []  # no early stopping: nothing kept
    assert display.figure_._suptitle.get_text() == "BackpropMLPClassifier"


def test_early_stopping_marks_the_epoch_it_kept():
    X, y = digits(600)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(16,),
        learning_rate="constant",
        learning_rate_init=0.5,
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=60,
        random_state=0,
    ).fit(X, y)
    best = int(np.argmax(clf.validation_scores_)) + 1
    assert best < clf.n_iter_  # it stopped after its best epoch
    display = TrainingCurvesDisplay.from_estimator(clf)
    assert display.best_epoch == best
    assert len(display.best_epoch_lines_) == 2  # on both panels
    for line in display.best_epoch_lines_:
        assert_array_equal(line.get_xdata(), [best, best])
    # The epoch marked is the one whose weights the model kept: the same fit
    # stopped at that epoch ends on the same weights.
    reference = clone(clf).set_params(max_iter=best, n_iter_no_change=1000)
    reference.fit(X, y)
    for kept, at_best in zip(
        clf.coefs_ + clf.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert_array_equal(kept, at_best)


def test_lbfgs_counts_iterations_and_the_regressor_r2():
    X, y = make_friedman1(n_samples=200, random_state=0)
    reg = BackpropMLPRegressor(
        solver="lbfgs", hidden_layer_sizes=(8,), max_iter=15, random_state=0
    ).fit(X, y)
    display = TrainingCurvesDisplay.from_estimator(reg)
    assert set(display.lines_) == {"loss", "score"}  # no validation set
    assert_array_equal(_y_data(display.lines_["loss"]), reg.loss_curve_)
    loss_ax, score_ax = display.axes_
    assert loss_ax.get_xlabel() == "iteration" and score_ax.get_ylabel() == "r2"


def test_plot_on_given_axes_and_with_its_own_curves():
    figure, axes = plt.subplots(2, 1)
    display = TrainingCurvesDisplay(
        loss_curve=[3.0, 2.0, 1.5],
        train_scores=[0.2, 0.5, 0.7],
        validation_loss_curve=[3.1, 2.5, 2.4],
        validation_scores=[0.1, 0.4, 0.45],
        best_epoch=3,
        score_name="accuracy",
    ).plot(ax=axes, validation_label="test", title="three epochs")
    assert display.figure_ is figure
    assert list(display.axes_) == list(axes)
    assert [line.get_label() for line in axes[0].get_lines()] == [
        "training",
        "test",
        "best epoch (kept)",
    ]
    assert_array_equal(_y_data(display.lines_["validation score"]), [0.1, 0.4, 0.45])
    assert figure._suptitle.get_text() == "three epochs"
    with pytest.raises(ValueError, match="two matplotlib Axes"):
        display.plot(ax=axes[0])


def test_an_unfitted_estimator_is_refused():
    with pytest.raises(NotFittedError):
        TrainingCurvesDisplay.from_estimator(BackpropMLPClassifier())
