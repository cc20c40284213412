"""One epoch of minibatch updates: the stochastic solvers' inner loop.

The loop gathers each minibatch into fixed buffers, runs the network's forward
and backward pass (:func:`~sklearn_backprop._network.loss_and_gradients`), and
hands the gradient to the optimiser. It knows nothing about labels: the
estimator passes encoded targets and a running score to accumulate.

On NumPy arrays, minibatches are gathered into fixed buffers and a minibatch
whose loss is not finite ends the epoch at once. On other array API
namespaces (a GPU's, say) the loop never reads a number back from the device
until the epoch ends: the batch weights are summed on the host from the
host's copy of the weights and the host's row order, and the loss (and the
running score) accumulate on the device, read once per epoch.
"""

import contextlib

import numpy as np
import scipy.sparse as sp

from ._array_api import asarray, float_value, get_namespace, is_numpy
from ._network import FlatParameters, allocate_activations, loss_and_gradients
from ._progress import EpochProgressBar


class Workspace:
    """Buffers of one training call, reused by every minibatch.

    The minibatch rows are gathered into a fixed buffer with
    ``np.take(out=...)`` (never a copy of all of X per epoch), each layer has
    one activation and one delta buffer, and a scratch buffer of the
    parameters' size serves the penalty and the optimiser: a minibatch step
    allocates only small arrays of its rows and outputs. The workspace lives
    only for one ``fit`` call, so it is never shared between threads or
    pickled with the model.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The training data (only its type and width are used).
    Y : ndarray of shape (n_samples, n_outputs)
        The encoded targets (only their width is used).
    params : FlatParameters
        The network's parameters, which give the layer sizes and dtype.
    batch_size : int
        Rows per minibatch.
    """

    def __init__(self, X, Y, params, batch_size):
        dtype = params.flat.dtype
        xp = self.xp = get_namespace(params.flat)
        device = self.device = None if is_numpy(xp) else params.flat.device
        layer_units = [X.shape[1]] + [coef.shape[1] for coef in params.coefs]
        self.batch_size = batch_size
        self.activations = allocate_activations(
            layer_units, batch_size, dtype, xp, device
        )
        self.deltas = allocate_activations(layer_units, batch_size, dtype, xp, device)
        self.grads = FlatParameters(layer_units, dtype, xp, device)
        # Scratch space of the parameters' size: the penalty's gradient, and
        # the optimiser's intermediate terms.
        self.scratch = FlatParameters(layer_units, dtype, xp, device)
        self.sparse_input = sp.issparse(X)
        # NumPy gathers each minibatch into these buffers (take with out=);
        # the other namespaces' take returns a new array, which their
        # allocators (PyTorch's and CuPy's caching ones) make cheap.
        numpy_buffers = is_numpy(xp)
        self.X = (
            np.empty((batch_size, X.shape[1]), dtype)
            if numpy_buffers and not self.sparse_input
            else None
        )
        self.Y = np.empty((batch_size, Y.shape[1]), dtype) if numpy_buffers else None
        self.weights = np.empty(batch_size, dtype) if numpy_buffers else None
        self.last_batch = None

    def gather(self, X, Y, weights, indices, start):
        """The minibatch of rows ``indices[start:start + batch_size]``."""
        # The stop clamped: an array API slice may not run past the end.
        batch = indices[start : min(start + self.batch_size, indices.shape[0])]
        n_rows = batch.shape[0]
        if not is_numpy(self.xp):
            take = self.xp.take
            Xb = take(X, batch, axis=0)
            Yb = take(Y, batch, axis=0)
            wb = take(weights, batch)
        else:
            if self.sparse_input:
                Xb = X[batch]  # CSR row selection copies only the selected rows
            else:
                Xb = np.take(X, batch, axis=0, out=self.X[:n_rows])
            Yb = np.take(Y, batch, axis=0, out=self.Y[:n_rows])
            wb = np.take(weights, batch, out=self.weights[:n_rows])
        self.last_batch = Xb
        return Xb, Yb, wb


def train_epoch(
    X,
    Y,
    weights,
    indices,
    params,
    workspace,
    optimizer,
    *,
    hidden_activation,
    output_activation,
    alpha,
    running_score,
    progress=False,
    weights_host=None,
):
    """One pass of minibatch updates over the rows in the order of ``indices``.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Training data.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    weights : ndarray of shape (n_samples,)
        Sample weights (class weights included).
    indices : ndarray of shape (n_samples,)
        The order in which rows are visited, a NumPy array (drawn on the host;
        copied to the device once per epoch for the other namespaces).
    params : FlatParameters
        Updated in place.
    workspace : Workspace
        The call's buffers.
    optimizer : BaseOptimizer
        Turns each minibatch gradient into an in-place update of ``params``.
    hidden_activation, output_activation : str
        Registry keys of the activations.
    alpha : float
        L2 penalty strength.
    running_score : object
        Receives ``add(outputs, Y, weights)`` for every minibatch, with the
        network's outputs a_L computed on the way to the update.
    progress : bool, default=False
        Whether to draw a progress bar of the minibatches (on terminals).
    weights_host : ndarray of shape (n_samples,), default=None
        A NumPy copy of ``weights`` when they live on another namespace's
        device: each minibatch's total weight is summed from it.

    Returns
    -------
    loss_sum : float
        Sum over minibatches of the batch loss times the batch's total weight;
        not finite if one minibatch's loss was not (on NumPy, the epoch then
        ends at once).
    """
    xp = workspace.xp
    numpy_loop = is_numpy(xp)
    if numpy_loop:
        loss_sum, order = 0.0, indices
        # Saturated units may overflow harmlessly (exp(-z) = inf gives a sigmoid
        # of exactly 0); divergence is detected on the loss instead.
        errors = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    else:
        loss_sum = xp.zeros(
            (), dtype=workspace.grads.flat.dtype, device=workspace.device
        )
        order = asarray(indices, xp, workspace.device)  # one copy per epoch
        errors = contextlib.nullcontext()
    batch_size = workspace.batch_size
    n_batches = -(-X.shape[0] // batch_size)
    progress_bar = EpochProgressBar(n_batches) if progress else None
    # A schedule that changes the step within the epoch ('one_cycle').
    learning_rates = optimizer.epoch_learning_rates(n_batches)
    with errors:
        for batch, start in enumerate(range(0, X.shape[0], batch_size)):
            if progress_bar is not None:
                progress_bar.update(batch)
            Xb, Yb, wb = workspace.gather(X, Y, weights, order, start)
            if numpy_loop:
                batch_weight = float(wb.sum())
            else:
                rows = indices[start : start + batch_size]
                batch_weight = float(weights_host[rows].sum())
            if batch_weight == 0:
                continue  # only zero-weight samples: no gradient
            batch_loss = loss_and_gradients(
                params,
                workspace.grads,
                Xb,
                Yb,
                wb,
                hidden_activation,
                output_activation,
                alpha,
                workspace.activations,
                workspace.deltas,
                workspace.scratch,
                batch_weight,
            )
            if numpy_loop and not np.isfinite(batch_loss):
                return batch_loss
            loss_sum += batch_loss * batch_weight
            running_score.add(workspace.activations[-1][: Xb.shape[0], ...], Yb, wb)
            if learning_rates is not None:
                optimizer.learning_rate = learning_rates[batch]
            optimizer.update_params(
                params.flat, workspace.grads.flat, workspace.scratch.flat
            )
    if progress_bar is not None:
        progress_bar.close()
    return loss_sum if numpy_loop else float_value(loss_sum)
