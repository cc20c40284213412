"""
=====================
Exporting to ONNX
=====================

`ONNX <https://onnx.ai>`__ is a file format for trained models that runtimes
such as `ONNX Runtime <https://onnxruntime.ai>`__ execute without Python,
scikit-learn or this package: a common way to deploy scikit-learn models.
:mod:`sklearn_backprop.onnx` registers converters for
:class:`~sklearn_backprop.BackpropMLPClassifier` and
:class:`~sklearn_backprop.BackpropMLPRegressor` with `skl2onnx
<https://onnx.ai/sklearn-onnx/>`__, so that its ``to_onnx`` converts them as it
converts scikit-learn's own models. This example exports a classifier, alone
and in a pipeline, and a regressor, runs them with ONNX Runtime, and compares
their outputs with :meth:`~sklearn_backprop.BackpropMLPClassifier.predict_proba`
and :meth:`~sklearn_backprop.BackpropMLPRegressor.predict`.

It needs the optional dependencies ``pip install "sklearn-backprop[onnx]"``
(skl2onnx and onnxruntime), and trains on scikit-learn's 8x8 digits, in
seconds.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A classifier to export
# ----------------------
#
# The notebook's network: sigmoid hidden units, and one independent sigmoid
# output per class, which
# :meth:`~sklearn_backprop.BackpropMLPClassifier.predict_proba` normalises so
# that each row sums to one. The pixels are scaled to [0, 1] in float32, the
# type that the exported graph will compute in.

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_backprop import BackpropMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    (X / 16).astype(np.float32), y, test_size=0.25, random_state=0, stratify=y
)
clf = BackpropMLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0)
clf.fit(X_train, y_train)
print(f"Test accuracy: {clf.score(X_test, y_test):.4f}")

# %%
# Conversion
# ----------
#
# Importing :mod:`sklearn_backprop.onnx` registers the converters (once per
# process; importing it again does nothing more). Then
# :func:`skl2onnx.to_onnx` takes the model and a sample of its input, from
# which it reads the number of features and the type: float32 input gives a
# graph that computes in float (float64 input would give one in double). The
# option ``zipmap=False`` returns the probabilities as one array rather than
# as a list of ``{class: probability}`` dicts, skl2onnx's default.
from onnx import TensorProto
from skl2onnx import to_onnx

import sklearn_backprop.onnx  # noqa: F401 (registers the converters)

onx = to_onnx(clf, X_train[:1], options={"zipmap": False})
print(f"ONNX model: {len(onx.SerializeToString()) / 1024:.0f} KiB")
for kind, variables in [("input", onx.graph.input), ("output", onx.graph.output)]:
    for variable in variables:
        elem_type = TensorProto.DataType.Name(variable.type.tensor_type.elem_type)
        print(f"{kind} {variable.name!r}: {elem_type}")

# %%
# ``onx`` is an ``onnx.ModelProto``; ``onx.SerializeToString()`` is what a
# deployment stores in a ``.onnx`` file. Its weights are those of
# ``clf.coefs_`` and ``clf.intercepts_``; the training history and the
# optimiser's state are not exported.
#
# Running it with ONNX Runtime
# ----------------------------
#
# An :class:`onnxruntime.InferenceSession` runs the graph. It returns the
# labels of :meth:`~sklearn_backprop.BackpropMLPClassifier.predict` and the
# probabilities of
# :meth:`~sklearn_backprop.BackpropMLPClassifier.predict_proba`, equal up to
# float32 rounding: both are computed from the output layer's pre-activations
# in the log domain, so that even probabilities far below float32's resolution
# near 1 keep their relative accuracy.
import onnxruntime as ort

session = ort.InferenceSession(
    onx.SerializeToString(), providers=["CPUExecutionProvider"]
)
labels, proba = session.run(None, {session.get_inputs()[0].name: X_test})

expected = clf.predict_proba(X_test)
print(f"labels equal to predict: {np.array_equal(labels, clf.predict(X_test))}")
print(f"max |onnxruntime - predict_proba|: {np.abs(proba - expected).max():.2e}")
print(f"max relative difference: {np.max(np.abs(proba / expected - 1)):.2e}")
print(f"smallest probability: {expected.min():.1e}")

# %%
# The probabilities against each other, on logarithmic axes so that the small
# ones, most of them, can be seen too: all lie on the diagonal.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 5))
ax.loglog(expected.ravel(), proba.ravel(), ".", markersize=3, alpha=0.5)
limits = [expected.min() / 2, 1.5]
ax.plot(limits, limits, color="black", linewidth=0.8)
ax.set(
    xlim=limits,
    ylim=limits,
    xlabel="clf.predict_proba(X_test)",
    ylabel="ONNX Runtime's probabilities",
    title="Every test probability, by both",
)
fig.tight_layout()
plt.show()

# %%
# skl2onnx's default output, ``zipmap=True``, is a list with one dict per
# sample, mapping each class to its probability (floats, whatever the type of
# the graph):
default_session = ort.InferenceSession(
    to_onnx(clf, X_train[:1]).SerializeToString(),
    providers=["CPUExecutionProvider"],
)
labels, dicts = default_session.run(None, {"X": X_test[:1]})
print(labels[0], {k: round(v, 4) for k, v in dicts[0].items()})

# %%
# A pipeline and a regressor
# --------------------------
#
# The converters also serve a network that ends a
# :class:`~sklearn.pipeline.Pipeline`, whose other steps skl2onnx converts:
# here a :class:`~sklearn.preprocessing.StandardScaler` and a regressor fitted
# to :func:`~sklearn.datasets.make_friedman1`. A regressor's graph has one
# output, of shape ``(n_samples, n_outputs_)``: a single column here, where
# :meth:`~sklearn_backprop.BackpropMLPRegressor.predict` returns a 1-D array.
from sklearn.datasets import make_friedman1
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_backprop import BackpropMLPRegressor

X_reg, y_reg = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
X_reg_train, X_reg_test, y_reg_train, y_reg_test = train_test_split(
    X_reg.astype(np.float32), y_reg, random_state=0
)
pipe = make_pipeline(
    StandardScaler(),
    BackpropMLPRegressor(
        hidden_layer_sizes=(50, 50),
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    ),
)
pipe.fit(X_reg_train, y_reg_train)

reg_session = ort.InferenceSession(
    to_onnx(pipe, X_reg_train[:1]).SerializeToString(),
    providers=["CPUExecutionProvider"],
)
(predicted,) = reg_session.run(None, {"X": X_reg_test})
expected = pipe.predict(X_reg_test)
print(f"R² of the pipeline: {pipe.score(X_reg_test, y_reg_test):.3f}")
print(f"output shape: {predicted.shape}")
print(f"max |onnxruntime - predict|: {np.abs(predicted[:, 0] - expected).max():.2e}")
print(f"predictions range from {expected.min():.1f} to {expected.max():.1f}")

# %%
# What is exported
# ----------------
#
# Every hidden activation ('identity', 'logistic', 'tanh', 'relu') and depth,
# sigmoid and softmax outputs, binary, multiclass and multilabel targets with
# labels of any type, and the regressor's identity and exponential
# (``loss='poisson'``) outputs, single or multi-output. The graph computes in
# the type of the sample passed to ``to_onnx`` (float, or double for float64),
# whatever the dtype the model was trained in. The hidden layers as features
# (``transform``) are not exported. See :ref:`onnx_export` for the details.
