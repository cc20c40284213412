"""
===========================================
Tuning the network with a grid search
===========================================

:class:`~sklearn_backprop.BackpropMLPClassifier` is an ordinary scikit-learn
estimator, so it can be the last step of a
:class:`~sklearn.pipeline.Pipeline` and have its hyperparameters tuned by
:class:`~sklearn.model_selection.GridSearchCV`. This example searches the
size of the hidden layer and the initial learning rate with 3-fold
cross-validation and shows the cross-validated accuracy of every combination
as a heatmap.

To keep the search to well under a minute on two cores, it uses 6 000 MNIST
training images and trains every candidate for only 5 epochs; the best
values for a full training run may differ.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Loading the data
# ----------------
#
# The pixels are loaded unscaled (0 to 255) and converted to float32, which
# the network trains in; scaling them to [0, 1] is left to the pipeline.
import numpy as np

from sklearn_backprop.datasets import load_mnist

X_train, X_test, y_train, y_test = load_mnist()

n_train = 6_000
X_train, y_train = X_train[:n_train].astype(np.float32), y_train[:n_train]
X_test = X_test.astype(np.float32)
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# The pipeline and the grid
# -------------------------
#
# A :class:`~sklearn.preprocessing.MinMaxScaler` maps every pixel to [0, 1],
# learning the range of each pixel on the training folds only, so that no
# information from a validation fold leaks into the training. The grid crosses
# three hidden layer sizes with three learning rates; parameters of a pipeline
# step are addressed as ``<step>__<parameter>``.
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_backprop import BackpropMLPClassifier

pipe = Pipeline(
    [
        ("scaler", MinMaxScaler()),
        ("mlp", BackpropMLPClassifier(max_iter=5, tol=0.0, random_state=0)),
    ]
)
hidden_layer_sizes = [(16,), (64,), (256,)]
learning_rates = [0.01, 0.1, 0.6]
param_grid = {
    "mlp__hidden_layer_sizes": hidden_layer_sizes,
    "mlp__learning_rate_init": learning_rates,
}

# %%
# The search
# ----------
#
# 9 combinations times 3 folds make 27 fits, run two at a time
# (``n_jobs=2``), followed by one refit of the best combination on all the
# training images. Each fit runs the default one-cycle schedule of the step
# over its ``max_iter=5`` epochs (``learning_rate_init`` is the schedule's
# peak) and ends when the schedule does, without a
# :class:`~sklearn.exceptions.ConvergenceWarning`.
from sklearn.model_selection import GridSearchCV

search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=2)
search.fit(X_train, y_train)

# %%
# Results
# -------
#
# ``cv_results_`` lists the candidates in the order of the grid, the last
# parameter varying fastest, so that the mean accuracies reshape into a table
# with one row per hidden layer size and one column per learning rate.
import matplotlib.pyplot as plt

results = search.cv_results_
mean = results["mean_test_score"].reshape(len(hidden_layer_sizes), -1)
std = results["std_test_score"].reshape(len(hidden_layer_sizes), -1)

fig, ax = plt.subplots(figsize=(6, 4.5))
image = ax.imshow(mean, cmap="viridis", vmin=0, vmax=1)
for i in range(mean.shape[0]):
    for j in range(mean.shape[1]):
        ax.text(
            j,
            i,
            f"{mean[i, j]:.3f}\n± {std[i, j]:.3f}",
            ha="center",
            va="center",
            color="black" if mean[i, j] > 0.5 else "white",
        )
ax.set_xticks(range(len(learning_rates)), [str(lr) for lr in learning_rates])
ax.set_yticks(range(len(hidden_layer_sizes)), [str(h) for h in hidden_layer_sizes])
ax.set_xlabel("learning_rate_init")
ax.set_ylabel("hidden_layer_sizes")
ax.set_title("Mean 3-fold cross-validated accuracy")
fig.colorbar(image, ax=ax, label="accuracy")
fig.tight_layout()
plt.show()

# %%
# The refitted best pipeline is evaluated once on the test set, which the
# search never saw.
print(f"Best parameters: {search.best_params_}")
print(f"Best cross-validated accuracy: {search.best_score_:.4f}")
print(f"Test accuracy of the refitted pipeline: {search.score(X_test, y_test):.4f}")

# %%
# With only 5 epochs, the smallest peak step, 0.01, learns slowest by far:
# such a search rewards whatever learns fastest. Wider hidden layers
# help at every learning rate. A search meant to select the configuration of a
# long training run should train each candidate for as long, or use
# ``early_stopping=True`` so that each one stops when its held-out accuracy
# stops improving.
