"""The trainer that every estimator of the family shares.

:class:`BaseBackpropMLP` turns a training call into a fit plan (``_plan``:
validation, encoding, starting weights, optimiser), commits it to the
estimator, and runs a solver (minibatch epochs or full-batch L-BFGS) with its
bookkeeping (training and validation curves, early stopping, callbacks,
checkpoints); it predicts in chunks, exposes the hidden layers through
``transform`` and pickles with its version. It knows nothing about labels: a
head (:class:`~sklearn_backprop.BackpropMLPClassifier`,
:class:`~sklearn_backprop.BackpropMLPRegressor`) validates the targets and
chooses their output coding (``_coding``), which encodes them, names the
output activation and loss, predicts and scores.
"""

import contextlib
import numbers
import os
import sys
import time
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import __version__
from ._activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from ._array_api import (
    all_finite,
    backend_for,
    copy_array,
    copy_with_arrays,
    float_value,
    namespace_mismatch,
    to_numpy,
)
from ._callbacks import CallbackSupportMixin, IterationCallbacks
from ._checkpoint import Checkpoint
from ._lbfgs import CONVERGED, FullBatchObjective
from ._lbfgs import minimize as minimize_lbfgs
from ._losses import LOSSES
from ._minibatch import Workspace, train_epoch
from ._network import allocate_activations, forward_pass
from ._plan import STOCHASTIC_SOLVERS, make_plan
from .exceptions import DivergenceError, InconsistentVersionWarning


def store_init_params(estimator, arguments):
    """Store each ``__init__`` argument, unchanged, as an attribute of its name.

    scikit-learn's rule: ``__init__`` validates and computes nothing; ``fit``
    does. Both heads call this with ``locals()``, so that the list of
    parameters is written once, in each head's signature.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def check_stochastic_solver(estimator):
    """``available_if`` test of ``partial_fit``: not for the full-batch 'lbfgs'.

    (An invalid solver gets ``partial_fit``, whose parameter validation then
    names the parameter.)
    """
    if estimator.solver == "lbfgs":
        raise AttributeError(  # scikit-learn's words, then ours
            "partial_fit is only available for stochastic optimizers. lbfgs is "
            "not stochastic. The stochastic solvers are 'sgd' and 'adam'; "
            "solver='lbfgs' trains on the full batch."
        )
    return True


# Every attribute that a training call sets, and so gives back when it fails:
# the fitted attributes, the output coding, the random generator, the
# optimiser and its schedule, and the early-stopping checkpoint.
_FIT_STATE = (
    "n_features_in_",
    "feature_names_in_",
    "classes_",
    "target_mean_",
    "target_scale_",
    "n_outputs_",
    "out_activation_",
    "n_layers_",
    "coefs_",
    "intercepts_",
    "n_iter_",
    "t_",
    "batch_size_",
    "learning_rate_init_",
    "max_iter_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "train_scores_",
    "validation_scores_",
    "validation_loss_curve_",
    "best_validation_score_",
    "_multilabel",
    "_rng",
    "_optimizer",
    "_schedule",
    "_best",
    "_no_improvement_count",
)
_HISTORY = (
    "loss_curve_",
    "train_scores_",
    "validation_scores_",
    "validation_loss_curve_",
)
_MISSING = object()


class _Commit:
    """What committing a plan replaced, to give it back if training fails.

    Training changes only what the commit installed (new weights, copies of
    the optimiser and schedule), and appends to the history, so a revert puts
    the replaced values back and cuts the history back to its length before
    the call.
    """

    def __init__(self, estimator):
        self.estimator = estimator
        self.replaced = {
            name: estimator.__dict__.get(name, _MISSING) for name in _FIT_STATE
        }
        self.history_lengths = {
            name: len(history)
            for name in _HISTORY
            if isinstance(history := self.replaced[name], list)
        }

    def revert(self):
        state = self.estimator.__dict__
        for name, value in self.replaced.items():
            if value is _MISSING:
                state.pop(name, None)
            else:
                state[name] = value
        for name, length in self.history_lengths.items():
            del state[name][length:]


class BaseBackpropMLP(
    CallbackSupportMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the multilayer perceptrons; use a head, not this class."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "learning_rate": [
            StrOptions({"constant", "invscaling", "adaptive", "one_cycle"})
        ],
        "learning_rate_init": [
            StrOptions({"auto"}),
            Interval(numbers.Real, 0, None, closed="neither"),
        ],
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
        "warmup_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "max_iter": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Options(numbers.Real, {np.inf}),
        ],
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "transform_layer": [Interval(numbers.Integral, None, None, closed="neither")],
    }

    # Name of what the head's ``score`` measures, in the per-epoch lines.
    _score_name = "score"

    # ------------------------------------------------------------------
    # What a head provides
    # ------------------------------------------------------------------
    @abstractmethod
    def _targets(self, y, *, coding, call, classes=None):
        """Check y and return ``(y, coding)``.

        ``coding`` is None when the call learns the targets afresh: the head
        then chooses their output coding (see ``_coding``) from y (and
        ``classes``, partial_fit's); otherwise y is checked against the
        fitted ``coding``, which is returned. ``call`` is 'fit', 'warm_start'
        (a warm-started fit of a fitted model), 'partial_fit' or 'y_val', for
        the checks and messages that differ between them, as in scikit-learn.
        """

    def _class_weights(self, y, coding):
        """Weight of each class of ``coding`` from the training targets, or None."""
        return None

    def _learnt_coding(self, coding, y, weights, backend, dtype):
        """The coding of a new model once the training targets and their
        weights are known: ``coding`` itself, or (the regressor's) one that
        standardises the targets, its arrays of ``dtype`` in ``backend``."""
        return coding

    @property
    @abstractmethod
    def _coding(self):
        """The output coding of the fitted model, rebuilt from its fitted
        attributes (those of the coding's ``fitted_attributes``)."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Train the network on (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is trained in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values: class labels or a multilabel indicator matrix for
            the classifier, real numbers for the regressor.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples. An integer weight counts a
            sample that many times in the loss of full batches; within a
            minibatch it weighs the sample against its batch's total weight.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data, evaluated after every epoch (or 'lbfgs'
            iteration): loss and score in ``validation_loss_curve_`` and
            ``validation_scores_``. With ``early_stopping``, it replaces the
            held-out ``validation_fraction``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight,
            validation=(X_val, y_val, sample_weight_val),
            incremental=False,
        )

    def _partial_fit(self, X, y, sample_weight=None, *, classes=None):
        """One epoch on (X, y): what both heads' ``partial_fit`` run."""
        return self._fit(X, y, sample_weight, classes=classes, incremental=True)

    def _fit(self, X, y, sample_weight, **plan_arguments):
        """Plan the call, commit the plan, train; on failure give back the state.

        Bad input raises while planning, before anything is assigned. Once
        committed, a failure gives back what the commit replaced, so that the
        estimator is as it was before the call. A divergence is the exception
        when the call drew the starting weights: the estimator then keeps the
        finite weights of its last completed epoch (see
        :class:`DivergenceError`).
        """
        plan = make_plan(self, X, y, sample_weight, **plan_arguments)
        commit = self._commit(plan)
        try:
            self._train(plan)
        except BaseException as exc:
            if not (isinstance(exc, DivergenceError) and plan.new_weights):
                commit.revert()
            raise
        return self

    def _commit(self, plan):
        """Assign what ``plan`` fitted or prepared; return what it replaced."""
        commit = _Commit(self)
        state = {
            "_rng": plan.rng,
            "batch_size_": plan.settings.batch_size,
            "learning_rate_init_": plan.settings.learning_rate_init,
            "max_iter_": plan.settings.max_iter,
            "coefs_": plan.params.coefs,
            "intercepts_": plan.params.intercepts,
        }
        if plan.features is not None:  # validate_data's reset, done on a copy
            self.__dict__.pop("feature_names_in_", None)
            state.update(plan.features)
        if plan.fresh:
            state.update(
                plan.coding.fitted_attributes(),
                n_layers_=len(plan.params.coefs) + 1,
                n_iter_=0,
                t_=0,
                loss_curve_=[],
                train_scores_=[],
                validation_scores_=None,
                validation_loss_curve_=None,
                best_validation_score_=None,
                best_loss_=None,
                _no_improvement_count=0,
                _best=None,
            )
        else:
            state["_best"] = plan.best
        scores = state.get("validation_scores_", vars(self).get("validation_scores_"))
        if plan.validation is not None and scores is None:
            state["validation_scores_"], state["validation_loss_curve_"] = [], []
        if plan.optimizer is not None or plan.fresh:
            # A fresh 'lbfgs' fit has none: partial_fit then starts anew.
            state["_optimizer"], state["_schedule"] = plan.optimizer, plan.schedule
        self.__dict__.update(state)
        return commit

    @contextlib.contextmanager
    def _one_cycle_over(self, n_epochs):
        """Within the block, a ``partial_fit`` call that starts a 'one_cycle'
        schedule, or a new cycle of one, makes the cycle ``n_epochs`` calls
        long instead of ``max_iter`` (a cycle in progress continues as it
        was). How :func:`~sklearn_backprop.dask.fit_out_of_core` runs one
        cycle over all its calls."""
        self._cycle_request = n_epochs
        try:
            yield self
        finally:
            del self._cycle_request

    def _train(self, plan):
        """Run the solver on a committed plan, inside scikit-learn's callbacks."""
        max_iter = 1 if plan.incremental else plan.settings.max_iter
        # Root task of scikit-learn's callbacks (>= 1.9): one subtask per epoch
        # or L-BFGS iteration.
        callback_ctx = self._init_callback_context(max_subtasks=max_iter)
        metadata = {"sample_weight": plan.weights} if plan.sample_weight_given else None
        arguments = dict(estimator=self, X=plan.X, y=plan.y, metadata=metadata)
        callback_ctx.call_on_fit_task_begin(**arguments)
        run = self._fit_lbfgs if self.solver == "lbfgs" else self._fit_stochastic
        callbacks = IterationCallbacks(callback_ctx, self, plan.X, plan.y, metadata)
        run(plan, max_iter=max_iter, callbacks=callbacks)
        callback_ctx.call_on_fit_task_end(**arguments, reconstruction_attributes={})

    # ------------------------------------------------------------------
    # The stochastic solvers: epochs of minibatch updates
    # ------------------------------------------------------------------
    def _fit_stochastic(self, plan, *, max_iter, callbacks):
        """Up to ``max_iter`` epochs, with their bookkeeping.

        An epoch changes the estimator's history only once it has completed
        (training and validation); an interruption before that, or a
        divergence, restores the checkpoint taken when it started: the
        weights, optimiser and schedule of the last completed epoch.
        """
        params = plan.params
        n_samples = plan.X.shape[0]
        batch_size = plan.settings.batch_size
        workspace = Workspace(params, batch_size)
        minibatches = plan.backend.minibatches(
            plan.X, plan.Y, plan.weights, plan.weights_host, batch_size
        )
        running_score = plan.coding.running_score(plan.Y, plan.weights)
        total_weight = float(plan.weights_host.sum())
        indices = np.arange(n_samples)
        checkpoint = Checkpoint(params)
        self.n_iter_ = 0
        for epoch in range(1, max_iter + 1):
            start_time = time.perf_counter()
            callbacks.begin()
            checkpoint.save(params, self._optimizer, self._schedule)
            try:
                if self.shuffle:
                    self._rng.shuffle(indices)
                running_score.reset()
                loss_sum = train_epoch(
                    minibatches,
                    indices,
                    params,
                    workspace,
                    self._optimizer,
                    self._schedule,
                    hidden_activation=self.activation,
                    output_activation=self.out_activation_,
                    alpha=self.alpha,
                    running_score=running_score,
                    progress=self.verbose >= 2,
                )
                if self._diverged(loss_sum, params, workspace, minibatches.last_X):
                    self._optimizer, self._schedule = checkpoint.restore(params)
                    if not self.early_stopping:
                        raise self._divergence_error()
                    # As scikit-learn's MLPs: the best epoch's weights, no error.
                    self._warn_diverged_with_early_stopping()
                    callbacks.close()
                    break
                validation = self._validation_figures(plan.validation)
            except KeyboardInterrupt:
                self._optimizer, self._schedule = checkpoint.restore(params)
                self._warn_interrupted()
                callbacks.close()
                break
            # The epoch is complete: record it.
            self.t_ += n_samples
            self._record_iteration(
                loss_sum / total_weight, running_score.value(), *validation
            )
            if self.verbose:
                seconds = time.perf_counter() - start_time
                print(
                    self._progress_line("Epoch", epoch, max_iter, seconds), flush=True
                )
            self._schedule.epoch_ends(self.t_)
            stop_requested = callbacks.end()
            if self._update_no_improvement_count(params, validation[1]):
                if not plan.incremental:
                    break
            if stop_requested:
                break
        else:
            # A 'one_cycle' schedule that has run its course has brought the
            # step down to 0: the end of training, not a failure to converge.
            if not plan.incremental and not self._schedule.finished:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=_caller_stacklevel(),
                )
        if self.early_stopping and self._best is not None:
            self._best.restore(params)  # keep the best epoch's weights
        self.best_loss_ = None if self.early_stopping else self._lowest_loss()

    def _diverged(self, loss_sum, params, workspace, last_batch):
        """Whether the epoch's loss, weights, or outputs are no longer finite.

        Weights can stay finite while the outputs they produce overflow (float32
        tops out at 3.4e38), so the last minibatch is run once more through the
        updated network: one extra forward pass per epoch.
        """
        if not (np.isfinite(loss_sum) and all_finite(params.flat)):
            return True
        if last_batch is None:
            return False
        with np.errstate(over="ignore", invalid="ignore"):
            outputs = forward_pass(
                params.coefs,
                params.intercepts,
                last_batch,
                workspace.activations,
                self.activation,
            )
            ACTIVATIONS[self.out_activation_](outputs)  # exp outputs can overflow
            return not all_finite(outputs)

    def _divergence_error(self):
        what = "epoch" if self.solver in STOCHASTIC_SOLVERS else "iteration"
        return DivergenceError(
            # scikit-learn's words first, as its MLPs raise them; then ours.
            "Solver produced non-finite parameter weights. The input data may "
            "contain large values and need to be preprocessed. "
            f"The training loss or the network's outputs became infinite or NaN "
            f"in {what} {self.n_iter_ + 1}: the optimisation diverged. Lower "
            f"learning_rate_init (now {self.learning_rate_init_}) or scale the "
            "inputs (for example with sklearn.preprocessing.StandardScaler, or "
            "pixels divided by 255) and, for regression, the targets. The "
            "estimator keeps finite weights: those of its last completed "
            f"{what}, or with warm_start and partial_fit those from before the "
            "call."
        )

    def _warn_diverged_with_early_stopping(self):
        if self._best is None:  # no epoch was scored yet
            kept = "the weights it started from, since no epoch completed"
        else:
            kept = (
                "the weights of its best epoch (best_validation_score_="
                f"{self.best_validation_score_}), as scikit-learn's MLPs do"
            )
        warnings.warn(
            f"The training loss or the network's outputs became infinite or NaN "
            f"in epoch {self.n_iter_ + 1}: training stopped there, and with "
            f"early_stopping the estimator keeps {kept}. Lower "
            "learning_rate_init (now "
            f"{self.learning_rate_init_}) or scale the inputs and, for "
            "regression, the targets.",
            ConvergenceWarning,
            stacklevel=_caller_stacklevel(),
        )

    def _warn_interrupted(self):
        warnings.warn(
            f"Training interrupted during iteration {self.n_iter_ + 1}; the "
            "estimator keeps the weights of the last completed epoch (or "
            "L-BFGS iteration) and can resume with warm_start=True or "
            "partial_fit.",
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )

    # ------------------------------------------------------------------
    # The full-batch solver: L-BFGS
    # ------------------------------------------------------------------
    def _fit_lbfgs(self, plan, *, max_iter, callbacks):
        """Minimise the full-batch loss with L-BFGS-B, recording each iteration.

        scikit-learn records nothing per iteration for 'lbfgs'; here
        ``loss_curve_``, ``train_scores_`` and the validation curves get one
        entry per iteration, so that ``len(loss_curve_)`` grows by ``n_iter_``.
        """
        params = plan.params
        objective = FullBatchObjective(
            plan.X,
            plan.Y,
            plan.weights,
            params,
            self.activation,
            self.out_activation_,
            self.alpha,
        )
        running_score = plan.coding.running_score(plan.Y, plan.weights)
        checkpoint = Checkpoint(params)  # the weights of the last iteration
        self.n_iter_ = 0
        iteration_start = time.perf_counter()

        def evaluate(theta):
            callbacks.begin()  # an iteration starts with its first evaluation
            return objective(theta)

        def on_iteration(theta, loss):
            nonlocal iteration_start
            outputs = objective.outputs_at(theta)  # also sets params to theta
            running_score.reset()
            running_score.add(outputs, plan.Y, plan.weights)
            validation = self._validation_figures(plan.validation)
            checkpoint.save(params)
            self._record_iteration(float(loss), running_score.value(), *validation)
            if self.verbose:
                seconds = time.perf_counter() - iteration_start
                line = self._progress_line("Iteration", self.n_iter_, max_iter, seconds)
                print(line, flush=True)
            self._update_no_improvement_count(params, validation[1], may_stop=False)
            iteration_start = time.perf_counter()
            return callbacks.end()

        try:
            result = minimize_lbfgs(
                evaluate,
                to_numpy(params.flat),
                max_iter=max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                on_iteration=on_iteration,
            )
        except KeyboardInterrupt:
            checkpoint.restore(params)
            self._warn_interrupted()
            return
        finally:
            # Evaluations after the last iteration (a failed line search)
            # opened a subtask that no iteration completes.
            callbacks.close()
        if not np.isfinite(result.fun) or not np.all(np.isfinite(result.x)):
            checkpoint.restore(params)
            raise self._divergence_error()
        objective.set_point(result.x)
        self.loss_ = float(result.fun)
        self.best_loss_ = self._lowest_loss()
        if result.status != CONVERGED and not result.stopped_by_callback:
            # A limit reached, or a line search that found no lower loss.
            warnings.warn(
                f"lbfgs failed to converge after {result.nit} iteration(s) and "
                f"{result.nfev} loss evaluations ({result.message}). Increase "
                "max_iter or max_fun, or scale the data.",
                ConvergenceWarning,
                stacklevel=_caller_stacklevel(),
            )

    # ------------------------------------------------------------------
    # Bookkeeping shared by the solvers
    # ------------------------------------------------------------------
    def _validation_figures(self, validation_set):
        """Loss and score of the current weights on the validation set."""
        if validation_set is None:
            return None, None
        X_val, y_val, Y_val, weights_val = validation_set
        Z = self._output_preactivations(X_val)
        loss = LOSSES[self.out_activation_]
        with np.errstate(over="ignore", invalid="ignore"):
            val_loss = float_value(
                backend_for(Z).asarray(weights_val) @ loss.fn(Y_val, Z)
            ) / float(weights_val.sum())
        y_pred = to_numpy(self._coding.predict(Z))
        return val_loss, self._coding.score(y_val, y_pred, weights_val)

    def _record_iteration(self, loss, train_score, val_loss, val_score):
        """Append a completed epoch (or L-BFGS iteration) to the history."""
        self.n_iter_ += 1
        self.loss_ = loss
        self.loss_curve_.append(loss)
        self.train_scores_.append(train_score)
        if val_score is not None:
            self.validation_loss_curve_.append(val_loss)
            self.validation_scores_.append(val_score)

    def _lowest_loss(self, before=0):
        """The lowest training loss of the history (before its last ``before``
        entries), inf when there is none: ``best_loss_``, which training keeps
        up to date, or after an early-stopping call (which sets it to None)
        the minimum of ``loss_curve_``."""
        if self.best_loss_ is not None:
            return self.best_loss_
        losses = self.loss_curve_
        return min(losses[: len(losses) - before], default=np.inf)

    def _update_no_improvement_count(self, params, val_score, *, may_stop=True):
        """Track progress after an epoch; return True when training should stop.

        Progress is the validation score with ``early_stopping`` (whose best
        weights are kept), else the training loss, as in scikit-learn's MLP.
        With ``may_stop=False`` (L-BFGS, which has its own stopping rule) only
        the best figures are tracked.
        """
        previous_best = self.best_validation_score_
        improved = val_score is not None and (
            previous_best is None or val_score > previous_best
        )
        if improved:
            self.best_validation_score_ = val_score
        early_stopping = self.early_stopping and may_stop
        if early_stopping:
            # Compare with the best *before* this epoch, as scikit-learn does.
            if previous_best is not None and val_score < previous_best + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if improved:
                self._best = Checkpoint(params)
        lowest = self._lowest_loss(before=1)
        if not early_stopping:
            if self.loss_curve_[-1] > lowest - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
        self.best_loss_ = min(lowest, self.loss_curve_[-1])
        if not may_stop or self._no_improvement_count <= self.n_iter_no_change:
            return False
        monitored = "Validation score" if early_stopping else "Training loss"
        msg = (
            f"{monitored} did not improve more than tol={self.tol} for "
            f"{self._no_improvement_count} consecutive epochs."
        )
        if self._schedule.plateau(msg, self.verbose, validation=early_stopping):
            return True
        self._no_improvement_count = 0
        return False

    def _progress_line(self, unit, number, max_iter, seconds):
        """The per-epoch report: the notebook's four figures and the time."""
        score = self._score_name
        line = (
            f"{unit} {number}/{max_iter} - loss: {self.loss_curve_[-1]:.4f}"
            f" - {score}: {self.train_scores_[-1]:.4f}"
        )
        if self.validation_scores_:
            line += (
                f" - val_loss: {self.validation_loss_curve_[-1]:.4f}"
                f" - val_{score}: {self.validation_scores_[-1]:.4f}"
            )
        return line + f" - {seconds:.2f}s"

    def _reconstruction_attributes(self):
        """Fitted attributes of the current epoch, copied (coefs_ are live views)."""
        return {
            "coefs_": [copy_array(coef) for coef in self.coefs_],
            "intercepts_": [copy_array(b) for b in self.intercepts_],
            "n_iter_": self.n_iter_,
            "t_": self.t_,
            "loss_": self.loss_,
            "loss_curve_": list(self.loss_curve_),
            "train_scores_": list(self.train_scores_),
        }

    # ------------------------------------------------------------------
    # Arrays beside the weights, and moving them
    # ------------------------------------------------------------------
    def _device_arrays(self):
        """The arrays that live beside the weights, in the namespace and on the
        device of the training data: the weights, the early-stopping
        checkpoint, the optimiser's state, and the regressor's target
        standardisation. (``classes_`` and the training history stay on the
        host.)"""
        arrays = [*getattr(self, "coefs_", []), *getattr(self, "intercepts_", [])]
        for name in ("target_mean_", "target_scale_"):  # the regressor's
            if getattr(self, name, None) is not None:
                arrays.append(getattr(self, name))
        if getattr(self, "_best", None) is not None:
            arrays += self._best.arrays()
        if getattr(self, "_optimizer", None) is not None:
            arrays += self._optimizer.state_arrays()
        return arrays

    def __sklearn_array_api_convert__(self, converter):
        """A copy of this estimator whose arrays are ``converter(array)``.

        The protocol of scikit-learn's (private) estimator converter, which
        otherwise converts ``classes_`` too (labels may be strings, which no
        array library but NumPy holds) and misses the optimiser's state. Used
        by :func:`sklearn_backprop.move_estimator_to`. Everything else is
        deep-copied, so that continuing to train the copy leaves this
        estimator alone; and a converter may hand back the same memory
        (scikit-learn's returns an array already in place unchanged, and
        converts others through DLPack without a copy): copied, so that the
        two models share nothing.
        """
        return copy_with_arrays(
            self, self._device_arrays(), lambda array: copy_array(converter(array))
        )

    # ------------------------------------------------------------------
    # Prediction and hidden features
    # ------------------------------------------------------------------
    # Rows per chunk at prediction time: the hidden buffers of a chunk stay in
    # cache and memory stays bounded whatever the number of samples.
    _predict_chunk_size = 4096

    def _validate_X_predict(self, X, method):
        check_is_fitted(self)
        problem = namespace_mismatch(self, method, X)
        if problem:
            raise ValueError(problem)
        # Values beyond float32's range become inf in the cast, which the
        # finiteness check then reports clearly; the cast itself stays quiet.
        with np.errstate(over="ignore"):
            X = validate_data(
                self,
                X,
                accept_sparse=["csr", "csc"],
                dtype=self.coefs_[0].dtype,
                reset=False,
            )
        return X.tocsr() if sp.issparse(X) else X

    def _forward_in_chunks(self, X, n_layers):
        """z of layer ``n_layers`` for every row of a validated X, in chunks.

        The first ``n_layers`` weight layers are run; the last of them is left
        un-activated. Buffers are local to the call, so concurrent predictions
        on one fitted model never share memory.
        """
        coefs, intercepts = self.coefs_[:n_layers], self.intercepts_[:n_layers]
        backend = backend_for(coefs[0])
        dtype = coefs[0].dtype
        layer_units = [coefs[0].shape[0]] + [coef.shape[1] for coef in coefs]
        n_samples = X.shape[0]
        chunk = min(self._predict_chunk_size, max(n_samples, 1))
        activations = allocate_activations(layer_units, chunk, dtype, backend)
        Z = backend.empty((n_samples, layer_units[-1]), dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n_samples, chunk):
                rows = slice(start, min(start + chunk, n_samples))
                Z[rows, ...] = forward_pass(
                    coefs, intercepts, X[rows, ...], activations, self.activation
                )
        xp = backend.xp
        if bool(xp.any(xp.isnan(Z))):
            largest = (
                float_value(xp.max(xp.abs(X))) if not sp.issparse(X) else abs(X).max()
            )
            raise ValueError(
                "The network's outputs overflowed to NaN on this input (its "
                f"values reach {largest:.3g}); scale the inputs as the "
                "training data was scaled, or train in float64."
            )
        return Z

    def _output_preactivations(self, X):
        """z_L for every row of a validated X, never infinite."""
        Z = self._forward_in_chunks(X, len(self.coefs_))
        if not all_finite(Z):
            # An output of +-inf is a certain class or an extreme value: keep
            # it finite so that what is computed from it stays well defined.
            backend_for(Z).clip_finite(Z)
        return Z

    def predict(self, X):
        """Predict class labels (classifier) or target values (regressor).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted labels (a label indicator matrix for multilabel
            targets), or predicted values in the dtype of the weights (1-D
            when the model has a single output).
        """
        Z = self._output_preactivations(self._validate_X_predict(X, "predict"))
        return self._coding.predict(Z)

    def transform(self, X):
        """Return the activations of a hidden layer: the features learnt.

        The layer is ``transform_layer`` (by default the last hidden layer),
        so that the estimator can feed another one in a
        :class:`~sklearn.pipeline.Pipeline`, or its features can be inspected.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        hidden : ndarray of shape (n_samples, n_units)
            The activations a_l = f(z_l) of the chosen hidden layer, in the
            dtype of the weights.
        """
        X = self._validate_X_predict(X, "transform")
        layer = self._transform_layer_index()
        hidden = self._forward_in_chunks(X, layer + 1)
        ACTIVATIONS[self.activation](hidden)  # a_l = f(z_l) of that hidden layer
        return hidden

    def _transform_layer_index(self):
        """``transform_layer`` as a 0-based index into the hidden layers."""
        n_hidden = len(self.coefs_) - 1
        if n_hidden == 0:
            raise ValueError(
                f"{type(self).__name__} has no hidden layer "
                "(hidden_layer_sizes=()), so transform has no features to return."
            )
        if not -n_hidden <= self.transform_layer < n_hidden:
            raise ValueError(
                f"transform_layer={self.transform_layer} is out of range for "
                f"{n_hidden} hidden layer(s): use 0 to {n_hidden - 1}, or -1 to "
                f"-{n_hidden} counting from the last."
            )
        return self.transform_layer % n_hidden

    @property
    def _n_features_out(self):
        """Width of the layer ``transform`` returns (for feature names).

        An AttributeError when there is none, so that ``hasattr`` and ``dir``
        (which skl2onnx calls) work on a network without hidden layers.
        """
        try:
            return self.coefs_[self._transform_layer_index()].shape[1]
        except ValueError as exc:
            raise AttributeError(str(exc)) from exc

    def get_feature_names_out(self, input_features=None):
        """Return the names of the hidden units that :meth:`transform` returns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in fit, if any.

        Returns
        -------
        feature_names_out : ndarray of str
            ``<class name in lower case><unit>``, e.g. ``backpropmlpclassifier0``.
        """
        check_is_fitted(self)
        self._transform_layer_index()  # the ValueError naming what is wrong
        return super().get_feature_names_out(input_features)

    # ------------------------------------------------------------------
    # Persistence and tags
    # ------------------------------------------------------------------
    def __getstate__(self):
        state = dict(super().__getstate__())  # never the live __dict__
        state["_sklearn_backprop_version"] = __version__
        return state

    def __setstate__(self, state):
        saved_version = state.pop("_sklearn_backprop_version", "unknown")
        if saved_version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=__version__,
                    original_version=saved_version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # Array API dispatch needs scikit-learn's own support (tested from
        # 1.9) and SciPy >= 1.14 (scikit-learn's condition for turning it on).
        tags.array_api_support = _ARRAY_API_AVAILABLE
        return tags


def _array_api_available():
    import scipy
    import sklearn
    from sklearn.utils.fixes import parse_version

    return parse_version(sklearn.__version__).release >= (1, 9) and parse_version(
        scipy.__version__
    ).release >= (1, 14)


_ARRAY_API_AVAILABLE = _array_api_available()


def _caller_stacklevel():
    """Stack level of the first frame outside this package and sklearn.

    Warnings raised in the training loop then point at the user's ``fit`` call,
    however many wrappers (scikit-learn's fit and callback decorators) sit in
    between.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE_DIR)
        or frame.f_code.co_filename.startswith(_SKLEARN_WRAPPERS)
    ):
        frame, level = frame.f_back, level + 1
    return level


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKLEARN_WRAPPERS = tuple(
    os.path.join(os.path.dirname(os.path.abspath(module.__file__)), name)
    for module, name in (
        (sys.modules["sklearn"], "base.py"),
        (sys.modules["sklearn"], "callback" + os.sep),
        (sys.modules["sklearn"], "utils" + os.sep + "_available_if.py"),
    )
)
