"""Step schedules: the step size of every minibatch update of the stochastic solvers.

A schedule owns the step. The minibatch loop asks it for the steps of an
epoch (:meth:`~ConstantSchedule.epoch_steps`) and hands each to the
optimiser's update; the trainer tells it when an epoch ends
(:meth:`~ConstantSchedule.epoch_ends`) and when progress stalls
(:meth:`~ConstantSchedule.plateau`), and asks whether it has run its course
(:attr:`~ConstantSchedule.finished`). Schedules hold no arrays: they pickle
and move between devices with the estimator as they are.

'constant', 'invscaling' and 'adaptive' are scikit-learn's schedules of its
``SGDOptimizer`` (and 'constant' also serves Adam, which takes its step as
given); 'one_cycle' is this package's (Smith, 2018).
"""

import itertools


class ConstantSchedule:
    """The same step for every update, ``learning_rate_init``.

    When the monitored figure stops improving, training stops.

    Parameters
    ----------
    learning_rate_init : float
        The step size.
    """

    def __init__(self, learning_rate_init):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)  # the current step

    def epoch_steps(self, n_batches):
        """The steps of the next epoch's ``n_batches`` minibatches, in order."""
        return itertools.repeat(self.learning_rate, n_batches)

    def epoch_ends(self, time_step):
        """An epoch has completed; ``time_step`` samples have been seen in all."""

    def plateau(self, msg, verbose, validation=False):
        """The monitored figure (the validation score when ``validation``,
        else the training loss) has stopped improving: return True to stop
        training, or shrink the step and return False."""
        if verbose:
            print(msg + " Stopping.")
        return True

    @property
    def finished(self):
        """Whether a schedule of fixed length has run to its end: its step is
        0 there, so reaching it is the planned end of training, not a failure
        to converge."""
        return False

    @property
    def mid_cycle(self):
        """Whether a cycle is in progress (only 'one_cycle' has cycles)."""
        return False

    def start_cycle(self, n_epochs):
        """Make the next epoch the first of a cycle of ``n_epochs`` epochs
        (only 'one_cycle' has cycles: a no-op here)."""


class InvScalingSchedule(ConstantSchedule):
    """``learning_rate_init / (t + 1)**power_t``, with ``t`` the number of
    samples seen, set after each epoch (scikit-learn's 'invscaling').

    Parameters
    ----------
    learning_rate_init : float
        The first epoch's step.
    power_t : float
        The exponent.
    """

    def __init__(self, learning_rate_init, power_t=0.5):
        super().__init__(learning_rate_init)
        self.power_t = float(power_t)

    def epoch_ends(self, time_step):
        # eta = eta_0 / (t + 1)^power_t
        self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t


class AdaptiveSchedule(ConstantSchedule):
    """A constant step divided by 5 each time progress stalls; training stops
    once it is 1e-6 or less (scikit-learn's 'adaptive')."""

    def plateau(self, msg, verbose, validation=False):
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


def one_cycle_learning_rate(peak, position, warmup_fraction):
    """The 'one_cycle' step size at ``position`` (in [0, 1]) of its cycle.

    A linear rise from 0 to ``peak`` over the first ``warmup_fraction`` of the
    cycle, then a linear fall to 0 at its end: Smith's one-cycle policy (2018)
    without its momentum cycle. The warm-up is what makes a large peak step
    usable (benchmarks/defaults_search.md: without it, a falling step ends far
    below a constant one); the fall to 0 averages out the minibatch noise at
    the end.
    """
    if position < warmup_fraction:
        return peak * position / warmup_fraction  # eta = eta_0 p / w
    # eta = eta_0 (1 - p) / (1 - w)
    return peak * (1.0 - position) / (1.0 - warmup_fraction)


class OneCycleSchedule(ConstantSchedule):
    """Up from 0 to ``learning_rate_init`` and back down to 0, minibatch by
    minibatch, over cycles of ``n_epochs`` epochs (see
    :func:`one_cycle_learning_rate`).

    Each minibatch takes the step at the middle of its share of the cycle:
    never exactly 0, and the same on the way up and down. An epoch after the
    end of a cycle starts the next one, so that :meth:`partial_fit` calls
    follow cycle after cycle. A plateau of the validation score (early
    stopping) stops training, as with a constant step; a plateau of the
    training loss does not: while the step rises the loss need not fall, and
    a cycle cut short in its warm-up ends far from its best (make_moons,
    125 epochs: stopped after 15 at 0.81 test accuracy, 0.905 when run to
    its end).

    Parameters
    ----------
    learning_rate_init : float
        The peak step.
    n_epochs : int
        Length of a cycle in epochs (the estimator's ``max_iter``).
    warmup_fraction : float
        Fraction of a cycle spent rising to the peak, in [0, 1).
    """

    def __init__(self, learning_rate_init, n_epochs=1, warmup_fraction=0.1):
        super().__init__(learning_rate_init)
        self.n_epochs = int(n_epochs)
        self.warmup_fraction = float(warmup_fraction)
        self.epochs_done = 0

    def plateau(self, msg, verbose, validation=False):
        if validation:
            return super().plateau(msg, verbose)
        if verbose:
            print(msg + " The one-cycle schedule runs its course.")
        return False

    @property
    def cycle_epoch(self):
        """Index of the next epoch in its cycle (0: a cycle starts)."""
        return self.epochs_done % self.n_epochs

    def epoch_steps(self, n_batches):
        epoch = self.cycle_epoch
        steps = [
            one_cycle_learning_rate(
                self.learning_rate_init,
                (epoch + (batch + 0.5) / n_batches) / self.n_epochs,
                self.warmup_fraction,
            )
            for batch in range(n_batches)
        ]
        if steps:
            self.learning_rate = steps[-1]  # the step the epoch ends with
        return steps

    def epoch_ends(self, time_step):
        self.epochs_done += 1

    @property
    def finished(self):
        return self.epochs_done > 0 and self.cycle_epoch == 0

    @property
    def mid_cycle(self):
        return self.cycle_epoch != 0

    def start_cycle(self, n_epochs):
        # Called between cycles: the step rises from 0 again, with its new
        # length; the optimiser's state (the velocity) is the caller's.
        self.n_epochs, self.epochs_done = int(n_epochs), 0


def make_schedule(estimator, n_epochs, learning_rate_init):
    """The schedule of an estimator's parameters, with cycles of ``n_epochs``
    and the step ``learning_rate_init`` (the parameter, 'auto' resolved).

    'one_cycle' drives both 'sgd' and 'adam'; scikit-learn's schedules are
    for 'sgd' only: Adam takes its step as given ('constant') with them, as
    scikit-learn's does.
    """
    if estimator.learning_rate == "one_cycle":
        return OneCycleSchedule(learning_rate_init, n_epochs, estimator.warmup_fraction)
    if estimator.solver != "sgd" or estimator.learning_rate == "constant":
        return ConstantSchedule(learning_rate_init)
    if estimator.learning_rate == "invscaling":
        return InvScalingSchedule(learning_rate_init, estimator.power_t)
    return AdaptiveSchedule(learning_rate_init)
