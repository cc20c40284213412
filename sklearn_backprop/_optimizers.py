"""Stochastic optimisers that update the network's parameters in place.

Parameters and gradients are single flat arrays (each layer's weights are views
into them), so one update is a handful of vectorised operations whatever the
depth of the network, in place: given the training loop's scratch buffer, an
update allocates nothing. The step of each update is given by the trainer's
step schedule (``_schedules``). All arithmetic uses Python floats so that
float32 parameters stay float32 (NumPy's NEP 50). The
arrays may be of any array API namespace (see ``_array_api``); the optimiser's
state is allocated like the parameters, in their namespace and on their
device.
"""

import numpy as np

from ._array_api import (
    apply_into,
    divide_into,
    get_namespace,
    multiply_into,
    numpy_dtype,
)


def _zeros(n_params, dtype, like):
    """n_params zeros of ``dtype``, in the namespace and on the device of
    ``like`` (NumPy when ``like`` is None)."""
    if like is None:
        return np.zeros(n_params, dtype=dtype)
    return get_namespace(like).zeros_like(like)


class BaseOptimizer:
    """Base class: in-place updates with the step it is given, and state arrays.

    The step of each update comes from the trainer's step schedule (see
    ``_schedules``); an optimiser holds only what its update rule remembers
    (a velocity, moment estimates), in arrays beside the parameters.

    Parameters
    ----------
    n_params : int
        Number of parameters (length of the flat arrays).
    dtype : numpy dtype
        The parameters' dtype; the state arrays use the same.
    """

    # The solver the optimiser implements, and the names of its state arrays.
    solver = None
    state_names = ()

    def __init__(self, n_params, dtype):
        # The dtype's name, not the namespace's dtype object: the state moves
        # with the parameters from one namespace to another (and pickles
        # without the library that trained it).
        self.n_params, self.dtype_name = int(n_params), numpy_dtype(dtype).name

    def state_arrays(self):
        """The state arrays that exist (a velocity may not)."""
        arrays = (getattr(self, name) for name in self.state_names)
        return [array for array in arrays if array is not None]

    def serves(self, solver, n_params, dtype):
        """Whether this optimiser can go on updating parameters of this size
        and dtype for ``solver`` (:meth:`partial_fit` then continues it)."""
        return (solver, int(n_params), numpy_dtype(dtype).name) == (
            self.solver,
            self.n_params,
            self.dtype_name,
        )

    def update_params(self, params, grads, learning_rate, scratch=None):
        """Update the flat parameter array ``params`` in place from ``grads``.

        ``learning_rate`` is the step of this update. ``grads`` may be
        overwritten: it is scratch space after the update. ``scratch``, an
        array of the same shape, is more scratch space for the optimisers
        that need it (Adam); None allocates it for this call.
        """
        raise NotImplementedError


class SGDOptimizer(BaseOptimizer):
    """Minibatch stochastic gradient descent with optional (Nesterov) momentum.

    Parameters
    ----------
    n_params : int
        Number of parameters (length of the flat arrays).
    dtype : numpy dtype
        The parameters' dtype; the velocity uses the same.
    momentum : float
        Momentum coefficient in [0, 1]; 0 gives plain gradient descent.
    nesterov : bool
        Whether to use Nesterov's accelerated gradient.
    like : array, default=None
        The flat parameter array, whose namespace and device the velocity
        takes; None: NumPy.
    """

    solver = "sgd"
    state_names = ("velocity",)

    def __init__(self, n_params, dtype, momentum=0.9, nesterov=True, like=None):
        super().__init__(n_params, dtype)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity = _zeros(n_params, dtype, like) if momentum > 0 else None

    def update_params(self, params, grads, learning_rate, scratch=None):
        # In place, reusing ``grads`` as scratch space: no allocation per batch.
        # (Not scipy.linalg.blas axpy: SciPy's OpenBLAS runs a second thread
        # pool beside NumPy's, and the two spinning pools slowed epochs 20-fold.)
        grads *= -learning_rate  # grads now holds the plain step -lr grad J
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


class AdamOptimizer(BaseOptimizer):
    """Adam (Kingma & Ba, 2014): per-parameter steps from moment estimates.

    Parameters
    ----------
    n_params : int
        Number of parameters (length of the flat arrays).
    dtype : numpy dtype
        The parameters' dtype; the moment estimates use the same.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float
        Added to the denominator for numerical stability.
    like : array, default=None
        The flat parameter array, whose namespace and device the moment
        estimates take; None: NumPy.
    """

    solver = "adam"
    state_names = ("ms", "vs")

    def __init__(
        self, n_params, dtype, beta_1=0.9, beta_2=0.999, epsilon=1e-8, like=None
    ):
        super().__init__(n_params, dtype)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.ms = _zeros(n_params, dtype, like)
        self.vs = _zeros(n_params, dtype, like)

    def update_params(self, params, grads, learning_rate, scratch=None):
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
            learning_rate
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
            momentum=estimator.momentum,
            nesterov=estimator.nesterovs_momentum,
            like=like,
        )
    return AdamOptimizer(
        n_params,
        dtype,
        beta_1=estimator.beta_1,
        beta_2=estimator.beta_2,
        epsilon=estimator.epsilon,
        like=like,
    )
