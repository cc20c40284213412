"""The array libraries that the array API tests run on, besides NumPy:
PyTorch on the CPU and array-api-strict (the test extra), and, marked ``gpu``
(deselected by default; ``benchmarks/gpu.sh`` runs them), PyTorch on CUDA and
CuPy. Without PyTorch, its tests skip with a one-line reason (and fail where
the back-ends are required, in CI); a GPU test on a machine without them
fails: it is never skipped."""

import importlib

import pytest
from _helpers import BACKENDS, backends_required

from sklearn_backprop._base import _ARRAY_API_AVAILABLE

HERE = [("torch", "cpu"), ("array_api_strict", None)]
ON_GPU = [("torch", "cuda"), ("cupy", None)]


def _installed(name):
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def namespace_params():
    """pytest params ``(name, device)``: none where scikit-learn cannot
    dispatch (before 1.9), only NumPy's own tests then."""
    if not _ARRAY_API_AVAILABLE:
        return []
    params = []
    for name, device in HERE:
        if _installed(name) or backends_required(name):
            params.append(pytest.param(name, device, id=f"{name}-{device}"))
        else:
            skip = pytest.mark.skip(reason=BACKENDS.get(name, f"needs {name}"))
            params.append(pytest.param(name, device, id=f"{name}-{device}", marks=skip))
    params += [
        pytest.param(name, device, id=f"{name}-{device}", marks=pytest.mark.gpu)
        for name, device in ON_GPU
    ]
    return params


def as_array(name, device, values):
    """``values`` (NumPy) as an array of library ``name`` on ``device``."""
    xp = importlib.import_module(name)
    if name == "cupy":  # CuPy's asarray places arrays on the current device
        return xp.asarray(values)
    return xp.asarray(values, device=device)


def library_of(array):
    """The top-level module of an array's type: 'torch', 'cupy', ..."""
    return type(array).__module__.split(".")[0]
