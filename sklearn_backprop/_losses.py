"""Loss functions ("costs") for the output layer, as string-keyed objects.

Following Michael Nielsen's ``network2.py``, a cost has two methods:

* ``fn(Y, Z)``: the per-sample loss, computed from the output layer's
  *pre-activations* ``Z`` rather than from the outputs, so that saturated units
  never produce ``log(0)``;
* ``delta(Y, A, out=None)``: the error of the output layer, dL/dz, from its
  activations (into ``out`` when given): what the backward pass starts from.

Each loss is paired with the output activation that is its canonical link:
sigmoid outputs with binary cross-entropy, softmax outputs with categorical
cross-entropy, identity outputs with the squared error and exponential outputs
with the Poisson deviance. For every such pair the derivative of the activation
cancels against the derivative of the loss, so dL/dz = a - y exactly. That is
why the output layer needs no activation derivative.
"""

import numpy as np
from scipy.special import logsumexp, xlogy

from ._array_api import get_namespace, is_numpy, subtract_into


def _softplus(Z, xp):
    """log(1 + exp(z)), never overflowing: max(z, 0) + log1p(exp(-|z|))."""
    if is_numpy(xp):
        return np.logaddexp(0, Z)
    return xp.maximum(Z, xp.zeros_like(Z)) + xp.log1p(xp.exp(-xp.abs(Z)))


def _logsumexp_rows(Z, xp):
    """log sum_k exp(z_k) of each row, the row maximum taken out first."""
    if is_numpy(xp):
        return logsumexp(Z, axis=1)
    row_max = xp.max(Z, axis=1, keepdims=True)
    return row_max[:, 0] + xp.log(xp.sum(xp.exp(Z - row_max), axis=1))


def _xlogx(Y, xp):
    """y log y, with 0 log 0 = 0."""
    if is_numpy(xp):
        return xlogy(Y, Y)
    positive = Y > 0
    return xp.where(positive, Y * xp.log(xp.where(positive, Y, 1.0)), 0.0)


class BinaryCrossEntropy:
    """Binary cross-entropy of independent sigmoid outputs, summed over outputs.

    Per sample: L = -sum_k [y_k log a_k + (1 - y_k) log(1 - a_k)] with
    a_k = sigmoid(z_k), which simplifies to sum_k [log(1 + exp(z_k)) - y_k z_k].
    """

    name = "binary_cross_entropy"
    activation = "logistic"

    @staticmethod
    def fn(Y, Z):
        # log(1 + exp(z)) computed stably: exact for large |z|, never overflows.
        xp = get_namespace(Z)
        return xp.sum(_softplus(Z, xp) - Y * Z, axis=1)

    @staticmethod
    def delta(Y, A, out=None):
        # dL/dz = dL/da * da/dz = (a - y) / (a (1 - a)) * a (1 - a) = a - y
        return A - Y if out is None else subtract_into(A, Y, out=out)


class CategoricalCrossEntropy:
    """Categorical cross-entropy of softmax outputs.

    Per sample: L = -sum_k y_k log a_k with a = softmax(z), which equals
    logsumexp(z) - sum_k y_k z_k when the targets of a sample sum to one.
    """

    name = "categorical_cross_entropy"
    activation = "softmax"

    @staticmethod
    def fn(Y, Z):
        # logsumexp subtracts the row maximum before exp, so it never overflows.
        xp = get_namespace(Z)
        return _logsumexp_rows(Z, xp) - xp.sum(Y * Z, axis=1)

    @staticmethod
    def delta(Y, A, out=None):
        # dL/dz_k = a_k - y_k: the softmax Jacobian contracted with -y / a.
        return A - Y if out is None else subtract_into(A, Y, out=out)


class SquaredError:
    """Half the squared error of identity outputs, summed over outputs.

    Per sample: L = 1/2 ||y - a||^2 = 1/2 sum_k (y_k - z_k)^2, since a = z.
    Averaged over the samples it is scikit-learn's ``squared_error`` for one
    output. For several outputs scikit-learn divides this data term (not its
    gradient, nor the L2 penalty) by the number of outputs in the loss it
    reports: the updates are the same, the reported data term is not.
    """

    name = "squared_error"
    activation = "identity"

    @staticmethod
    def fn(Y, Z):
        residual = Z - Y
        xp = get_namespace(Z)
        if is_numpy(xp):
            return 0.5 * np.einsum("ij,ij->i", residual, residual)
        return 0.5 * xp.sum(residual * residual, axis=1)

    @staticmethod
    def delta(Y, A, out=None):
        # dL/dz = dL/da = a - y (the identity's derivative is 1)
        return A - Y if out is None else subtract_into(A, Y, out=out)


class HalfPoissonDeviance:
    """Half the Poisson deviance of exponential outputs, summed over outputs.

    Per sample: L = sum_k [y_k log(y_k / a_k) - y_k + a_k] with a_k = exp(z_k),
    which is sum_k [exp(z_k) - y_k z_k + y_k log y_k - y_k]: zero for a perfect
    prediction, as scikit-learn's ``poisson`` loss of ``MLPRegressor``.
    """

    name = "poisson"
    activation = "exp"

    @staticmethod
    def fn(Y, Z):
        xp = get_namespace(Z)
        return xp.sum(xp.exp(Z) - Y * Z + _xlogx(Y, xp) - Y, axis=1)

    @staticmethod
    def delta(Y, A, out=None):
        # dL/dz = (1 - y / a) * da/dz = (1 - y / a) a = a - y
        return A - Y if out is None else subtract_into(A, Y, out=out)


# Keyed by the output activation that each loss is paired with.
LOSSES = {
    "logistic": BinaryCrossEntropy,
    "softmax": CategoricalCrossEntropy,
    "identity": SquaredError,
    "exp": HalfPoissonDeviance,
}

# The regressor's ``loss`` parameter names a loss; its output activation follows.
REGRESSION_OUTPUTS = {"squared_error": "identity", "poisson": "exp"}
