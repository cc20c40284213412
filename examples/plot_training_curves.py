"""
==============================================
Training curves with TrainingCurvesDisplay
==============================================

After ``fit``, the estimators keep the loss and the score of every epoch:
``loss_curve_`` and ``train_scores_`` on the training minibatches, and
``validation_loss_curve_`` and ``validation_scores_`` on a validation set
when there is one. :class:`~sklearn_backprop.TrainingCurvesDisplay` draws
them, in scikit-learn's Display style: ``from_estimator`` reads a fitted
estimator, ``plot`` draws on given axes, and the attributes ``axes_``,
``figure_`` and ``lines_`` hold what was drawn.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A classifier with early stopping
# --------------------------------
#
# With ``early_stopping=True`` the classifier holds out
# ``validation_fraction`` of the training data, scores it after every epoch,
# stops when the score has not improved for ``n_iter_no_change`` epochs, and
# keeps the weights of its best epoch, which the display marks with a dashed
# line. A constant step of 0.5 makes the validation accuracy peak before the
# end, so that the mark is not on the last epoch.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from sklearn_backprop import BackpropMLPClassifier, TrainingCurvesDisplay

X, y = load_digits(return_X_y=True)
clf = BackpropMLPClassifier(
    learning_rate="constant",
    learning_rate_init=0.5,
    early_stopping=True,
    n_iter_no_change=5,
    max_iter=100,
    random_state=0,
).fit(X / 16, y)
display = TrainingCurvesDisplay.from_estimator(clf)
print(
    f"{clf.n_iter_} epochs; the best validation accuracy, "
    f"{clf.best_validation_score_:.4f}, in epoch {display.best_epoch}"
)

# %%
# The regressor, trained by L-BFGS
# --------------------------------
#
# With ``solver='lbfgs'`` the curves have one point per L-BFGS iteration, and
# the score is R². Here the display draws on axes made beforehand, stacked.
# 100 iterations are enough to see the curves flatten; L-BFGS would go on
# (and says so with a ``ConvergenceWarning``, silenced here).
import warnings

from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning

from sklearn_backprop import BackpropMLPRegressor

X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
reg = BackpropMLPRegressor(solver="lbfgs", max_iter=100, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    reg.fit(X[:800], y[:800], X_val=X[800:], y_val=y[800:])

fig, axes = plt.subplots(2, 1, figsize=(6, 6), sharex=True)
TrainingCurvesDisplay.from_estimator(reg, ax=axes)
axes[0].set_yscale("log")  # the axes are ordinary matplotlib axes
fig.tight_layout()
plt.show()
