"""Activation functions and their derivatives, as string-keyed registries.

Every function works in place on a preallocated buffer (and returns it): the
training loop reuses one buffer per layer for every minibatch instead of
allocating new arrays.
Registries hold plain module-level functions, so estimators that store only the
*names* stay picklable and cloneable. They work on the arrays of any array API
namespace (see ``_array_api``): NumPy's functions write into the buffer with
``out=``, other namespaces compute and copy.
"""

from ._array_api import apply_into, get_namespace, maximum_into


def inplace_identity(Z):
    """Leave the pre-activations unchanged: a = z."""
    return Z


def inplace_logistic(Z):
    """Apply the logistic sigmoid in place: a = 1 / (1 + exp(-z)).

    Computed as a = (1 + tanh(z / 2)) / 2, the same function, for the hidden
    units and for the sigmoid outputs during training. Like ``expit`` it never
    overflows (``1 / (1 + np.exp(-z))`` warns for z < -88 in float32); its
    error is absolute, below one unit in the last place of 1, so it gives
    exactly 0 for z <= -38 in float64 and z <= -20 in float32, where ``expit``
    keeps its relative accuracy down to about -709 and -88. Predicted
    probabilities, which need that relative accuracy near 0, use ``expit``.
    NumPy's SIMD ``tanh`` made it 1.6 times faster than
    ``scipy.special.expit`` on 100 x 256 float32 minibatches and 1.2 times on
    4096 x 256, but 0.55 times as fast on 100 x 10 (measured 2026-11-28 by the
    user guide's reviewer on the 2-core benchmark machine, NumPy 2.4.6).
    """
    Z *= 0.5
    apply_into(get_namespace(Z).tanh, Z, out=Z)
    Z *= 0.5
    Z += 0.5
    return Z


def inplace_tanh(Z):
    """Apply the hyperbolic tangent in place: a = tanh(z)."""
    return apply_into(get_namespace(Z).tanh, Z, out=Z)


def inplace_relu(Z):
    """Apply the rectified linear unit in place: a = max(z, 0)."""
    return maximum_into(Z, 0, out=Z)


def inplace_exp(Z):
    """Apply the exponential in place: a = exp(z), the output of a Poisson model."""
    return apply_into(get_namespace(Z).exp, Z, out=Z)


def inplace_softmax(Z):
    """Apply the softmax over each row in place: a_k = exp(z_k) / sum_j exp(z_j).

    The row maximum is subtracted first so that ``exp`` never overflows; the
    result is unchanged because softmax is invariant to shifting a row.
    """
    xp = get_namespace(Z)
    Z -= xp.max(Z, axis=1, keepdims=True)
    apply_into(xp.exp, Z, out=Z)
    Z /= xp.sum(Z, axis=1, keepdims=True)
    return Z


ACTIVATIONS = {
    "identity": inplace_identity,
    "logistic": inplace_logistic,
    "tanh": inplace_tanh,
    "relu": inplace_relu,
    "softmax": inplace_softmax,
    "exp": inplace_exp,
}


# Derivatives are written in terms of the activation a = f(z), which the forward
# pass keeps; each multiplies the incoming delta (dL/da) in place to give dL/dz.
# They use the buffer of A as their scratch space and leave it overwritten: the
# backward pass calls them once it has used A for the weight gradient, so the
# minibatch step allocates nothing. The products are those of scikit-learn's
# MLP, in the same order, so both round alike.


def inplace_identity_derivative(A, delta):
    """f'(z) = 1: delta is already dL/dz (A is left as it is)."""


def inplace_logistic_derivative(A, delta):
    """f'(z) = a (1 - a) for the logistic sigmoid; overwrites A."""
    delta *= A
    A -= 1  # a - 1 = -(1 - a), exactly
    delta *= A
    delta *= -1  # delta * a * (1 - a): a change of sign, exact


def inplace_tanh_derivative(A, delta):
    """f'(z) = 1 - a^2 for tanh; overwrites A."""
    A *= A
    A -= 1  # a^2 - 1 = -(1 - a^2), exactly
    delta *= A
    delta *= -1  # delta * (1 - a^2): a change of sign, exact


def inplace_relu_derivative(A, delta):
    """f'(z) = 1 where z > 0 (equivalently a > 0), else 0; overwrites A."""
    apply_into(get_namespace(A).sign, A, out=A)  # a >= 0: 1 where a > 0, else 0
    delta *= A


DERIVATIVES = {
    "identity": inplace_identity_derivative,
    "logistic": inplace_logistic_derivative,
    "tanh": inplace_tanh_derivative,
    "relu": inplace_relu_derivative,
}

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
