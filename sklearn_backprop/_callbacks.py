"""scikit-learn's callback API (>= 1.9), or a no-op stand-in on older versions."""

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn 1.6 - 1.8: no sklearn.callback

    class _NoCallbackContext:
        """Accepts the CallbackContext calls used by the estimator; does nothing."""

        def subcontext(
            self, task_name="", task_id=None, max_subtasks=0, sequential_subtasks=True
        ):
            return self

        def call_on_fit_task_begin(
            self,
            *,
            estimator,
            X=None,
            y=None,
            metadata=None,
            reconstruction_attributes=None,
        ):
            return self

        def call_on_fit_task_end(
            self,
            *,
            estimator,
            X=None,
            y=None,
            metadata=None,
            reconstruction_attributes=None,
        ):
            return False  # never asks to stop

    _NO_CONTEXT = _NoCallbackContext()

    class CallbackSupportMixin:
        """Stand-in: no ``set_callbacks`` before scikit-learn 1.9."""

        def _init_callback_context(
            self, task_name="fit", task_id=0, max_subtasks=0, sequential_subtasks=True
        ):
            return _NO_CONTEXT


class IterationCallbacks:
    """The epochs (or L-BFGS iterations) of a fit as subtasks of its callbacks.

    ``begin`` opens a subtask unless one is open; ``end`` closes it with the
    fitted attributes of the moment and returns whether a callback asked to
    stop; ``close`` closes an open subtask that no completed iteration ends
    (an interruption), so that the hooks always come in pairs.

    Parameters
    ----------
    root : CallbackContext
        The context of the whole fit.
    estimator : estimator instance
        The estimator being fitted.
    X, y : array-like
        The training data, passed to the hooks.
    metadata : dict or None
        Passed to the hooks (the sample weights).
    """

    def __init__(self, root, estimator, X, y, metadata):
        self.root, self.estimator = root, estimator
        self.X, self.y, self.metadata = X, y, metadata
        self.current = None

    def begin(self):
        if self.current is None:
            self.current = self.root.subcontext(task_name="epoch")
            self.current.call_on_fit_task_begin(
                estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
            )

    def end(self):
        context, self.current = self.current, None
        return context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=self.estimator._reconstruction_attributes,
        )

    def close(self):
        if self.current is not None:
            self.current.call_on_fit_task_end(estimator=self.estimator)
            self.current = None
