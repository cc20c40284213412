"""Same seed, same model: fits equal those recorded before the trainer's redesign.

``tests/data/reference_fits.npz`` holds the weights and training curves of
the fits below, recorded by ``tests/data/make_reference_fits.py`` with the
package as it was at commit bc8ba44 (before the fit plan, the array backend,
the step schedules and the output codings). Every solver, both heads and each
output case are covered. Where the BLAS computes matrix products as it did
then (the same OpenBLAS kernels and NumPy), the results must be equal bit for
bit; another machine's kernels sum in another order, so there they must
agree to rounding: within 1e-9 of the largest value for float64 fits, 1e-5
for float32 ones. (Measured with OpenBLAS's SSE3 kernels instead of its AVX2
ones, ``OPENBLAS_CORETYPE=Prescott``: 2e-14 and 3e-7.)
"""

import os
from pathlib import Path

import numpy as np
import pytest
import threadpoolctl
from _helpers import digits, ignore_convergence
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_friedman1

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor

REFERENCE = Path(__file__).parent / "data" / "reference_fits.npz"


def _data(kind):
    if kind == "friedman":
        X, y = make_friedman1(n_samples=200, random_state=0)
        return X, y
    X, y = digits(300)
    if kind == "binary":
        return X, y % 2
    if kind == "multilabel":
        return X, np.c_[y % 2, y < 5, y % 3 == 0].astype(int)
    if kind == "float32":
        return X.astype(np.float32), y
    return X, y


_SMALL = dict(hidden_layer_sizes=(16,), random_state=0)
# The defaults of bc8ba44, given explicitly since issue 21 changed them (the
# 'auto' batch size, step and length, the classifier's beta_2, the
# regressor's one-cycle schedule and standardised targets): the cases train
# as they were recorded. (bc8ba44's Adam ignored the 'one_cycle' schedule.)
_RECORDED_DEFAULTS = {
    BackpropMLPClassifier: dict(
        batch_size=100, learning_rate_init=0.6, max_iter=8, beta_2=0.999
    ),
    BackpropMLPRegressor: dict(
        learning_rate="constant",
        learning_rate_init=0.001,
        max_iter=200,
        standardize_target=False,
    ),
}

# name: (estimator, parameters, data, how it trains)
CASES = {
    "classifier-sgd-one_cycle": (BackpropMLPClassifier, {}, "digits", "fit"),
    "classifier-sgd-constant-early_stopping": (
        BackpropMLPClassifier,
        dict(learning_rate="constant", learning_rate_init=0.1, early_stopping=True),
        "digits",
        "fit",
    ),
    "classifier-sgd-softmax-adaptive": (
        BackpropMLPClassifier,
        dict(output_activation="softmax", learning_rate="adaptive", max_iter=6),
        "digits",
        "fit",
    ),
    "classifier-adam": (
        BackpropMLPClassifier,
        dict(
            solver="adam", learning_rate="constant", learning_rate_init=0.01, max_iter=5
        ),
        "digits",
        "fit",
    ),
    "classifier-lbfgs": (
        BackpropMLPClassifier,
        dict(solver="lbfgs", max_iter=20),
        "digits",
        "fit",
    ),
    "classifier-binary-tanh": (
        BackpropMLPClassifier,
        dict(activation="tanh", learning_rate_init=0.1),
        "binary",
        "fit",
    ),
    "classifier-multilabel-relu": (
        BackpropMLPClassifier,
        dict(activation="relu", learning_rate_init=0.1),
        "multilabel",
        "fit",
    ),
    "classifier-float32": (BackpropMLPClassifier, {}, "float32", "fit"),
    "classifier-partial_fit": (
        BackpropMLPClassifier,
        dict(max_iter=4),
        "digits",
        "partial_fit",
    ),
    "regressor-adam": (BackpropMLPRegressor, dict(max_iter=5), "friedman", "fit"),
    "regressor-sgd": (
        BackpropMLPRegressor,
        dict(solver="sgd", learning_rate_init=0.01, max_iter=5),
        "friedman",
        "fit",
    ),
    "regressor-lbfgs": (
        BackpropMLPRegressor,
        dict(solver="lbfgs", max_iter=20),
        "friedman",
        "fit",
    ),
    "regressor-poisson-warm_start": (
        BackpropMLPRegressor,
        dict(loss="poisson", max_iter=3, warm_start=True),
        "friedman",
        "fit twice",
    ),
}


def reference_fit(name):
    """Fit case ``name``; return its figures as named arrays."""
    estimator, params, data, how = CASES[name]
    X, y = _data(data)
    model = estimator(**_SMALL, **{**_RECORDED_DEFAULTS[estimator], **params})
    if how == "partial_fit":
        for _ in range(3):
            model.partial_fit(X, y, classes=np.arange(10))
    else:
        for _ in range(2 if how == "fit twice" else 1):
            model.fit(X, y)
    figures = {
        "weights": np.concatenate(
            [array.ravel() for array in model.coefs_ + model.intercepts_]
        ),
        "loss_curve": np.array(model.loss_curve_),
        "train_scores": np.array(model.train_scores_),
    }
    if model.validation_scores_ is not None:
        figures["validation_scores"] = np.array(model.validation_scores_)
    return figures


def blas():
    """The BLAS that computes NumPy's matrix products (NumPy's own library,
    not SciPy's), as recorded."""
    numpy_dir = os.path.dirname(np.__file__)
    entry = next(
        (
            entry
            for entry in threadpoolctl.threadpool_info()
            if entry["user_api"] == "blas" and entry["filepath"].startswith(numpy_dir)
        ),
        {},
    )
    return "{} {} {} numpy {}".format(
        entry.get("internal_api"),
        entry.get("version"),
        entry.get("architecture"),
        np.__version__,
    )


@pytest.fixture(scope="module")
def recorded():
    with np.load(REFERENCE) as file:
        return dict(file)


@ignore_convergence
@pytest.mark.parametrize("name", list(CASES))
def test_same_seed_gives_the_recorded_model(name, recorded):
    figures = reference_fit(name)
    same_blas = str(recorded["blas"]) == blas()
    rounding = 1e-5 if figures["weights"].dtype == np.float32 else 1e-9
    for key, value in figures.items():
        expected = recorded[f"{name}/{key}"]
        assert value.dtype == expected.dtype and value.shape == expected.shape
        if same_blas:
            assert_array_equal(value, expected, err_msg=f"{name}/{key}")
        else:
            scale = np.max(np.abs(expected), initial=0.0)
            assert_allclose(value, expected, rtol=0, atol=rounding * scale)
    assert {key.split("/")[1] for key in recorded if key.startswith(name + "/")} == (
        set(figures)
    )
