"""The in-place optimisers and the step schedules equal scikit-learn's
reference implementations."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.neural_network import _stochastic_optimizers as sk_optimizers

from sklearn_backprop._optimizers import AdamOptimizer, SGDOptimizer
from sklearn_backprop._schedules import AdaptiveSchedule, InvScalingSchedule


def _run(ours, step, reference, dtype, n_steps=7, seed=0):
    rng = np.random.RandomState(seed)
    params = rng.normal(size=50).astype(dtype)
    reference_params = [params.astype(np.float64)]
    for _ in range(n_steps):
        grad = rng.normal(size=50).astype(dtype)
        reference.update_params(reference_params, [grad.astype(np.float64)])
        ours.update_params(params, grad.copy(), step)
    return params, reference_params[0]


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sgd_matches_scikit_learn(momentum, nesterov, dtype):
    ours = SGDOptimizer(50, dtype, momentum, nesterov)
    reference = sk_optimizers.SGDOptimizer(
        [np.zeros(50)], 0.05, "constant", momentum, nesterov
    )
    params, expected = _run(ours, 0.05, reference, dtype)
    assert params.dtype == dtype
    # float32 keeps ~7 digits of parameters of order 1: compare absolutely there.
    if dtype == np.float32:
        assert_allclose(params, expected, rtol=1e-5, atol=1e-6)
    else:
        assert_allclose(params, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_matches_scikit_learn(dtype):
    ours = AdamOptimizer(50, dtype, 0.8, 0.99, 1e-7)
    reference = sk_optimizers.AdamOptimizer([np.zeros(50)], 0.01, 0.8, 0.99, 1e-7)
    params, expected = _run(ours, 0.01, reference, dtype)
    assert params.dtype == dtype
    assert_allclose(params, expected, rtol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize(
    "ours, schedule",
    [
        (InvScalingSchedule(0.1, power_t=0.3), "invscaling"),
        (AdaptiveSchedule(0.1), "adaptive"),
    ],
)
def test_schedules_match_scikit_learn(ours, schedule):
    reference = sk_optimizers.SGDOptimizer(
        [np.zeros(3)], 0.1, schedule, 0.9, True, power_t=0.3
    )
    for time_step in (100, 1000, 5000):
        ours.epoch_ends(time_step)
        reference.iteration_ends(time_step)
        assert ours.learning_rate == pytest.approx(reference.learning_rate)
    # 'adaptive' divides by 5 when progress stalls, then stops below 1e-6.
    stops = [ours.plateau("", False) for _ in range(12)]
    expected = [reference.trigger_stopping("", False) for _ in range(12)]
    assert stops == expected
    assert ours.learning_rate == pytest.approx(reference.learning_rate)


def test_an_optimizer_serves_parameters_of_its_solver_size_and_dtype():
    sgd = SGDOptimizer(5, np.float32, momentum=0.0)  # no state array
    assert sgd.serves("sgd", 5, np.float32)
    assert not sgd.serves("adam", 5, np.float32)
    assert not sgd.serves("sgd", 6, np.float32)
    assert not sgd.serves("sgd", 5, np.float64)
    assert AdamOptimizer(5, "float64").serves("adam", 5, np.dtype("float64"))
