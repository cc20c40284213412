"""The GPU benchmark's dry run on the CPU (``run.py --device cpu --quick``):
every contender of ``benchmarks/gpu.py`` runs and the report is written, so
that the script runs when a GPU is at hand. It measures nothing."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from _helpers import optional_backend

from sklearn_backprop._base import _ARRAY_API_AVAILABLE

GPU_BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu.py"

pytestmark = pytest.mark.skipif(
    not _ARRAY_API_AVAILABLE,
    reason="array API dispatch needs scikit-learn >= 1.9 and SciPy >= 1.14",
)


def _gpu_benchmark():
    spec = importlib.util.spec_from_file_location("gpu_benchmark", GPU_BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_gpu_benchmark_runs_every_contender_on_the_cpu(tmp_path):
    optional_backend("torch")
    gpu = _gpu_benchmark()
    rng = np.random.default_rng(0)
    # Two blobs per class in 784 dimensions: enough for every contender to
    # run whole epochs at both batch sizes.
    y = np.arange(2000) % 10
    X = (rng.random((2000, 784)) * 0.2 + (y[:, None] == np.arange(784) % 10)).astype(
        np.float32
    )
    results = gpu.run("cpu", "quick", tmp_path, data=(X, X[:200], y, y[:200]))
    for batch_size in gpu.BATCH_SIZES:
        epochs = results["epochs"][batch_size]
        assert epochs["errors"] == {}
        assert set(epochs["median"]) == set(gpu.CONTENDERS)
        assert all(seconds > 0 for seconds in epochs["median"].values())
    (run,) = results["defaults"]
    assert run["accuracy"] > 0.9  # the defaults learn the blobs
    assert results["targets"] == []  # the targets are CUDA's
    written = json.loads((tmp_path / "gpu-on-cpu.json").read_text())
    assert written["rows"] == 2000
    report = (tmp_path / "gpu-on-cpu.md").read_text()
    assert "plain numpy loop" in report and "PyTorch eager (torch cpu)" in report
