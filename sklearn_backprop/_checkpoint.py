"""Checkpoints: moments of training to go back to.

One mechanism serves every case where training goes back: the stochastic
solvers keep the state at the start of each epoch (the end of the last
completed one) and the L-BFGS solver that of its last iteration, to restore
on Ctrl-C or when the loss diverges; early stopping keeps the weights of the
best epoch, restored when training ends (and kept by the estimator, as
``_best``, so that a warm-started fit compares with it).
"""

import copy

from ._array_api import copy_array


class Checkpoint:
    """The weights and, for the stochastic solvers, the optimiser's and the
    step schedule's state at one moment of training.

    Parameters
    ----------
    params : FlatParameters
        The network's parameters, copied.
    optimizer, schedule : object, default=None
        The optimiser and its step schedule, copied (None: the weights only).
    """

    def __init__(self, params, optimizer=None, schedule=None):
        self.weights = copy_array(params.flat)
        self.optimizer = copy.deepcopy(optimizer)
        self.schedule = copy.deepcopy(schedule)

    def save(self, params, optimizer=None, schedule=None):
        """Keep this moment instead (the weights' buffer is reused)."""
        self.weights[...] = params.flat
        self.optimizer = copy.deepcopy(optimizer)
        self.schedule = copy.deepcopy(schedule)

    def restore(self, params):
        """Write the weights back into ``params``; return the optimiser and
        the schedule as they were (handed over: restore a checkpoint once)."""
        params.flat[...] = self.weights
        return self.optimizer, self.schedule

    def arrays(self):
        """The arrays held, which live beside the weights."""
        if self.optimizer is None:
            return [self.weights]
        return [self.weights, *self.optimizer.state_arrays()]
