"""scikit-learn's estimator checks for every estimator, with no expected failures."""

import importlib.util
import inspect
import re
import warnings
from unittest import SkipTest

import pytest
from _helpers import optional_backend
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import check_estimator, estimator_checks_generator

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor

# The defaults of each head as they are; the variants with a fixed budget
# (the defaults' 'auto' one gives every fit at least 350 updates, which
# scikit-learn's hundreds of small fits per estimator do not need).
ESTIMATORS = [
    BackpropMLPClassifier(),
    BackpropMLPClassifier(output_activation="softmax", max_iter=8),
    BackpropMLPClassifier(solver="adam", learning_rate_init=0.01, max_iter=8),
    BackpropMLPClassifier(
        hidden_layer_sizes=(32, 16),
        activation="tanh",
        learning_rate_init=0.01,
        max_iter=8,
    ),
    BackpropMLPClassifier(activation="relu", alpha=1e-3, batch_size=32, max_iter=8),
    BackpropMLPClassifier(solver="lbfgs", hidden_layer_sizes=(32,), max_iter=100),
    BackpropMLPClassifier(
        hidden_layer_sizes=(16, 8), transform_layer=0, batch_size="auto", max_iter=8
    ),
    BackpropMLPRegressor(),
    BackpropMLPRegressor(solver="lbfgs", hidden_layer_sizes=(32,), max_iter=300),
    BackpropMLPRegressor(
        solver="sgd",
        learning_rate_init=0.01,
        activation="tanh",
        batch_size=32,
        max_iter=50,
    ),
    BackpropMLPRegressor(hidden_layer_sizes=(32, 16), transform_layer=0, max_iter=50),
]


# Where scikit-learn's array API checks put their arrays: (namespace, device).
# CUDA runs in the GPU script (marker ``gpu``, deselected by default); Intel's
# XPU, Apple's MPS and dpnp run on no machine of this project, so their checks
# are left out rather than skipped.
GPU_PLACES = {("torch", "cuda"), ("cupy", None)}
ABSENT_DEVICES = {"xpu", "mps"}


def _places(check):
    """The (namespace, device) pairs that an array API check uses."""
    keywords = getattr(check, "keywords", {})
    places = []
    if "array_namespace" in keywords:
        places.append((keywords["array_namespace"], keywords.get("device_name")))
    for key in ("other_ns_and_device", "X_ns_and_device"):
        if key in keywords:
            places.append(tuple(keywords[key]))
    return places


def _checks(estimators):
    """scikit-learn's checks of every estimator (as ``parametrize_with_checks``
    yields them), the array API ones placed by where they run."""
    for estimator in estimators:
        for params in estimator_checks_generator(estimator, legacy=True):
            places = _places(params[1])
            if any(xp == "dpnp" or dev in ABSENT_DEVICES for xp, dev in places):
                continue
            if any(place in GPU_PLACES for place in places):
                yield pytest.param(*params, marks=pytest.mark.gpu)
            else:
                yield params


def _check_id(value):
    if hasattr(value, "get_params"):
        return re.sub(r"\s+", "", repr(value))
    keywords = ",".join(f"{k}={v}" for k, v in getattr(value, "keywords", {}).items())
    name = getattr(getattr(value, "func", value), "__name__", str(value))
    return f"{name}({keywords})"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator, check", list(_checks(ESTIMATORS)), ids=_check_id)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.fixture
def cuda_checks_skip_without_a_gpu(monkeypatch):
    """Make scikit-learn's array API checks skip PyTorch on CUDA where CUDA
    cannot run.

    scikit-learn skips them only when PyTorch was built without CUDA. The
    package index's default PyTorch is the CUDA build: on a machine without
    an NVIDIA driver, its checks would crash (``torch.AcceleratorError: CUDA
    driver version is insufficient``) instead of skipping. They skip with
    scikit-learn's own reason, as on a CPU build.
    """
    original = estimator_checks._array_api_for_tests

    def array_api_for_tests(array_namespace, device_name=None, dtype_name=None):
        # Without PyTorch, scikit-learn's own function skips the check.
        if array_namespace == "torch" and device_name == "cuda":
            if importlib.util.find_spec("torch") is not None:
                import torch

                if not torch.cuda.is_available():
                    raise SkipTest("PyTorch test requires cuda, which is not available")
        return original(array_namespace, device_name, dtype_name)

    monkeypatch.setattr(estimator_checks, "_array_api_for_tests", array_api_for_tests)


@pytest.mark.usefixtures("cuda_checks_skip_without_a_gpu")
def test_cuda_checks_skip_where_pytorch_has_cuda_but_no_gpu(monkeypatch):
    # What a CUDA build of PyTorch says on a machine without a driver: built
    # with CUDA, none available. scikit-learn's own test would go on.
    torch = optional_backend("torch")
    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SkipTest, match="requires cuda"):
        estimator_checks._array_api_for_tests("torch", "cuda", "float32")
    # and a CPU check still runs as scikit-learn sets it up.
    xp, device = estimator_checks._array_api_for_tests("torch", "cpu", "float32")
    assert device == "cpu"


@pytest.mark.usefixtures("cuda_checks_skip_without_a_gpu")
@pytest.mark.parametrize(
    "estimator", [BackpropMLPClassifier(), BackpropMLPRegressor()], ids=repr
)
def test_check_estimator_with_legacy_checks(estimator):
    """The whole suite, legacy checks included, raises on the first failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = check_estimator(estimator, legacy=True)
    assert results and all(r["status"] != "failed" for r in results)


@pytest.mark.parametrize("Estimator", [BackpropMLPClassifier, BackpropMLPRegressor])
def test_docstring_documents_every_parameter_in_signature_order(Estimator):
    """The shared parameter texts are filled in (no ``{{name}}`` left), with
    the defaults of this estimator's signature, in its order."""
    # Python 3.13 strips the docstring's common indentation when compiling;
    # earlier versions keep it: compare the text without it.
    doc = inspect.cleandoc(Estimator.__doc__)
    assert "{{" not in doc and "{score}" not in doc
    params = doc[doc.index("Parameters\n") : doc.index("Attributes\n")]
    documented = re.findall(r"^(\w+) : .*?, default=(.+)$", params, re.MULTILINE)
    signature = inspect.signature(Estimator).parameters
    assert [name for name, _ in documented] == list(signature)
    for name, default in documented:
        assert default == repr(signature[name].default), name
