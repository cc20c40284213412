"""
=========================
Saving and loading models
=========================

A fitted :class:`~sklearn_backprop.BackpropMLPClassifier` can be saved like
any scikit-learn estimator: with :mod:`pickle`, with :mod:`joblib`, or with
`skops <https://skops.readthedocs.io>`_, whose format can be inspected before
it is loaded. This example saves one model in the three formats, loads it back,
checks that the loaded models predict exactly the same probabilities, and
explains when to prefer which.

The model is trained on 5 000 MNIST images for 5 epochs to keep the example
short; saving and loading do not depend on how well it is trained.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A model to save
# ---------------
#
# A small network trained on MNIST for a few epochs.
import warnings

import numpy as np

from sklearn_backprop import BackpropMLPClassifier
from sklearn_backprop.datasets import load_mnist

X_train, X_test, y_train, y_test = load_mnist(scale=True)

X_train, y_train = X_train[:5_000], y_train[:5_000]
clf = BackpropMLPClassifier(hidden_layer_sizes=(64,), max_iter=5, random_state=0)
clf.fit(X_train, y_train)
proba = clf.predict_proba(X_test)
print(f"Test accuracy: {clf.score(X_test, y_test):.4f}")

# %%
# pickle and joblib
# -----------------
#
# :mod:`pickle` and :func:`joblib.dump` store the estimator's attributes,
# including the weights ``coefs_`` and ``intercepts_`` and the optimiser's
# state, so that a loaded model also continues training where it stopped with
# ``warm_start=True`` or :meth:`~sklearn_backprop.BackpropMLPClassifier.partial_fit`.
# joblib stores large NumPy arrays more efficiently and can compress them.
import pickle
import tempfile
from pathlib import Path

import joblib

folder = Path(tempfile.mkdtemp())

pickle_file = folder / "model.pkl"
with open(pickle_file, "wb") as f:
    pickle.dump(clf, f)
with open(pickle_file, "rb") as f:
    clf_pickle = pickle.load(f)

joblib_file = folder / "model.joblib"
joblib.dump(clf, joblib_file)
clf_joblib = joblib.load(joblib_file)

np.testing.assert_array_equal(clf_pickle.predict_proba(X_test), proba)
np.testing.assert_array_equal(clf_joblib.predict_proba(X_test), proba)
print("pickle and joblib round trips predict identical probabilities")

# %%
# .. warning::
#
#    Loading a pickle (which is what :func:`joblib.load` does too) can run
#    arbitrary code: a file crafted by someone else can take over your
#    machine the moment it is loaded. Only load pickle and joblib files that
#    you created yourself or that come from a source you trust.
#
# Each saved model records the sklearn-backprop version that saved it. A model
# loaded by another version still loads, with an
# :class:`~sklearn_backprop.exceptions.InconsistentVersionWarning`, since the
# estimator's internals may have changed in between: retrain the model with the
# new version, or load it with the version that saved it. Here the recorded
# version of a saved state is altered to see the warning.
from sklearn_backprop.exceptions import InconsistentVersionWarning

state = clf.__getstate__()  # what pickle saves
state["_sklearn_backprop_version"] = "0.0.1"  # pretend an old version saved it

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", InconsistentVersionWarning)
    # What pickle.load does: create the object, then restore the saved state.
    old_model = BackpropMLPClassifier.__new__(BackpropMLPClassifier)
    old_model.__setstate__(state)
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")

# %%
# To refuse such models outright, turn the warning into an error with
# ``warnings.simplefilter("error", InconsistentVersionWarning)`` before
# loading. The warning's ``original_version`` and ``current_version``
# attributes name both versions.
#
# skops: loading without running code
# -----------------------------------
#
# :mod:`skops.io` saves the same state in a format that does not execute
# anything on load. Instead, loading refuses every type that is not on a short
# list of known-safe ones until it is explicitly trusted;
# :func:`skops.io.get_untrusted_types` lists them, so that they can be
# reviewed first.
import skops.io as sio

skops_file = folder / "model.skops"
sio.dump(clf, skops_file)

untrusted = sio.get_untrusted_types(file=skops_file)
print("Types to review before loading:")
for name in untrusted:
    print(f"  {name}")

# %%
# The estimator's class, its optimiser's and its step schedule's are the only
# types to review. Only after reviewing them, pass the list as ``trusted``; a
# file that holds any other type then fails to load instead of running it.
expected = {
    "sklearn_backprop._classifier.BackpropMLPClassifier",
    "sklearn_backprop._optimizers.SGDOptimizer",
    "sklearn_backprop._schedules.OneCycleSchedule",
}
assert set(untrusted) <= expected, untrusted
clf_skops = sio.load(skops_file, trusted=untrusted)

np.testing.assert_array_equal(clf_skops.predict_proba(X_test), proba)
print("skops round trip predicts identical probabilities")

# %%
# Which to choose? pickle or joblib for models that never leave your hands
# (caching, checkpoints during training, handing a model to worker
# processes); skops for models that are shared, downloaded or loaded by
# someone other than their author, such as a model published on a model hub.
# With any format, load a model with the same versions of sklearn-backprop,
# scikit-learn and NumPy that saved it.
#
# Sizes on disk and predictions
# -----------------------------
#
# The three files hold the same arrays: the network's ~51 000 float32 weights
# and biases (784 x 64 + 64 x 10 + 74), the optimiser's momentum of the same
# size, and a few small ones. The three loaded models give the same
# probabilities for the first test images as the original, to the last bit.
import matplotlib.pyplot as plt

files = {"pickle": pickle_file, "joblib": joblib_file, "skops": skops_file}
loaded = {"pickle": clf_pickle, "joblib": clf_joblib, "skops": clf_skops}
sizes_kib = [path.stat().st_size / 1024 for path in files.values()]

fig, (ax_size, ax_proba) = plt.subplots(
    1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 2]}
)
bars = ax_size.bar(list(files), sizes_kib, color=["C1", "C2", "C3"])
ax_size.bar_label(bars, fmt="%.0f KiB")
ax_size.margins(y=0.12)
ax_size.set(ylabel="file size (KiB)", title="Size on disk")

n_images, width = 4, 0.8 / (len(loaded) + 1)
classes = np.arange(len(clf.classes_))
for k, (name, model) in enumerate({"original": clf, **loaded}.items()):
    p = model.predict_proba(X_test[:n_images])
    for i in range(n_images):
        offset = i * (len(classes) + 1) + k * width
        ax_proba.bar(
            offset + classes,
            p[i],
            width=width,
            color=f"C{k}" if k else "black",
            label=name if i == 0 else None,
        )
for i in range(n_images):
    x_center = i * (len(classes) + 1) + len(classes) / 2
    ax_proba.text(x_center, 1.05, f"image {i + 1}: a {y_test[i]}", ha="center")
ticks = [i * (len(classes) + 1) + classes + 0.3 for i in range(n_images)]
ax_proba.set_xticks(np.concatenate(ticks), list(clf.classes_) * n_images)
ax_proba.set(
    xlabel=f"class, for each of the first {n_images} test images",
    ylabel="predict_proba",
    ylim=(0, 1.15),
    title="Probabilities before and after a round trip",
)
ax_proba.legend(loc="center right")
fig.tight_layout()
plt.show()

# %%
# Clean up the temporary files.
import shutil

shutil.rmtree(folder)
