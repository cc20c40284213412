"""
=============================================
Training on PyTorch tensors, on a GPU or not
=============================================

With scikit-learn's array API dispatch switched on,
:class:`~sklearn_backprop.BackpropMLPClassifier` trains on the arrays it is
given, wherever they live: here PyTorch tensors, on the first CUDA GPU when
there is one, else on the CPU (as when this documentation was built). The
computation stays on that device, the fitted weights live there, and
``predict`` returns tensors. With the same seed the model is the NumPy model,
to float32 rounding. :func:`~sklearn_backprop.move_estimator_to` then turns
the model into a NumPy one, to pickle it and serve it where there is neither
a GPU nor PyTorch. The user guide's :ref:`gpu` page explains the rest.

It needs PyTorch (``pip install torch``), scikit-learn >= 1.9 and SciPy >=
1.14, and trains on scikit-learn's bundled 8x8 digits so that it runs in
seconds.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Switching dispatch on
# ---------------------
#
# scikit-learn's dispatch needs SciPy's array API support, which SciPy reads
# from the environment once, when it is first imported: set it before
# importing scikit-learn (or export ``SCIPY_ARRAY_API=1`` in the shell).
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pickle  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn import config_context  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_backprop import BackpropMLPClassifier, move_estimator_to  # noqa: E402

device = "cuda" if torch.cuda.is_available() else "cpu"
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)  # float32 stays float32, on every device
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
X_train_gpu = torch.asarray(X_train, device=device)
X_test_gpu = torch.asarray(X_test, device=device)

# %%
# Training where the data are
# ---------------------------
#
# Inside ``config_context(array_api_dispatch=True)`` (or after
# ``sklearn.set_config(array_api_dispatch=True)``), ``fit`` takes the tensors
# as they are. The labels may stay a NumPy array: they are checked and
# encoded on the host, and moved next to ``X``. Early stopping holds out a
# tenth of the rows, on the device too, and scores it after every epoch.
with config_context(array_api_dispatch=True):
    clf = BackpropMLPClassifier(early_stopping=True, max_iter=30, random_state=0)
    clf.fit(X_train_gpu, y_train)
    proba = clf.predict_proba(X_test_gpu)
    accuracy = clf.score(X_test_gpu, torch.asarray(y_test, device=device))

print(f"weights: {type(clf.coefs_[0]).__name__} on {clf.coefs_[0].device}")
print(f"predict_proba: {type(proba).__name__} on {proba.device}, {proba.dtype}")
print(f"test accuracy: {accuracy:.3f}")

# %%
# The same seed, the same model
# -----------------------------
#
# The initial weights and each epoch's order of the minibatches are drawn on
# the host from ``random_state``, whatever the device: the NumPy fit with the
# same seed takes the same steps, and the two differ by float32 rounding.
reference = BackpropMLPClassifier(early_stopping=True, max_iter=30, random_state=0)
reference.fit(X_train, y_train)
largest = max(
    float(np.max(np.abs(coef.cpu().numpy() - coef_numpy)))
    for coef, coef_numpy in zip(clf.coefs_, reference.coefs_)
)
print(f"largest difference between the weights: {largest:.1e}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(reference.loss_curve_, label="NumPy arrays", linewidth=4, alpha=0.4)
ax.plot(clf.loss_curve_, "--", label=f"PyTorch tensors ({device})")
ax.set(xlabel="epoch", ylabel="training loss", yscale="log")
ax.legend()
fig.tight_layout()

# %%
# Arrays from elsewhere are refused, clearly
# ------------------------------------------
#
# A model fitted on tensors predicts from tensors on the same device; a NumPy
# array is a mistake that the error message names.
try:
    with config_context(array_api_dispatch=True):
        clf.predict(X_test)
except ValueError as error:
    print(error)

# %%
# Serving the model without a GPU
# -------------------------------
#
# :func:`~sklearn_backprop.move_estimator_to` returns a copy whose weights
# (and optimiser state) are NumPy arrays: it pickles without PyTorch and
# predicts from NumPy arrays, with dispatch on or off. The reverse,
# ``move_estimator_to(model, torch, device="cuda")``, takes a model to a GPU,
# to predict there or to continue training with ``partial_fit``.
served = move_estimator_to(clf, "numpy")
restored = pickle.loads(pickle.dumps(served))
agree = np.mean(restored.predict(X_test) == proba.argmax(dim=1).cpu().numpy())
print(f"{type(restored.coefs_[0]).__name__} weights; predictions agree: {agree:.0%}")
