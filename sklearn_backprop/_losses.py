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

from ._array_api import (
    get_namespace,
    logsumexp_rows,
    row_squared_norms,
    softplus,
    subtract_into,
    xlogx,
)


class CanonicalLoss:
    """A loss paired with the output activation that is its canonical link.

    For each pair the derivative of the activation cancels against that of
    the loss, so the output error is the same for all of them: each subclass
    says why in its ``delta`` comment, and only ``fn`` differs.
    """

    name = activation = None

    @staticmethod
    def fn(Y, Z):
        """Per-sample loss, from the output pre-activations ``Z``."""
        raise NotImplementedError

    @staticmethod
    def delta(Y, A, out=None):
        """dL/dz = a - y (see each loss's derivation), into ``out`` if given."""
        return A - Y if out is None else subtract_into(A, Y, out=out)


class BinaryCrossEntropy(CanonicalLoss):
    """Binary cross-entropy of independent sigmoid outputs, summed over outputs.

    Per sample: L = -sum_k [y_k log a_k + (1 - y_k) log(1 - a_k)] with
    a_k = sigmoid(z_k), which simplifies to sum_k [log(1 + exp(z_k)) - y_k z_k].
    Output error: dL/dz = dL/da * da/dz = (a - y) / (a (1 - a)) * a (1 - a)
    = a - y.
    """

    name = "binary_cross_entropy"
    activation = "logistic"

    @staticmethod
    def fn(Y, Z):
        # log(1 + exp(z)) computed stably: exact for large |z|, never overflows.
        xp = get_namespace(Z)
        return xp.sum(softplus(Z) - Y * Z, axis=1)


class CategoricalCrossEntropy(CanonicalLoss):
    """Categorical cross-entropy of softmax outputs.

    Per sample: L = -sum_k y_k log a_k with a = softmax(z), which equals
    logsumexp(z) - sum_k y_k z_k when the targets of a sample sum to one.
    Output error: dL/dz_k = a_k - y_k, the softmax Jacobian contracted with
    -y / a.
    """

    name = "categorical_cross_entropy"
    activation = "softmax"

    @staticmethod
    def fn(Y, Z):
        # logsumexp subtracts the row maximum before exp, so it never overflows.
        xp = get_namespace(Z)
        return logsumexp_rows(Z) - xp.sum(Y * Z, axis=1)


class SquaredError(CanonicalLoss):
    """Half the squared error of identity outputs, summed over outputs.

    Per sample: L = 1/2 ||y - a||^2 = 1/2 sum_k (y_k - z_k)^2, since a = z.
    Averaged over the samples it is scikit-learn's ``squared_error`` for one
    output. For several outputs scikit-learn divides this data term (not its
    gradient, nor the L2 penalty) by the number of outputs in the loss it
    reports: the updates are the same, the reported data term is not.
    Output error: dL/dz = dL/da = a - y (the identity's derivative is 1).
    """

    name = "squared_error"
    activation = "identity"

    @staticmethod
    def fn(Y, Z):
        residual = Z - Y
        return 0.5 * row_squared_norms(residual)


class HalfPoissonDeviance(CanonicalLoss):
    """Half the Poisson deviance of exponential outputs, summed over outputs.

    Per sample: L = sum_k [y_k log(y_k / a_k) - y_k + a_k] with a_k = exp(z_k),
    which is sum_k [exp(z_k) - y_k z_k + y_k log y_k - y_k]: zero for a perfect
    prediction, as scikit-learn's ``poisson`` loss of ``MLPRegressor``.
    Output error: dL/dz = (1 - y / a) * da/dz = (1 - y / a) a = a - y.
    """

    name = "poisson"
    activation = "exp"

    @staticmethod
    def fn(Y, Z):
        xp = get_namespace(Z)
        return xp.sum(xp.exp(Z) - Y * Z + xlogx(Y) - Y, axis=1)


# Keyed by the output activation that each loss is paired with.
LOSSES = {
    "logistic": BinaryCrossEntropy,
    "softmax": CategoricalCrossEntropy,
    "identity": SquaredError,
    "exp": HalfPoissonDeviance,
}

# The regressor's ``loss`` parameter names a loss; its output activation follows.
REGRESSION_OUTPUTS = {"squared_error": "identity", "poisson": "exp"}
