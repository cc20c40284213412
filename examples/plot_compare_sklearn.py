"""
===============================================
Comparison with scikit-learn's MLPClassifier
===============================================

:class:`~sklearn_backprop.BackpropMLPClassifier` and scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier` are both multilayer perceptrons
trained by backpropagation in NumPy. This example trains both on the same
MNIST images with the same hidden layer of 256 units for the same 5 epochs,
and compares their test accuracy and fit time, twice:

* with **matched settings**: sigmoid hidden units, SGD with Nesterov momentum
  0.9, a constant step 0.1, minibatches of 100, ``alpha=1e-4``, and softmax outputs (the
  only output scikit-learn offers for more than two classes), so that the two
  implementations do the same work;
* with **each library's defaults** for the remaining parameters: here sigmoid
  units and outputs with SGD and momentum (batches of 100, and a one-cycle
  step that rises to 0.6 and falls to 0 over the 5 epochs), there ReLU units
  with Adam (step 0.001, batches of 200).

To run in well under a minute, the models see 10 000 of the 60 000 MNIST
training images. The timings are those of this run on the machine that built
this page, on one core: they depend on the hardware, on the BLAS library and on
what else the machine was doing, so take them as an indication, not as a
benchmark.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Loading the data
# ----------------
#
# The pixels are scaled to [0, 1] float32 (``scale=True``).
import numpy as np

from sklearn_backprop.datasets import load_mnist

X_train, X_test, y_train, y_test = load_mnist(scale=True)
X_train, y_train = X_train[:10_000], y_train[:10_000]
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# The four models
# ---------------
#
# ``tol=0.0`` keeps every model training for exactly ``max_iter=5`` epochs
# (passes over the training images), and the same ``random_state`` is used
# throughout. Both estimators train in float32 on float32 data.
from sklearn.neural_network import MLPClassifier

from sklearn_backprop import BackpropMLPClassifier

common = dict(hidden_layer_sizes=(256,), max_iter=5, tol=0.0, random_state=0)
matched = dict(
    activation="logistic",
    solver="sgd",
    learning_rate="constant",
    learning_rate_init=0.1,
    momentum=0.9,
    nesterovs_momentum=True,
    batch_size=100,
    alpha=1e-4,
)
models = {
    ("matched settings", "sklearn-backprop"): BackpropMLPClassifier(
        output_activation="softmax", **matched, **common
    ),
    ("matched settings", "scikit-learn"): MLPClassifier(**matched, **common),
    ("defaults", "sklearn-backprop"): BackpropMLPClassifier(**common),
    ("defaults", "scikit-learn"): MLPClassifier(**common),
}

# %%
# Training and timing
# -------------------
#
# Each model is fitted once and timed with :func:`time.perf_counter`; the
# :class:`~sklearn.exceptions.ConvergenceWarning` raised after 5 epochs by
# scikit-learn's models and by ours with matched settings is expected and
# silenced (the one-cycle schedule of our defaults ends there, without one).
#
# Both libraries spend most of their time in the matrix products of NumPy's
# BLAS, which may run them on several threads. Every minibatch makes a handful
# of small products, and each one has to wait for all the threads, which is
# costly whenever other programs keep the cores busy: the timings would then
# measure the machine's load more than the implementations. So the fits run
# with BLAS limited to one thread by :mod:`threadpoolctl` (a dependency of
# scikit-learn); on an idle multi-core machine both would be somewhat faster.
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

fit_seconds, accuracy = {}, {}
for key, model in models.items():
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds[key] = time.perf_counter() - start
    accuracy[key] = model.score(X_test, y_test)

header = f"{'settings':<18} {'library':<18} {'fit time (s)':>12} {'test accuracy':>14}"
print(header)
print("-" * len(header))
for settings, library in models:
    key = settings, library
    print(
        f"{settings:<18} {library:<18} {fit_seconds[key]:>12.2f} {accuracy[key]:>14.4f}"
    )

# %%
# Plotting the results
# --------------------
import matplotlib.pyplot as plt

settings_names = ["matched settings", "defaults"]
libraries = ["sklearn-backprop", "scikit-learn"]
x = np.arange(len(settings_names))
width = 0.38

fig, (ax_acc, ax_time) = plt.subplots(1, 2, figsize=(11, 4.5))
for i, library in enumerate(libraries):
    offset = (i - 0.5) * width
    acc = [accuracy[s, library] for s in settings_names]
    sec = [fit_seconds[s, library] for s in settings_names]
    bars = ax_acc.bar(x + offset, acc, width, label=library, color=f"C{i}")
    ax_acc.bar_label(bars, fmt="%.3f")
    bars = ax_time.bar(x + offset, sec, width, label=library, color=f"C{i}")
    ax_time.bar_label(bars, fmt="%.2f s")
low = min(accuracy.values())
ax_acc.set(
    ylabel="test accuracy",
    ylim=(max(0.0, low - 0.1), 1.0),
    title="Test accuracy after 5 epochs",
)
ax_time.set(ylabel="fit time (s)", title="Fit time of 5 epochs on one BLAS thread")
ax_time.set_ylim(0, 1.2 * max(fit_seconds.values()))
for ax in (ax_acc, ax_time):
    ax.set_xticks(x, settings_names)
fig.legend(*ax_acc.get_legend_handles_labels(), loc="lower center", ncol=2)
fig.suptitle(f"784-256-10 MLPs on {X_train.shape[0]} training images")
fig.tight_layout(rect=(0, 0.07, 1, 1))
plt.show()

# %%
# With matched settings the two estimators train the same network with the
# same algorithm, so they reach similar accuracies; they differ in the random
# numbers of their initialisation and shuffling and in details such as the
# initialisation's scale, so their figures do not coincide exactly. Any
# difference in fit time then comes from the implementations.
#
# With the defaults they train different networks (sigmoid and ReLU units)
# with different optimisers and batch sizes, so the comparison says more about
# the choice of defaults than about the implementations. What
# sklearn-backprop adds over :class:`~sklearn.neural_network.MLPClassifier` is
# not shown here: sigmoid outputs with binary cross-entropy, class weights, and
# per-epoch validation loss and accuracy on an explicit ``X_val``.
