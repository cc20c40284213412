"""
===========================================
Searching hyperparameters on a Dask cluster
===========================================

scikit-learn's searches run their fits through joblib, and joblib can send
them to a Dask cluster. This example starts a small cluster on this machine,
two worker processes, runs a :class:`~sklearn.model_selection.GridSearchCV`
over a pipeline that ends in :class:`~sklearn_backprop.BackpropMLPClassifier`
on it, checks that it gives exactly the results of ``n_jobs=1``, and then runs
successive halving over the number of epochs
(:class:`~sklearn.model_selection.HalvingRandomSearchCV`) on the same cluster.
It needs the ``dask`` extra, ``pip install "sklearn-backprop[dask]"``; the
user guide's :ref:`scaling` page explains the rest (Ray, failures, versions,
BLAS threads).

It trains on scikit-learn's bundled 8x8 digits, 1 797 images, so that it runs
in seconds.

The workers are processes started with Python's *spawn* method, which imports
the main script again in each of them: run as a script (``python
plot_search_on_dask.py``), this code must go under ``if __name__ ==
"__main__":``. In a notebook, or in this documentation's build, it needs no
guard.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Starting a cluster
# ------------------
#
# A :class:`~distributed.LocalCluster` starts a scheduler in this process and
# two worker processes with one thread each, here on the loopback interface
# and without the dashboard. A :class:`~distributed.Client` connects to it;
# for a cluster of several machines, connect the client to the scheduler's
# address instead. ``get_versions`` checks that every worker runs the same
# versions as this process (it warns with a table when they differ).
from distributed import Client, LocalCluster

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
)
client = Client(cluster)
packages = ["sklearn-backprop", "scikit-learn", "numpy"]
versions = client.get_versions(check=True, packages=packages)
for address, worker in versions["workers"].items():
    print(address, ", ".join(f"{p} {worker['packages'][p]}" for p in packages))

# %%
# The search
# ----------
#
# The pipeline scales the pixels to [0, 1] and trains a small network for 10
# epochs; the grid crosses three L2 penalties with three learning rates, 9
# candidates times 3 folds, 27 fits. Inside ``parallel_config(backend="dask")``
# joblib hands every fit to the cluster, and ``n_jobs=-1`` means all of its
# worker threads. Each fit runs the default one-cycle schedule of the step
# over its ``max_iter=10`` epochs, to the end, so it raises no
# :class:`~sklearn.exceptions.ConvergenceWarning`.
import joblib
from distributed import get_task_stream
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_backprop import BackpropMLPClassifier

X, y = load_digits(return_X_y=True)
pipe = make_pipeline(
    MinMaxScaler(),
    BackpropMLPClassifier(hidden_layer_sizes=(32,), max_iter=10, random_state=0),
)
param_grid = {
    "backpropmlpclassifier__alpha": [1e-4, 1e-3, 1e-2],
    "backpropmlpclassifier__learning_rate_init": [0.05, 0.1, 0.2],
}
search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=-1)
with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
    search.fit(X, y)
print(f"best: {search.best_params_}, accuracy {search.best_score_:.4f}")

# %%
# Both workers took part; joblib groups quick fits into batches, one task each.
from collections import Counter

print(Counter(task["worker"] for task in tasks.data))

# %%
# The same results as ``n_jobs=1``
# --------------------------------
#
# Every fit is seeded by ``random_state``, so where it runs does not matter:
# the search in this process, one fit after the other, gives the same scores,
# bit for bit.
import numpy as np

reference = GridSearchCV(pipe, param_grid, cv=3, n_jobs=1).fit(X, y)
for key in ("mean_test_score", "std_test_score", "rank_test_score"):
    assert np.array_equal(search.cv_results_[key], reference.cv_results_[key])
assert search.best_params_ == reference.best_params_
print("identical to n_jobs=1")

# %%
# Successive halving over epochs
# ------------------------------
#
# :class:`~sklearn.model_selection.HalvingRandomSearchCV` with the number of
# epochs as its resource trains 16 random candidates for 2 epochs, the best
# half of them for 4, and so on up to one candidate trained for 32 epochs:
# an adaptive search that runs on any joblib backend. Each round trains its
# candidates from scratch with the round's ``max_iter``: a one-cycle schedule
# of that many epochs, so that every budget is a complete training.
from scipy.stats import loguniform
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV

halving = HalvingRandomSearchCV(
    pipe,
    {
        "backpropmlpclassifier__alpha": loguniform(1e-5, 1e-1),
        "backpropmlpclassifier__learning_rate_init": loguniform(1e-2, 0.5),
    },
    resource="backpropmlpclassifier__max_iter",
    min_resources=2,
    max_resources=32,
    factor=2,
    n_candidates=16,
    cv=3,
    random_state=0,
    n_jobs=-1,
)
with joblib.parallel_config(backend="dask"):
    halving.fit(X, y)
print(f"{halving.n_iterations_} rounds, epochs {halving.n_resources_}")
print(
    "best: "
    + ", ".join(f"{k.split('__')[1]}={v:.3g}" for k, v in halving.best_params_.items())
    + f", accuracy {halving.best_score_:.4f}"
)

# %%
# Every candidate's cross-validated accuracy after each round, against the
# epochs it was trained for: the lines that go on are the candidates kept.
import matplotlib.pyplot as plt

results = halving.cv_results_
# A candidate is its alpha and learning rate; max_iter is the round's budget.
candidate = [
    (p["backpropmlpclassifier__alpha"], p["backpropmlpclassifier__learning_rate_init"])
    for p in results["params"]
]
fig, ax = plt.subplots(figsize=(6, 4))
for params in sorted(set(candidate)):
    rows = [i for i, c in enumerate(candidate) if c == params]
    ax.plot(
        results["n_resources"][rows],
        results["mean_test_score"][rows],
        marker="o",
        **(
            dict(color="tab:blue", zorder=3)  # kept to the last round
            if len(rows) == halving.n_iterations_
            else dict(color="tab:gray")
        ),
    )
ax.set_xscale("log", base=2)
ax.set_xlabel("epochs (max_iter)")
ax.set_ylabel("mean 3-fold accuracy")
ax.set_title("Successive halving on the Dask cluster (blue: the winner)")
fig.tight_layout()
plt.show()

# %%
# Closing the cluster
# -------------------
#
# Closing the client and the cluster stops the worker processes.
client.close()
cluster.close()
