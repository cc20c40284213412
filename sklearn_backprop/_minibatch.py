"""One epoch of minibatch updates: the stochastic solvers' inner loop.

The loop takes each minibatch from the backend's minibatch cutter
(:meth:`~sklearn_backprop._array_api.ArrayBackend.minibatches`), runs the
network's forward and backward pass
(:func:`~sklearn_backprop._network.loss_and_gradients`), and hands the
gradient and the step schedule's step to the optimiser. It knows nothing about
labels: the estimator passes encoded targets and a running score to
accumulate, nor about where the arrays live: on NumPy a minibatch whose loss
is not finite ends the epoch at once, while on a device the loss (and the
running score) accumulate there, read once per epoch.
"""

import numpy as np

from ._array_api import float_value
from ._network import allocate_activations, loss_and_gradients
from ._progress import EpochProgressBar


class Workspace:
    """Buffers of one training call, reused by every minibatch.

    Each layer has one activation and one delta buffer, and a scratch buffer
    of the parameters' size serves the penalty and the optimiser: with the
    minibatch cutter's buffers, a minibatch step allocates only small arrays
    of its rows and outputs. The workspace lives only for one ``fit`` call, so
    it is never shared between threads or pickled with the model.

    Parameters
    ----------
    params : FlatParameters
        The network's parameters, which give the layer sizes, the dtype and
        the backend.
    n_rows : int
        Rows of the largest batch (the minibatch size; for L-BFGS, every row).
    """

    def __init__(self, params, n_rows):
        dtype, backend = params.flat.dtype, params.backend
        layer_units = params.layer_units
        self.activations = allocate_activations(layer_units, n_rows, dtype, backend)
        self.deltas = allocate_activations(layer_units, n_rows, dtype, backend)
        self.grads = params.like()
        # Scratch space of the parameters' size: the penalty's gradient, and
        # the optimiser's intermediate terms.
        self.scratch = params.like()


def train_epoch(
    minibatches,
    order,
    params,
    workspace,
    optimizer,
    schedule,
    *,
    hidden_activation,
    output_activation,
    alpha,
    running_score,
    progress=False,
):
    """One pass of minibatch updates over the rows in the order of ``order``.

    Parameters
    ----------
    minibatches : Minibatches
        Cuts the call's training data (X, encoded targets, sample weights)
        into minibatches.
    order : ndarray of shape (n_samples,)
        The order in which rows are visited, a NumPy array (drawn on the host;
        copied to the device once per epoch for the other namespaces).
    params : FlatParameters
        Updated in place.
    workspace : Workspace
        The call's buffers.
    optimizer : BaseOptimizer
        Turns each minibatch gradient into an in-place update of ``params``.
    schedule : ConstantSchedule or another schedule of ``_schedules``
        Gives the step of each update.
    hidden_activation, output_activation : str
        Registry keys of the activations.
    alpha : float
        L2 penalty strength.
    running_score : object
        Receives ``add(outputs, Y, weights)`` for every minibatch, with the
        network's outputs a_L computed on the way to the update.
    progress : bool, default=False
        Whether to draw a progress bar of the minibatches (on terminals).

    Returns
    -------
    loss_sum : float
        Sum over minibatches of the batch loss times the batch's total weight;
        not finite if one minibatch's loss was not (on NumPy, the epoch then
        ends at once).
    """
    batch_size = minibatches.batch_size
    n_samples = order.shape[0]
    n_batches = -(-n_samples // batch_size)
    rows = minibatches.rows(order)  # where the data are: one copy per epoch
    check_each_loss = minibatches.backend.reads_per_minibatch
    progress_bar = EpochProgressBar(n_batches) if progress else None
    steps = schedule.epoch_steps(n_batches)
    loss_sum = 0.0
    # Saturated units may overflow harmlessly (exp(-z) = inf gives a sigmoid
    # of exactly 0); divergence is detected on the loss instead.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        starts = range(0, n_samples, batch_size)
        for batch, (start, step) in enumerate(zip(starts, steps)):
            if progress_bar is not None:
                progress_bar.update(batch)
            Xb, Yb, wb, batch_weight = minibatches.gather(rows, order, start)
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
            if check_each_loss and not np.isfinite(batch_loss):
                return batch_loss
            loss_sum += batch_loss * batch_weight
            running_score.add(workspace.activations[-1][: Xb.shape[0], ...], Yb, wb)
            optimizer.update_params(
                params.flat, workspace.grads.flat, step, workspace.scratch.flat
            )
    if progress_bar is not None:
        progress_bar.close()
    return float_value(loss_sum)
