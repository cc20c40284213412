"""Backpropagated gradients against central finite differences."""

import numpy as np
import pytest

from sklearn_backprop import BackpropMLPClassifier
from sklearn_backprop._network import (
    FlatParameters,
    allocate_activations,
    initialize,
    loss_and_gradients,
)
from sklearn_backprop._plan import make_plan


def _loss_and_grad(params, X, Y, weights, hidden, output, alpha):
    units = [X.shape[1]] + [coef.shape[1] for coef in params.coefs]
    grads = FlatParameters(units, X.dtype)
    activations = allocate_activations(units, X.shape[0], X.dtype)
    deltas = allocate_activations(units, X.shape[0], X.dtype)
    loss = loss_and_gradients(
        params, grads, X, Y, weights, hidden, output, alpha, activations, deltas
    )
    return loss, grads.flat.copy()


def _problem(n_classes, multilabel=False, seed=0, n_samples=13, n_features=5):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    if multilabel:
        Y = (rng.uniform(size=(n_samples, n_classes)) < 0.5).astype(float)
        return X, Y, Y
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    Y = np.eye(n_classes)[y] if n_classes > 2 else y[:, None].astype(float)
    return X, y, Y


def _finite_difference_check(X, Y, weights, hidden_sizes, hidden, output, alpha):
    rng = np.random.RandomState(42)
    units = [X.shape[1], *hidden_sizes, Y.shape[1]]
    params = FlatParameters(units, np.float64)
    initialize(params, hidden, output, rng)
    # Non-zero biases, so that their gradients are exercised off the origin too.
    params.flat[...] += rng.normal(scale=0.1, size=params.flat.shape)
    _, grad = _loss_and_grad(params, X, Y, weights, hidden, output, alpha)

    h = 1e-6
    numerical = np.empty_like(grad)
    for k in range(params.flat.size):
        saved = params.flat[k]
        params.flat[k] = saved + h
        loss_plus, _ = _loss_and_grad(params, X, Y, weights, hidden, output, alpha)
        params.flat[k] = saved - h
        loss_minus, _ = _loss_and_grad(params, X, Y, weights, hidden, output, alpha)
        params.flat[k] = saved
        numerical[k] = (loss_plus - loss_minus) / (2 * h)  # central difference
    relative_error = np.linalg.norm(grad - numerical) / (
        np.linalg.norm(grad) + np.linalg.norm(numerical)
    )
    assert np.linalg.norm(grad) > 1e-3  # the check is not vacuous
    assert relative_error < 1e-6, relative_error


@pytest.mark.parametrize("hidden", ["logistic", "tanh", "relu", "identity"])
@pytest.mark.parametrize("output", ["logistic", "softmax"])
@pytest.mark.parametrize("hidden_sizes", [(), (7,), (6, 4), (5, 4, 3)])
def test_gradients_match_finite_differences(hidden, output, hidden_sizes):
    X, _, Y = _problem(n_classes=3)
    weights = np.ones(X.shape[0])
    _finite_difference_check(X, Y, weights, hidden_sizes, hidden, output, alpha=0.0)


@pytest.mark.parametrize("hidden", ["logistic", "tanh", "relu", "identity"])
@pytest.mark.parametrize("output", ["logistic", "softmax"])
def test_gradients_with_l2_and_sample_weight(hidden, output):
    X, _, Y = _problem(n_classes=4, seed=1)
    weights = np.random.RandomState(3).uniform(0, 3, size=X.shape[0])
    weights[2] = 0.0  # a zero weight must remove the sample from the gradient
    _finite_difference_check(X, Y, weights, (6, 5), hidden, output, alpha=0.3)


def test_gradients_binary_and_multilabel_outputs():
    X, _, Y = _problem(n_classes=2, seed=2)
    _finite_difference_check(X, Y, np.ones(len(X)), (5,), "tanh", "logistic", 0.1)
    X, _, Y = _problem(n_classes=4, multilabel=True, seed=3)
    _finite_difference_check(X, Y, np.ones(len(X)), (5,), "relu", "logistic", 0.1)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 1: 0.5, 2: 1.5}])
@pytest.mark.parametrize("output", ["logistic", "softmax"])
def test_gradients_with_class_weight(class_weight, output):
    """Class weights enter the loss as the estimator computes them."""
    X, y, Y = _problem(n_classes=3, seed=4, n_samples=17)
    sample_weight = np.random.RandomState(5).uniform(0.5, 2, size=len(y))
    clf = BackpropMLPClassifier(class_weight=class_weight)
    # The weights a fit trains with, as its plan computes them.
    weights = make_plan(clf, X, y, sample_weight, incremental=False).weights
    expected_class_factor = (
        len(y) / (3 * np.bincount(y))
        if class_weight == "balanced"
        else np.array([class_weight[k] for k in range(3)])
    )
    np.testing.assert_allclose(weights, sample_weight * expected_class_factor[y])
    _finite_difference_check(X, Y, weights, (4, 3), "logistic", output, alpha=0.05)


@pytest.mark.parametrize("hidden", ["logistic", "tanh", "relu", "identity"])
@pytest.mark.parametrize("output", ["identity", "exp"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regression_gradients_match_finite_differences(hidden, output, n_outputs):
    """Squared error of identity outputs and Poisson deviance of exp outputs,
    with sample weights and the L2 penalty."""
    rng = np.random.RandomState(7)
    X = rng.normal(size=(13, 5))
    if output == "exp":  # Poisson targets are non-negative
        Y = rng.poisson(2.0, size=(13, n_outputs)).astype(float)
    else:
        Y = rng.normal(scale=2.0, size=(13, n_outputs))
    weights = rng.uniform(0, 2, size=13)
    _finite_difference_check(X, Y, weights, (6, 4), hidden, output, alpha=0.2)


def test_regressor_step_computed_by_hand():
    """A 1-1-1 network (sigmoid hidden unit, identity output) on one sample,
    every number worked out on paper from the equations of the user guide:

        z1 = x w1 + b1 = 0.5,   a1 = sigmoid(0.5) = 0.6224593312
        yhat = a1 w2 + b2 = 1.2449186624,  y = 1
        J = 1/2 (yhat - y)^2 = 0.0299925756
        delta2 = yhat - y = 0.2449186624          (identity output: no f')
        dJ/dw2 = a1 delta2 = 0.1524519068,   dJ/db2 = delta2
        delta1 = delta2 w2 a1 (1 - a1) = 0.2449186624 * 2 * 0.2350037122
               = 0.1151135897
        dJ/dw1 = x delta1 = 0.1151135897,    dJ/db1 = delta1

    One plain gradient step with learning rate 1 subtracts the gradient.
    """
    from sklearn_backprop import BackpropMLPRegressor

    reg = BackpropMLPRegressor(
        hidden_layer_sizes=(1,),
        activation="logistic",
        solver="sgd",
        momentum=0.0,
        learning_rate="constant",
        learning_rate_init=1.0,
        alpha=0.0,
        batch_size=1,
        shuffle=False,
        standardize_target=False,  # y as it is, as on paper
    )
    reg.coefs_ = [np.array([[0.5]]), np.array([[2.0]])]
    reg.intercepts_ = [np.array([0.0]), np.array([0.0])]
    reg.partial_fit(np.array([[1.0]]), np.array([1.0]))

    assert reg.loss_ == pytest.approx(0.0299925756, abs=1e-10)
    np.testing.assert_allclose(reg.coefs_[1], [[2.0 - 0.1524519068]], atol=1e-10)
    np.testing.assert_allclose(reg.intercepts_[1], [-0.2449186624], atol=1e-10)
    np.testing.assert_allclose(reg.coefs_[0], [[0.5 - 0.1151135897]], atol=1e-10)
    np.testing.assert_allclose(reg.intercepts_[0], [-0.1151135897], atol=1e-10)
