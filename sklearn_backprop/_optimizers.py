"""Stochastic optimisers that update the network's parameters in place.

Parameters and gradients are single flat arrays (each layer's weights are views
into them), so one update is a handful of vectorised operations whatever the
depth of the network, in place: given the training loop's scratch buffer, an
update allocates nothing. All arithmetic uses
Python floats so that float32 parameters stay float32 (NumPy's NEP 50). The
arrays may be of any array API namespace (see ``_array_api``); the optimiser's
state is allocated like the parameters, in their namespace and on their
device.
"""

import numpy as np

from ._array_api import apply_into, divide_into, get_namespace, multiply_into


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


def _zeros(n_params, dtype, like):
    """n_params zeros of ``dtype``, in the namespace and on the device of
    ``like`` (NumPy when ``like`` is None)."""
    if like is None:
        return np.zeros(n_params, dtype=dtype)
    return get_namespace(like).zeros_like(like)


class BaseOptimizer:
    """Base class: a learning rate, in-place updates, and epoch-end hooks.

    Parameters
    ----------
    learning_rate_init : float
        The initial step size.
    """

    # The names of the state arrays, which live beside the parameters.
    state_names = ()

    def __init__(self, learning_rate_init=0.1):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)

    def convert_state(self, convert):
        """Replace each state array by ``convert(array)`` (e.g. moved to the
        namespace and device of new parameters)."""
        for name in self.state_names:
            if getattr(self, name) is not None:
                setattr(self, name, convert(getattr(self, name)))

    def update_params(self, params, grads, scratch=None):
        """Update the flat parameter array ``params`` in place from ``grads``.

        ``grads`` may be overwritten: it is scratch space after the update.
        ``scratch``, an array of the same shape, is more scratch space for the
        optimisers that need it (Adam); None allocates it for this call.
        """
        raise NotImplementedError

    def epoch_learning_rates(self, n_batches):
        """The step size of each of the next epoch's ``n_batches`` minibatches,
        or None when ``learning_rate`` holds for the whole epoch."""
        return None

    @property
    def schedule_finished(self):
        """Whether a schedule of fixed length has run to its end (its step is
        0 there, so reaching it is not a failure to converge)."""
        return False

    def iteration_ends(self, time_step):
        """Hook called at the end of each epoch with the number of samples seen."""

    def trigger_stopping(self, msg, verbose):
        """Decide whether training stops when the loss stops improving.

        Returns True to stop. Schedules that can still shrink the step return
        False and shrink it instead.
        """
        if verbose:
            print(msg + " Stopping.")
        return True


class SGDOptimizer(BaseOptimizer):
    """Minibatch stochastic gradient descent with optional (Nesterov) momentum.

    Parameters
    ----------
    n_params : int
        Number of parameters (length of the flat arrays).
    dtype : numpy dtype
        The parameters' dtype; the velocity uses the same.
    learning_rate_init : float
        The initial step size.
    lr_schedule : {'constant', 'invscaling', 'adaptive', 'one_cycle'}
        How the step size evolves: fixed; ``learning_rate_init /
        (t + 1)**power_t`` with ``t`` the number of samples seen, set after
        each epoch, as scikit-learn does; divided by 5 each time the
        loss stops improving; or, minibatch by minibatch, up from 0 to
        ``learning_rate_init`` and back down to 0 over cycles of ``n_epochs``
        epochs (see :func:`one_cycle_learning_rate`).
    momentum : float
        Momentum coefficient in [0, 1]; 0 gives plain gradient descent.
    nesterov : bool
        Whether to use Nesterov's accelerated gradient.
    power_t : float
        Exponent of the 'invscaling' schedule.
    n_epochs : int, default=1
        Length in epochs of a 'one_cycle' cycle.
    warmup_fraction : float, default=0.1
        Fraction of a 'one_cycle' cycle spent rising to the peak, in [0, 1).
    like : array, default=None
        The flat parameter array, whose namespace and device the velocity
        takes; None: NumPy.
    """

    state_names = ("velocity",)

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.1,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
        n_epochs=1,
        warmup_fraction=0.1,
        like=None,
    ):
        super().__init__(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.power_t = float(power_t)
        self.n_epochs = int(n_epochs)
        self.warmup_fraction = float(warmup_fraction)
        self.epochs_done = 0
        self.velocity = _zeros(n_params, dtype, like) if momentum > 0 else None

    def update_params(self, params, grads, scratch=None):
        # In place, reusing ``grads`` as scratch space: no allocation per batch.
        # (Not scipy.linalg.blas axpy: SciPy's OpenBLAS runs a second thread
        # pool beside NumPy's, and the two spinning pools slowed epochs 20-fold.)
        grads *= -self.learning_rate  # grads now holds the plain step -lr grad J
        if self.velocity is None:
            params += grads  # theta <- theta - lr grad J
            return
        velocity = self.velocity
        velocity *= self.momentum
        velocity += grads  # v <- mu v - lr grad J
        if self.nesterov:
            # theta <- theta + mu v - lr grad J: the step from the look-ahead point
            params += grads
            multiply_into(velocity, self.momentum, out=grads)
            params += grads
        else:
            params += velocity  # theta <- theta + v

    def epoch_learning_rates(self, n_batches):
        if self.lr_schedule != "one_cycle":
            return None
        # partial_fit past the end of a cycle starts the next one.
        epoch = self.cycle_epoch
        # Each minibatch takes the step at the middle of its share of the
        # cycle: never exactly 0, and the same on the way up and down.
        return [
            one_cycle_learning_rate(
                self.learning_rate_init,
                (epoch + (batch + 0.5) / n_batches) / self.n_epochs,
                self.warmup_fraction,
            )
            for batch in range(n_batches)
        ]

    @property
    def cycle_epoch(self):
        """Index of the next epoch in its 'one_cycle' cycle (0: one starts)."""
        return self.epochs_done % self.n_epochs

    def start_cycle(self, n_epochs):
        """Make the next epoch the first of a 'one_cycle' cycle of ``n_epochs``
        epochs, keeping the velocity."""
        self.n_epochs, self.epochs_done = int(n_epochs), 0

    @property
    def schedule_finished(self):
        return (
            self.lr_schedule == "one_cycle"
            and self.epochs_done > 0
            and self.cycle_epoch == 0
        )

    def iteration_ends(self, time_step):
        self.epochs_done += 1
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                self.learning_rate_init / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


class AdamOptimizer(BaseOptimizer):
    """Adam (Kingma & Ba, 2014): per-parameter steps from moment estimates.

    Parameters
    ----------
    n_params : int
        Number of parameters (length of the flat arrays).
    dtype : numpy dtype
        The parameters' dtype; the moment estimates use the same.
    learning_rate_init : float
        The step size.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float
        Added to the denominator for numerical stability.
    like : array, default=None
        The flat parameter array, whose namespace and device the moment
        estimates take; None: NumPy.
    """

    state_names = ("ms", "vs")

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        like=None,
    ):
        super().__init__(learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.ms = _zeros(n_params, dtype, like)
        self.vs = _zeros(n_params, dtype, like)

    def update_params(self, params, grads, scratch=None):
        self.t += 1
        ms, vs = self.ms, self.vs
        xp = get_namespace(grads)
        if scratch is None:
            scratch = xp.empty_like(grads)
        ms *= self.beta_1
        ms += multiply_into(
            grads, 1.0 - self.beta_1, out=scratch
        )  # m1 <- b1 m1 + (1 - b1) grad J
        grads *= grads
        vs *= self.beta_2
        grads *= 1.0 - self.beta_2
        vs += grads  # m2 <- b2 m2 + (1 - b2) (grad J)^2
        # Bias correction folded into the step size, as in the paper's section 2.
        step = (
            self.learning_rate
            * np.sqrt(1.0 - self.beta_2**self.t)
            / (1.0 - self.beta_1**self.t)
        )
        apply_into(xp.sqrt, vs, out=grads)
        grads += self.epsilon
        divide_into(ms, grads, out=grads)
        grads *= -float(step)
        params += grads  # theta <- theta - step m1 / (sqrt(m2) + eps)


def make_optimizer(estimator, n_params, dtype, like=None):
    """Build the optimiser an estimator's parameters ask for; its state goes
    in the namespace and on the device of ``like`` (NumPy when None)."""
    if estimator.solver == "sgd":
        return SGDOptimizer(
            n_params,
            dtype,
            learning_rate_init=estimator.learning_rate_init,
            lr_schedule=estimator.learning_rate,
            momentum=estimator.momentum,
            nesterov=estimator.nesterovs_momentum,
            power_t=estimator.power_t,
            n_epochs=estimator.max_iter,
            warmup_fraction=estimator.warmup_fraction,
            like=like,
        )
    return AdamOptimizer(
        n_params,
        dtype,
        learning_rate_init=estimator.learning_rate_init,
        beta_1=estimator.beta_1,
        beta_2=estimator.beta_2,
        epsilon=estimator.epsilon,
        like=like,
    )


OPTIMIZERS = {"sgd": SGDOptimizer, "adam": AdamOptimizer}
