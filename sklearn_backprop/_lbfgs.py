"""Full-batch training with L-BFGS: the loss over all samples as a function of
the flat parameter vector, minimised by SciPy's L-BFGS-B.

The objective is the same J as the minibatch solvers', computed on the whole
training set at once: J = sum_i w_i loss_i / S + alpha / (2 S) sum_l ||W_l||^2.
SciPy works in float64; a float32 network is evaluated in float32 and only the
vector handed to SciPy (and its gradient) is float64. SciPy works on the host:
for arrays of another namespace (a GPU's), the network is evaluated where the
data are, and only the parameter vector and its gradient cross to the host and
back, once per evaluation.
"""

import numpy as np
import scipy.optimize

from ._array_api import float_value, to_numpy
from ._minibatch import Workspace
from ._network import loss_and_gradients

# SciPy's status of a run that met its tolerance (1: a limit was reached;
# 2: the line search failed, or a callback stopped it).
CONVERGED = 0


class FullBatchObjective:
    """J(theta) and its gradient on the whole training set.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Training data.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    weights : ndarray of shape (n_samples,)
        Sample weights (class weights included).
    params : FlatParameters
        The network's parameters: every evaluation writes theta into them, so
        after a call they hold the point last evaluated.
    hidden_activation, output_activation : str
        Registry keys of the activations.
    alpha : float
        L2 penalty strength.
    """

    def __init__(
        self, X, Y, weights, params, hidden_activation, output_activation, alpha
    ):
        self.X, self.Y, self.weights, self.params = X, Y, weights, params
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.alpha = alpha
        self.workspace = Workspace(params, X.shape[0])
        self.evaluated_at = None  # theta of the last evaluation

    def set_point(self, theta):
        """Write the host vector ``theta`` into the network's parameters."""
        flat = self.params.flat
        flat[...] = self.params.backend.asarray(theta, dtype=flat.dtype)

    def __call__(self, theta):
        """Return J(theta) and dJ/dtheta, both in float64, for SciPy."""
        self.set_point(theta)
        workspace = self.workspace
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = loss_and_gradients(
                self.params,
                workspace.grads,
                self.X,
                self.Y,
                self.weights,
                self.hidden_activation,
                self.output_activation,
                self.alpha,
                workspace.activations,
                workspace.deltas,
                workspace.scratch,
            )
        self.evaluated_at = np.array(theta, copy=True)
        loss = float_value(loss)
        gradient = to_numpy(workspace.grads.flat).astype(np.float64)
        if not (np.isfinite(loss) and np.all(np.isfinite(gradient))):
            # An infinite loss makes the line search step back; a NaN gradient
            # would poison the curvature pairs, so it is never handed over.
            return np.inf, np.zeros_like(gradient)
        return float(loss), gradient

    def outputs_at(self, theta):
        """The network's outputs a_L on the training set at ``theta``.

        Free when ``theta`` is the point last evaluated (L-BFGS evaluates each
        accepted iterate last); otherwise one more evaluation.
        """
        if self.evaluated_at is None or not np.array_equal(theta, self.evaluated_at):
            self(theta)
        return self.workspace.activations[-1][: self.X.shape[0], ...]


def minimize(objective, theta0, *, max_iter, max_fun, tol, on_iteration):
    """Run L-BFGS-B from ``theta0``, calling ``on_iteration`` after each iteration.

    Parameters
    ----------
    objective : callable
        ``objective(theta) -> (loss, gradient)``.
    theta0 : ndarray of shape (n_params,)
        Starting point.
    max_iter, max_fun : int
        Limits on iterations and on loss evaluations.
    tol : float
        Stop when the largest gradient component falls below it (SciPy's
        ``gtol``), as scikit-learn's MLP does.
    on_iteration : callable
        ``on_iteration(theta, loss)`` after each iteration; it returns True to
        stop the optimisation.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
        With ``stopped_by_callback`` added.
    """
    stopped = []

    def callback(intermediate_result):
        if on_iteration(np.array(intermediate_result.x), intermediate_result.fun):
            stopped.append(True)
            raise StopIteration

    result = scipy.optimize.minimize(
        objective,
        np.asarray(theta0, dtype=np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
    )
    result.stopped_by_callback = bool(stopped)
    return result
