"""Thread safety: prediction allocates its buffers per call, so concurrent
``predict``, ``predict_proba`` and ``predict_log_proba`` calls on one fitted
model, over many row slices and several chunks each, give exactly the results
of serial calls.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _helpers import ignore_convergence, toy
from numpy.testing import assert_array_equal

from sklearn_backprop import BackpropMLPClassifier

pytestmark = ignore_convergence

OUTPUT_ACTIVATIONS = ["logistic", "softmax"]
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("output_activation", OUTPUT_ACTIVATIONS)
def test_concurrent_predictions_equal_serial_ones(output_activation, dtype):
    X, y = toy(n_samples=600, n_features=8, n_classes=4)
    X = X.astype(dtype)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(32, 16),
        activation="tanh",
        output_activation=output_activation,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    clf._predict_chunk_size = 50  # several chunks per call, too
    rng = np.random.RandomState(0)
    slices = []
    for _ in range(120):
        start = rng.randint(0, len(X) - 1)
        slices.append(slice(start, rng.randint(start + 1, len(X) + 1)))
    methods = ["predict", "predict_proba", "predict_log_proba"]
    jobs = [(m, s) for s in slices for m in methods]

    def run(job):
        method, rows = job
        return getattr(clf, method)(X[rows])

    serial = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(run, jobs))
    for expected, got in zip(serial, concurrent):
        assert_array_equal(got, expected)
