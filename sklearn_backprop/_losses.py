"""Loss functions ("costs") for the output layer, as string-keyed objects.

Following Michael Nielsen's ``network2.py``, a cost has two methods:

* ``fn(Y, Z)``: the per-sample loss, computed from the output layer's
  *pre-activations* ``Z`` rather than from the probabilities, so that
  saturated units never produce ``log(0)``;
* ``delta(Y, A)``: the error of the output layer, dL/dz, from its activations.

For both pairings here (sigmoid outputs with binary cross-entropy, softmax
outputs with categorical cross-entropy) the derivative of the activation
cancels against the derivative of the loss, so dL/dz = a - y exactly. That is
why the output layer needs no activation derivative.
"""

import numpy as np
from scipy.special import logsumexp


class BinaryCrossEntropy:
    """Binary cross-entropy of independent sigmoid outputs, summed over outputs.

    Per sample: L = -sum_k [y_k log a_k + (1 - y_k) log(1 - a_k)] with
    a_k = sigmoid(z_k), which simplifies to sum_k [log(1 + exp(z_k)) - y_k z_k].
    """

    name = "binary_cross_entropy"
    activation = "logistic"

    @staticmethod
    def fn(Y, Z):
        # log(1 + exp(z)) as logaddexp(0, z): exact for large |z|, never overflows.
        return (np.logaddexp(0, Z) - Y * Z).sum(axis=1)

    @staticmethod
    def delta(Y, A):
        # dL/dz = dL/da * da/dz = (a - y) / (a (1 - a)) * a (1 - a) = a - y
        return A - Y


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
        return logsumexp(Z, axis=1) - (Y * Z).sum(axis=1)

    @staticmethod
    def delta(Y, A):
        # dL/dz_k = a_k - y_k: the softmax Jacobian contracted with -y / a.
        return A - Y


# Keyed by the output activation that each loss is paired with.
LOSSES = {
    "logistic": BinaryCrossEntropy,
    "softmax": CategoricalCrossEntropy,
}
