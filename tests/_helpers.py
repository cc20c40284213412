"""Helpers that many test modules share: small data sets, copies and
comparisons of weights, and the mark that silences ConvergenceWarning."""

import importlib
import os

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
)

from sklearn_backprop import BackpropMLPClassifier

# For tests that train on purpose for fewer epochs than convergence needs.
ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def digits(n_samples=None, *, scale=1 / 16, dtype=np.float64):
    """The first ``n_samples`` of scikit-learn's 8x8 digits (all by default),
    pixels times ``scale`` (by default divided by 16: in [0, 1])."""
    X, y = load_digits(return_X_y=True)
    return (X[:n_samples] * scale).astype(dtype), y[:n_samples]


def weights(model):
    """Copies of a model's ``coefs_`` then ``intercepts_``."""
    return [np.array(array, copy=True) for array in model.coefs_ + model.intercepts_]


def assert_same_weights(a, b):
    """Equal weights, bit for bit; ``a`` and ``b`` are models or what
    :func:`weights` returned."""
    a, b = (weights(x) if hasattr(x, "coefs_") else x for x in (a, b))
    assert len(a) == len(b)
    for array_a, array_b in zip(a, b, strict=True):
        assert_array_equal(array_a, array_b)


def weights_differ(a, b):
    """Whether two models' weights differ anywhere."""
    return any(
        not np.array_equal(ca, cb)
        for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    )


def assert_finite_weights(model):
    """No NaN or infinity in a model's weights."""
    for array in model.coefs_ + model.intercepts_:
        assert np.all(np.isfinite(array))


# ----------------------------------------------------------------------------
# The classifier's small problems: digits split 450 / 150, and made-up binary,
# multiclass and multilabel problems.
# ----------------------------------------------------------------------------
X_DIGITS, Y_DIGITS = digits(600)
X_TRAIN, Y_TRAIN = X_DIGITS[:450], Y_DIGITS[:450]
X_TEST, Y_TEST = X_DIGITS[450:], Y_DIGITS[450:]

X_BIN, Y_BIN = make_classification(
    n_samples=80, n_features=6, n_informative=4, n_redundant=0, random_state=0
)
X_MC, Y_MC = make_classification(
    n_samples=90,
    n_features=6,
    n_informative=4,
    n_redundant=0,
    n_classes=3,
    n_clusters_per_class=1,
    random_state=1,
)
X_ML, Y_ML = make_multilabel_classification(
    n_samples=80, n_features=8, n_classes=4, random_state=2
)


def small(**params):
    """A small, fast, reproducible classifier."""
    defaults = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    defaults.update(params)
    return BackpropMLPClassifier(**defaults)


def toy(n_samples=60, n_features=4, n_classes=3, seed=0):
    """Gaussian features, labels cycling through ``n_classes``; the first
    feature is shifted by the label, so there is something to learn."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    y = np.arange(n_samples) % n_classes
    X[:, 0] += y  # something learnable
    return X, y


def fitted_toy(**params):
    """A small classifier fitted for 5 epochs on :func:`toy`, then X and y."""
    X, y = toy()
    defaults = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    return BackpropMLPClassifier(**(defaults | params)).fit(X, y), X, y


# Optional back-ends and where to get them. Without one, its tests skip with
# this one-line reason; where SKLEARN_BACKPROP_REQUIRE_BACKENDS is set (CI sets
# it, and CI installs every one of them), its absence fails them instead:
# PyTorch's only where scikit-learn can dispatch to it (scikit-learn >= 1.9,
# CI's min stage has neither), Keras's only where
# SKLEARN_BACKPROP_REQUIRE_KERAS is set too (CI's dev stage, which installs
# the benchmark extra).
BACKENDS = {
    "torch": "needs PyTorch: pip install torch (any build; the CPU one is "
    "lighter: --index-url https://download.pytorch.org/whl/cpu)",
    "ray": 'needs the ray extra: pip install "sklearn-backprop[ray]"',
    "dask": 'needs the dask extra: pip install "sklearn-backprop[dask]"',
    "distributed": 'needs the dask extra: pip install "sklearn-backprop[dask]"',
    "skl2onnx": 'needs the onnx extra: pip install "sklearn-backprop[onnx]"',
    "onnxruntime": 'needs the onnx extra: pip install "sklearn-backprop[onnx]"',
    "keras": 'needs Keras 3 and JAX: pip install "sklearn-backprop[benchmark]"',
}
REQUIRE_BACKENDS = "SKLEARN_BACKPROP_REQUIRE_BACKENDS"
REQUIRE_KERAS = "SKLEARN_BACKPROP_REQUIRE_KERAS"


def backends_required(name=None):
    """Whether a missing optional back-end (``name``, or any) fails its tests
    (CI) rather than skipping them."""
    from sklearn_backprop._base import _ARRAY_API_AVAILABLE

    if not os.environ.get(REQUIRE_BACKENDS):
        return False
    if name == "torch":
        return _ARRAY_API_AVAILABLE
    if name == "keras":
        return bool(os.environ.get(REQUIRE_KERAS))
    return True


def optional_backend(name):
    """The module ``name``: imported, or its tests skipped with a one-line
    reason (failed where back-ends are required)."""
    if backends_required(name):
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=BACKENDS[name])
