"""The network's math: parameter layout, initialisation, forward and backward pass.

Notation (row-vector convention, one sample per row of a minibatch of n rows):

* ``a_0 = X``; for each layer l = 1..L: ``z_l = a_{l-1} W_l + b_l`` and
  ``a_l = f_l(z_l)``, with f the hidden activation and, for l = L, the output
  activation (sigmoid, softmax, identity or exponential).
* Loss of a minibatch with sample weights w, S = sum_i w_i:
  ``J = sum_i w_i loss(y_i, z_L,i) / S + alpha / (2 S) sum_l ||W_l||^2``.
* Backward pass: ``delta_L = (a_L - y) w / sum(w)``;
  ``delta_l = (delta_{l+1} W_{l+1}^T) * f'(z_l)``;
  ``dJ/dW_l = a_{l-1}^T delta_l + alpha W_l / S``; ``dJ/db_l = sum_i delta_l,i``.

Everything here is a pure function of its arguments: buffers are passed in, so
the estimator can give each call its own and two threads never share one. The
arrays may be NumPy's (X also a SciPy sparse matrix) or any array API
namespace's, all of one namespace and device: the parameters' backend (see
``_array_api``) allocates them.
"""

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES
from ._array_api import (
    NUMPY_BACKEND,
    host_scalar,
    matmul_into,
    multiply_into,
    squared_norm,
    sum_rows_into,
)
from ._losses import LOSSES


def layer_shapes(layer_units):
    """Weight shapes (fan_in, fan_out) for consecutive layer widths."""
    return [(fan_in, fan_out) for fan_in, fan_out in zip(layer_units, layer_units[1:])]


class FlatParameters:
    """All weights and biases of a network in one contiguous array.

    ``coefs[l]`` and ``intercepts[l]`` are views into ``flat``, so the optimiser
    updates every layer with one vectorised operation while the backward pass
    writes each layer's gradient straight into its slice.

    ``backend`` places the array (see ``_array_api.ArrayBackend``): NumPy (by
    default), or any array API namespace whose reshape of a contiguous slice
    is a view (PyTorch, CuPy, array-api-strict), on its device.
    """

    def __init__(self, layer_units, dtype, backend=NUMPY_BACKEND):
        shapes = layer_shapes(layer_units)
        n_params = sum(fan_in * fan_out + fan_out for fan_in, fan_out in shapes)
        self.backend = backend
        xp = backend.xp
        self.flat = backend.zeros(n_params, dtype)
        self.coefs, self.intercepts = [], []
        start = 0
        for fan_in, fan_out in shapes:
            stop = start + fan_in * fan_out
            self.coefs.append(xp.reshape(self.flat[start:stop], (fan_in, fan_out)))
            start, stop = stop, stop + fan_out
            self.intercepts.append(self.flat[start:stop])
            start = stop

    @classmethod
    def from_arrays(cls, coefs, intercepts, dtype, backend=NUMPY_BACKEND):
        """Pack existing per-layer arrays, from any namespace or device, into
        a new buffer of ``backend`` (copied and cast to ``dtype``)."""
        layer_units = [coefs[0].shape[0]] + [coef.shape[1] for coef in coefs]
        params = cls(layer_units, dtype, backend)
        for target, source in zip(params.coefs + params.intercepts, coefs + intercepts):
            target[...] = backend.convert(source)
        return params

    @property
    def layer_units(self):
        """The width of each layer, the input's first."""
        return [self.coefs[0].shape[0]] + [b.shape[0] for b in self.intercepts]

    def like(self):
        """New zero parameters of the same layout, dtype and backend (a
        gradient buffer, say)."""
        return type(self)(self.layer_units, self.flat.dtype, self.backend)


def init_bound(fan_in, fan_out, activation):
    """Half-width of the uniform initialisation of a layer with this activation.

    Glorot & Bengio (2010): sqrt(6 / (fan_in + fan_out)) keeps the variance of
    activations and gradients constant across tanh layers; for the logistic
    sigmoid, whose slope at 0 is 1/4, they use 4 times that (the reference
    notebook's choice).
    """
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return 4.0 * bound if activation == "logistic" else bound


def initialize(params, hidden_activation, output_activation, rng):
    """Draw the starting weights and biases in place.

    The numbers are drawn on the host, by NumPy's ``rng``, and copied to the
    parameters' namespace and device: one seed gives the same network on every
    device.

    Sigmoid hidden units are the reference notebook's network: each layer's
    weights uniform in +-init_bound of its own units' activation (4 times
    Glorot's for sigmoid units), biases zero. Any other hidden activation
    starts as scikit-learn's MLPs do, draw for draw: layer after layer, the
    weights then the biases uniform in +-sqrt(6 / (fan_in + fan_out)), so that
    one ``random_state`` gives both packages the same starting network.
    """
    n_layers = len(params.coefs)

    def draw(bound, shape, target):
        values = rng.uniform(-bound, bound, size=shape)
        target[...] = params.backend.asarray(values, dtype=params.flat.dtype)

    for layer, (coef, intercept) in enumerate(zip(params.coefs, params.intercepts)):
        shape = tuple(coef.shape)
        if hidden_activation == "logistic":
            last = layer == n_layers - 1
            bound = init_bound(*shape, output_activation if last else "logistic")
            draw(bound, shape, coef)
            intercept[...] = 0
        else:
            bound = init_bound(*shape, "glorot")
            draw(bound, shape, coef)
            draw(bound, tuple(intercept.shape), intercept)


def allocate_activations(layer_units, n_rows, dtype, backend=NUMPY_BACKEND):
    """One (n_rows, width) buffer per layer after the input, reused per batch."""
    return [backend.empty((n_rows, width), dtype) for width in layer_units[1:]]


def _affine(a_prev, coef, intercept, out):
    """out = a_prev @ coef + intercept, written into the buffer ``out``."""
    matmul_into(a_prev, coef, out=out)
    out += intercept


def forward_pass(coefs, intercepts, X, activations, hidden_activation):
    """Run the network on ``X``; return the output layer's pre-activations.

    ``activations[l]`` (sliced to ``X.shape[0]`` rows) receives a_{l+1}; the last
    one holds z_L, left un-activated so that the loss can be computed stably
    from it. The caller applies the output activation in place afterwards.
    """
    n_rows = X.shape[0]
    hidden = ACTIVATIONS[hidden_activation]
    last = len(coefs) - 1
    a_prev = X
    for layer, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        z = activations[layer][:n_rows, ...]
        _affine(a_prev, coef, intercept, out=z)  # z_l = a_{l-1} W_l + b_l
        if layer < last:
            hidden(z)  # a_l = f(z_l), in place
        a_prev = z
    return a_prev


def backward_pass(
    coefs,
    X,
    activations,
    output_delta,
    deltas,
    coef_grads,
    intercept_grads,
    hidden_activation,
    l2_scale,
    penalty_scratch,
):
    """Backpropagate ``output_delta`` and write every gradient in place.

    Parameters
    ----------
    coefs : list of ndarray
        Weights W_l, shape (fan_in, fan_out).
    X : ndarray or sparse matrix
        The minibatch input a_0.
    activations : list of ndarray
        Buffers filled by :func:`forward_pass` (a_1 .. a_{L-1} are used, then
        serve the activations' derivatives as scratch space: they hold no
        activation on return).
    output_delta : ndarray of shape (n_rows, n_outputs)
        dJ/dz_L = (a_L - y) w / sum(w).
    deltas : list of ndarray
        Scratch buffers for the deltas, one per layer after the input
        (``deltas[l - 1]`` receives delta_l of hidden layer l).
    coef_grads, intercept_grads : list of ndarray
        Receive dJ/dW_l and dJ/db_l.
    hidden_activation : str
        Key of the hidden layers' activation in ``DERIVATIVES``.
    l2_scale : float
        alpha / sum(w): the L2 penalty's gradient is ``l2_scale * W_l``.
    penalty_scratch : list of ndarray
        One buffer of each weight matrix's shape, for ``l2_scale * W_l``.
    """
    n_rows = X.shape[0]
    derivative = DERIVATIVES[hidden_activation]
    delta = output_delta
    for layer in range(len(coefs) - 1, -1, -1):
        a_prev = X if layer == 0 else activations[layer - 1][:n_rows, ...]
        # dJ/dW_l = a_{l-1}^T delta_l
        matmul_into(a_prev.T, delta, out=coef_grads[layer])
        if l2_scale:
            penalty = multiply_into(coefs[layer], l2_scale, out=penalty_scratch[layer])
            coef_grads[layer] += penalty  # + alpha W_l / sum(w)
        sum_rows_into(delta, out=intercept_grads[layer])  # dJ/db_l = sum_i delta_l,i
        if layer > 0:
            hidden_delta = deltas[layer - 1][:n_rows, ...]
            matmul_into(delta, coefs[layer].T, out=hidden_delta)  # dJ/da_{l-1}
            derivative(a_prev, hidden_delta)  # delta_{l-1} = dJ/da_{l-1} * f'(z_{l-1})
            delta = hidden_delta


def squared_weight_norm(coefs):
    """sum_l ||W_l||^2 (Frobenius), the quantity the L2 penalty scales.

    A Python float for NumPy; a 0-d array of the namespace otherwise, so that
    a minibatch step on a GPU never waits to read a number back.
    """
    return sum(squared_norm(coef) for coef in coefs)


def loss_and_gradients(
    params,
    grads,
    X,
    Y,
    sample_weight,
    hidden_activation,
    output_activation,
    alpha,
    activations,
    deltas,
    scratch=None,
    batch_weight=None,
):
    """Loss of one minibatch; its gradient is written into ``grads`` in place.

    Parameters
    ----------
    params, grads : FlatParameters
        The network's parameters, and the buffer receiving dJ/dparams.
    X : ndarray or sparse matrix of shape (n_rows, n_features)
        The minibatch.
    Y : ndarray of shape (n_rows, n_outputs)
        Encoded targets: one-hot or indicator labels, or real values.
    sample_weight : ndarray of shape (n_rows,)
        Weights of the rows; their sum must be positive.
    hidden_activation, output_activation : str
        Registry keys; the output activation selects the paired loss.
    alpha : float
        L2 penalty strength.
    activations, deltas : list of ndarray
        Per-layer buffers with at least ``n_rows`` rows (see
        :func:`allocate_activations`). On return ``activations[-1]`` holds the
        network's output a_L, so callers can score the batch for free (the
        hidden layers' buffers have served as scratch space).
    scratch : FlatParameters, default=None
        A buffer of the parameters' shapes for the penalty's gradient; with
        it (and with the other buffers) a minibatch allocates only arrays of
        its rows and outputs. None allocates one for the call.
    batch_weight : float, default=None
        S = sum_i w_i, when the caller knows it (the minibatch loop computes
        it on the host, so that a step on a GPU never reads one back); None
        computes it.

    Returns
    -------
    loss : float or 0-d array
        J = sum_i w_i loss_i / S + alpha / (2 S) sum_l ||W_l||^2, S = sum_i w_i:
        a Python float for NumPy arrays, a 0-d array of the namespace
        otherwise (read it with ``float`` when needed).
    """
    n_rows = X.shape[0]
    if batch_weight is None:
        batch_weight = float(params.backend.xp.sum(sample_weight))
    cost = LOSSES[output_activation]
    if scratch is None:
        scratch = params.like()
    Z_out = forward_pass(
        params.coefs, params.intercepts, X, activations, hidden_activation
    )
    data_loss = sample_weight @ cost.fn(Y, Z_out)  # from z_L: no log(0)
    data_loss = host_scalar(data_loss)  # a Python float on NumPy
    penalty = 0.5 * alpha * squared_weight_norm(params.coefs) if alpha else 0.0
    Y_hat = ACTIVATIONS[output_activation](Z_out)  # a_L = g(z_L), in the same buffer
    # dl/dz_L = a_L - y
    output_delta = cost.delta(Y, Y_hat, out=deltas[-1][:n_rows, ...])
    output_delta *= (sample_weight / batch_weight)[:, None]  # dJ/dz_L: times w_i / S
    backward_pass(
        params.coefs,
        X,
        activations,
        output_delta,
        deltas,
        grads.coefs,
        grads.intercepts,
        hidden_activation,
        alpha / batch_weight,
        scratch.coefs,
    )
    return (data_loss + penalty) / batch_weight
