"""scikit-learn's callback API (>= 1.9), or a no-op stand-in on older versions."""

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin, with_callbacks
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

    def with_callbacks(method):
        return method
