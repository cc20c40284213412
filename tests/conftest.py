"""Test configuration shared by every test module."""

import os
from pathlib import Path

# scikit-learn's check_array_api_input (array API dispatch with NumPy inputs)
# only runs when SciPy's array API support is switched on before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# The real MNIST of this repository's workspace: ../shared/data/mnist.npz beside
# the checkout. CI exports SKLEARN_BACKPROP_MNIST itself; this default lets the
# README's test command find the same file on a developer machine.
_SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
if "SKLEARN_BACKPROP_MNIST" not in os.environ and _SHARED_MNIST.is_file():
    os.environ["SKLEARN_BACKPROP_MNIST"] = str(_SHARED_MNIST)
