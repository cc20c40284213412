"""Test configuration shared by every test module and the doctests of the package."""

import os
from pathlib import Path

import pytest

# scikit-learn's check_array_api_input (array API dispatch with NumPy inputs)
# only runs when SciPy's array API support is switched on before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

_MNIST_ENV_VAR = "SKLEARN_BACKPROP_MNIST"  # sklearn_backprop.datasets.MNIST_ENV_VAR


def _local_mnist_copies():
    """Where a copy of MNIST may already be on this machine, most specific first:
    the shared copy beside this repository's checkout (CI's workspace), the
    package's cache, and the file Keras downloads."""
    data_home = os.environ.get("SCIKIT_LEARN_DATA", "~/scikit_learn_data")
    keras_home = os.environ.get("KERAS_HOME", "~/.keras")
    return [
        Path(__file__).resolve().parent.parent / "shared" / "data" / "mnist.npz",
        Path(data_home).expanduser() / "mnist" / "mnist.npz",
        Path(keras_home).expanduser() / "datasets" / "mnist.npz",
    ]


# Tests that need the real MNIST read it through the package's loader from the
# file named by SKLEARN_BACKPROP_MNIST. CI exports it; elsewhere it defaults to
# the first local copy found. With none, those tests skip (they never download).
if _MNIST_ENV_VAR not in os.environ:
    for _copy in _local_mnist_copies():
        if _copy.is_file():
            os.environ[_MNIST_ENV_VAR] = str(_copy)
            break

MNIST_MISSING = (
    f"MNIST is not on this machine: set {_MNIST_ENV_VAR} to a copy of mnist.npz "
    "(the Keras layout), or download it once into the cache with "
    "python -c 'from sklearn_backprop.datasets import load_mnist; load_mnist()'"
)


# CI's wheel and minimum-dependencies jobs set this to the site-packages folder
# they installed the wheel into: the session stops at once if the tests would
# import sklearn_backprop from anywhere else (a source tree, say).
_INSTALLED_ENV_VAR = "SKLEARN_BACKPROP_TEST_INSTALLED"


def _package_under_test():
    import sklearn_backprop

    return sklearn_backprop, Path(sklearn_backprop.__file__).resolve().parent


def pytest_report_header(config):
    """Name the sklearn_backprop under test and the versions of its dependencies."""
    from importlib.metadata import version

    package, location = _package_under_test()
    dependencies = ("numpy", "scipy", "scikit-learn", "joblib")
    return [
        f"sklearn_backprop {package.__version__} from {location}",
        ", ".join(f"{name} {version(name)}" for name in dependencies),
    ]


def pytest_sessionstart(session):
    expected = os.environ.get(_INSTALLED_ENV_VAR)
    if expected:
        _, location = _package_under_test()
        if not location.is_relative_to(Path(expected).resolve()):
            pytest.exit(
                f"the tests import sklearn_backprop from {location}, "
                f"not from the installed package in {expected}",
                returncode=pytest.ExitCode.USAGE_ERROR,
            )


def pytest_collection_modifyitems(config, items):
    """Mark load_mnist's doctest as needing MNIST; skip those tests without it.

    Where SKLEARN_BACKPROP_MNIST is set (CI sets it), they run, and a wrong
    path fails them loudly rather than skipping.
    """
    for item in items:
        if item.name.endswith("datasets.load_mnist"):
            item.add_marker(pytest.mark.mnist)
    if _MNIST_ENV_VAR in os.environ:
        return
    for item in items:
        if item.get_closest_marker("mnist") is not None:
            item.add_marker(pytest.mark.skip(reason=MNIST_MISSING))
