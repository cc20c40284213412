"""One epoch of fit equals the reference notebook's update rule.

The notebook works with column vectors: a sample is a column x, a minibatch is
a matrix with one column per sample, and each layer's bias is folded into its
weight matrix as an extra column that multiplies a constant input of 1. Its
update for a minibatch of N columns is

    yhat = sigmoid(W2 [sigmoid(W1 [X; 1]); 1])
    delta2 = (yhat - Y) / N
    delta1 = (W2[:, :-1]^T delta2) * a1 * (1 - a1)
    W2 -= lr * delta2 [a1; 1]^T
    W1 -= lr * delta1 [X; 1]^T

It is written here independently of the package, which uses row vectors and
separate biases.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklearn_backprop import BackpropMLPClassifier


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def notebook_epoch(W1, W2, X, y, n_classes, lr=0.001, batch_size=100):
    """The notebook's minibatch loop (no shuffling), in column-vector notation."""
    W1, W2 = W1.copy(), W2.copy()
    for start in range(0, X.shape[0], batch_size):
        Xb = X[start : start + batch_size].T  # (n_features, N): one column a sample
        N = Xb.shape[1]
        Yb = np.eye(n_classes)[y[start : start + batch_size]].T  # one-hot columns
        a0 = np.vstack([Xb, np.ones((1, N))])  # bias folded in as a row of ones
        a1 = sigmoid(W1 @ a0)
        a1_ext = np.vstack([a1, np.ones((1, N))])
        yhat = sigmoid(W2 @ a1_ext)
        delta2 = (yhat - Yb) / N
        delta1 = (W2[:, :-1].T @ delta2) * a1 * (1 - a1)
        W2 -= lr * delta2 @ a1_ext.T
        W1 -= lr * delta1 @ a0.T
    return W1, W2


def notebook_init(n_in, n_out, rng):
    """Uniform in +-4 sqrt(6 / (fan_in + fan_out)); bias column zero."""
    bound = 4 * np.sqrt(6.0 / (n_in + n_out))
    W = rng.uniform(-bound, bound, size=(n_out, n_in + 1))
    W[:, -1] = 0.0
    return W


@pytest.mark.parametrize("n_hidden", [256, 16])
def test_one_epoch_matches_notebook_update_rule(n_hidden):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # 1797 samples: 17 full batches of 100 and a last one of 97
    rng = np.random.RandomState(0)
    W1 = notebook_init(X.shape[1], n_hidden, rng)
    W2 = notebook_init(n_hidden, 10, rng)
    # A non-zero bias makes sure biases are mapped and updated the same way.
    W1[:, -1] = rng.uniform(-0.5, 0.5, size=n_hidden)

    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(n_hidden,),
        activation="logistic",
        output_activation="logistic",
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=0.001,
        momentum=0.0,
        alpha=0.0,
        batch_size=100,
        shuffle=False,
        max_iter=1,
        warm_start=True,
        random_state=0,
    )
    with pytest.warns(Warning):  # max_iter=1 does not converge
        clf.fit(X, y)
    # Start from the notebook's weights: row-vector layout is the transpose.
    clf.coefs_ = [W1[:, :-1].T.copy(), W2[:, :-1].T.copy()]
    clf.intercepts_ = [W1[:, -1].copy(), W2[:, -1].copy()]
    with pytest.warns(Warning):
        clf.fit(X, y)

    W1_expected, W2_expected = notebook_epoch(W1, W2, X, y, n_classes=10)
    np.testing.assert_allclose(clf.coefs_[0], W1_expected[:, :-1].T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        clf.intercepts_[0], W1_expected[:, -1], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(clf.coefs_[1], W2_expected[:, :-1].T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        clf.intercepts_[1], W2_expected[:, -1], rtol=0, atol=1e-12
    )
    # The epoch moved the weights far more than the tolerance: not vacuous.
    assert np.abs(W2_expected - W2).max() > 1e-4
