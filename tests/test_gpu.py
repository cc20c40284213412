"""On an NVIDIA GPU (marker ``gpu``: deselected by default, run by
``benchmarks/gpu.sh``): what only a CUDA device can show. The tests that run
for every namespace (a fit equal to NumPy's, results where X is, moving a
model) run on PyTorch CUDA and CuPy through their ``gpu`` parameters in
``test_array_api.py``, ``test_move.py`` and ``test_common.py``."""

import warnings

import numpy as np
import pytest
from _helpers import digits
from sklearn import clone, config_context

from sklearn_backprop import (
    BackpropMLPClassifier,
    BackpropMLPRegressor,
    move_estimator_to,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def torch():
    import torch

    assert torch.cuda.is_available(), "the gpu tests need a CUDA device"
    return torch


@pytest.mark.parametrize(
    "estimator",
    [
        BackpropMLPClassifier(solver="sgd"),
        BackpropMLPClassifier(solver="adam"),
        BackpropMLPClassifier(activation="relu", early_stopping=True),
        BackpropMLPRegressor(),  # relu, adam
    ],
    ids=repr,
)
def test_no_synchronisation_per_minibatch_on_cuda(torch, estimator):
    """PyTorch's synchronisation debugger counts the operations that wait for
    the GPU: as many for 1 minibatch per epoch as for 90."""
    X, y = digits(dtype=np.float32)
    X_cuda = torch.asarray(X, device="cuda")

    def synchronisations(batch_size):
        model = clone(estimator).set_params(
            batch_size=batch_size, max_iter=3, n_iter_no_change=100, random_state=0
        )
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with config_context(array_api_dispatch=True):
                    model.fit(X_cuda, y)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    one_batch = synchronisations(X.shape[0])
    many_batches = synchronisations(20)
    assert one_batch > 0  # the debugger sees the reads of each epoch's end
    assert many_batches == one_batch


def test_a_cuda_model_serves_on_numpy_and_comes_back(torch):
    X, y = digits(dtype=np.float32)
    X_cuda = torch.asarray(X, device="cuda")
    with config_context(array_api_dispatch=True):
        model = BackpropMLPClassifier(max_iter=5, random_state=0).fit(X_cuda, y)
        on_gpu = model.predict_proba(X_cuda)
    assert on_gpu.device.type == "cuda"
    served = move_estimator_to(model, "numpy")
    np.testing.assert_allclose(
        served.predict_proba(X), on_gpu.cpu().numpy(), rtol=1e-5, atol=1e-6
    )
    back = move_estimator_to(served, torch, device="cuda")
    assert all(coef.device.type == "cuda" for coef in back.coefs_)
