"""
==========================================
Regression and its learning curves
==========================================

:class:`~sklearn_backprop.BackpropMLPRegressor` is the regression head of the
trainer behind :class:`~sklearn_backprop.BackpropMLPClassifier`: the same
network and solvers, with identity outputs trained on half the squared error,
whose output error is simply :math:`\\delta = \\hat{y} - y` (derived in the
user guide's :ref:`regression` page). This example fits it to a smooth
nonlinear function, follows its training and validation loss and R² epoch by
epoch, compares it with scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor` trained with the same
hyperparameters, and then trains both with full-batch L-BFGS
(``solver='lbfgs'``), for which sklearn-backprop records the same curves
iteration by iteration.

The data set is small (1 000 training samples), so the whole example runs in
seconds.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The data
# --------
#
# :func:`~sklearn.datasets.make_friedman1` draws ten features uniformly in
# [0, 1] and a target that depends smoothly on the first five,
# :math:`y = 10 \sin(\pi x_1 x_2) + 20 (x_3 - 1/2)^2 + 10 x_4 + 5 x_5`, plus
# Gaussian noise of standard deviation 1; the other five features are
# irrelevant. The inputs are already on a common scale, so they need no
# scaling. The samples are split into a training, a validation and a test set.
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split

X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=500, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(
    X_train, y_train, test_size=500, random_state=0
)
print(
    f"{len(X_train)} training, {len(X_val)} validation and {len(X_test)} test "
    f"samples; the target has mean {y.mean():.2f} and standard deviation "
    f"{y.std():.2f}"
)

# %%
# Training with Adam, and its learning curves
# -------------------------------------------
#
# Two hidden layers of 50 ReLU units trained by Adam with a constant step of
# 0.01, on the targets as they are: scikit-learn's settings (its network and
# solver are also :class:`~sklearn_backprop.BackpropMLPRegressor`'s defaults),
# apart from the layer sizes and a step of 0.01 instead of 0.001, which
# converges in fewer epochs here. With its own defaults ours would instead
# standardise the targets (``standardize_target=True``) and follow a one-cycle
# schedule whose length adapts to the data; ``learning_rate='constant'`` and
# ``standardize_target=False`` give scikit-learn's model, compared below.
# Passing ``X_val`` and ``y_val`` to
# :meth:`~sklearn_backprop.BackpropMLPRegressor.fit` records the validation
# loss and R² after every epoch; ``verbose=True`` would print them, one line
# per epoch.
#
# The networks are small, so each matrix product is too short to gain from
# several BLAS threads, and on a busy machine the threads mostly wait for one
# another: every fit runs on one BLAS thread (:mod:`threadpoolctl` comes with
# scikit-learn).
import warnings

from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_backprop import BackpropMLPRegressor

params = dict(hidden_layer_sizes=(50, 50), learning_rate_init=0.01, random_state=0)
as_sklearn = dict(learning_rate="constant", standardize_target=False)
reg = BackpropMLPRegressor(max_iter=200, **as_sklearn, **params)
with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
    # Stopping at max_iter, if it happens, is part of the demonstration.
    warnings.simplefilter("ignore", ConvergenceWarning)
    reg.fit(X_train, y_train, X_val=X_val, y_val=y_val)

print(f"epochs run: {reg.n_iter_}")
print(
    f"last training loss:   {reg.loss_curve_[-1]:.3f}, R² {reg.train_scores_[-1]:.3f}"
)
print(
    f"last validation loss: {reg.validation_loss_curve_[-1]:.3f}, "
    f"R² {reg.validation_scores_[-1]:.3f}"
)
print(f"test R²: {reg.score(X_test, y_test):.3f}")

# %%
# The validation loss is half the mean squared error of the validation set, so
# a validation loss of :math:`L` is a root mean squared error of
# :math:`\sqrt{2L}`. The training figures, ``loss_curve_`` and
# ``train_scores_``, are accumulated over the minibatches of each epoch while
# the weights change, and ``loss_curve_`` also includes the L2 penalty; the
# validation figures are computed once, with the weights at the end of the
# epoch, without the penalty.

# %%
# scikit-learn's MLPRegressor with the same hyperparameters
# ---------------------------------------------------------
#
# For a single output both estimators minimise the same objective, half the
# mean squared error plus the same L2 penalty, and report it in
# ``loss_curve_``. With the same ``random_state`` they also start from the
# same weights, visit the minibatches in the same order and make the same
# updates, so their training curves coincide up to rounding: the largest
# difference is printed below. scikit-learn takes no validation set: with
# ``early_stopping=True`` it would record the R² of a held-out part of the
# training data, and no validation loss.
from sklearn.neural_network import MLPRegressor

sk_reg = MLPRegressor(max_iter=200, **params)
with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    sk_reg.fit(X_train, y_train)
print(
    f"scikit-learn: {sk_reg.n_iter_} epochs, test R² {sk_reg.score(X_test, y_test):.3f}"
)
gap = max(abs(a - b) for a, b in zip(reg.loss_curve_, sk_reg.loss_curve_))
print(f"largest difference between the two training loss curves: {gap:.1e}")

# %%
# Full-batch L-BFGS
# -----------------
#
# With ``solver='lbfgs'`` the loss of the whole training set is minimised by
# SciPy's L-BFGS-B: ``max_iter`` counts its iterations, ``max_fun`` its loss
# evaluations (each one a forward and backward pass over the training set),
# and it stops once no component of the gradient exceeds ``tol`` (or once an
# iteration barely lowers the loss, SciPy's ``ftol``). It needs no step size,
# and on small data sets like this one it often reaches a lower loss than the
# stochastic solvers. sklearn-backprop records the training and validation
# figures of every iteration; scikit-learn records none for L-BFGS.
lbfgs = BackpropMLPRegressor(solver="lbfgs", max_iter=200, **as_sklearn, **params)
sk_lbfgs = MLPRegressor(solver="lbfgs", max_iter=200, **params)
with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    lbfgs.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    sk_lbfgs.fit(X_train, y_train)

print(f"iterations: {lbfgs.n_iter_}, loss_curve_ entries: {len(lbfgs.loss_curve_)}")
print(
    f"scikit-learn's lbfgs model has a loss_curve_: {hasattr(sk_lbfgs, 'loss_curve_')}"
)

# %%
# The learning curves
# -------------------
import matplotlib.pyplot as plt
import numpy as np

fig, (ax_adam, ax_r2, ax_lbfgs) = plt.subplots(1, 3, figsize=(14, 4.2))
epochs = np.arange(1, reg.n_iter_ + 1)
ax_adam.plot(epochs, reg.loss_curve_, label="training")
ax_adam.plot(epochs, reg.validation_loss_curve_, label="validation")
ax_adam.plot(
    np.arange(1, sk_reg.n_iter_ + 1),
    sk_reg.loss_curve_,
    label="scikit-learn, training (on top of ours)",
    color="C2",
    linestyle="--",
)
ax_adam.set(yscale="log", xlabel="epoch", ylabel="loss", title="Adam: loss")
ax_adam.legend()

ax_r2.plot(epochs, reg.train_scores_, label="training")
ax_r2.plot(epochs, reg.validation_scores_, label="validation")
ax_r2.set(ylim=(0, 1), xlabel="epoch", ylabel="R²", title="Adam: R²")
ax_r2.legend(loc="lower right")

iterations = np.arange(1, lbfgs.n_iter_ + 1)
ax_lbfgs.plot(iterations, lbfgs.loss_curve_, label="training")
ax_lbfgs.plot(iterations, lbfgs.validation_loss_curve_, label="validation")
ax_lbfgs.set(yscale="log", xlabel="iteration", ylabel="loss", title="L-BFGS: loss")
ax_lbfgs.legend()
fig.tight_layout()
plt.show()

# %%
# The validation loss follows the training loss down at first, then levels
# off above it while the training loss keeps falling: from there on the
# network mostly fits the noise of its 1 000 training samples. The noise
# alone, of variance 1, puts a floor of about 1/2 under the validation loss
# (half the mean squared error). A validation curve that rises again is the
# cue for ``early_stopping=True``, which keeps the weights of the best epoch.

# %%
# Test set results
# ----------------
#
# Each model is scored on the 500 test samples, which none of them saw.
models = {
    "sklearn-backprop, adam": reg,
    "scikit-learn, adam": sk_reg,
    "sklearn-backprop, lbfgs": lbfgs,
    "scikit-learn, lbfgs": sk_lbfgs,
}
print(f"{'model':<26} {'n_iter_':>8} {'final loss':>11} {'test R²':>8}")
for name, model in models.items():
    print(
        f"{name:<26} {model.n_iter_:>8} {model.loss_:>11.3f} "
        f"{model.score(X_test, y_test):>8.3f}"
    )

fig, ax = plt.subplots(figsize=(5, 5))
for name in ("sklearn-backprop, adam", "sklearn-backprop, lbfgs"):
    ax.scatter(y_test, models[name].predict(X_test), s=8, alpha=0.6, label=name)
limits = [y_test.min(), y_test.max()]
ax.plot(limits, limits, color="black", linewidth=1, label="prediction = target")
ax.set(xlabel="true target", ylabel="prediction", title="Test set")
ax.legend(loc="upper left")
fig.tight_layout()
plt.show()

# %%
# The two implementations train the same network with the same algorithms from
# the same starting weights, so their Adam models agree and their L-BFGS
# models come close (L-BFGS's line searches amplify rounding differences over
# its iterations); what differs is what they record on the way. With several
# outputs both compute the same gradient, but sklearn-backprop's
# ``loss_curve_`` sums the squared error over
# the outputs while scikit-learn's averages it: the user guide's
# :ref:`differences` page lists this and the other deliberate differences.
