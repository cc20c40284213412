"""Warnings and errors specific to sklearn-backprop."""


class InconsistentVersionWarning(UserWarning):
    """A model is loaded by a different sklearn-backprop version than saved it.

    Models are stored with the version that saved them; a model loaded by
    another version may behave differently or fail, as with scikit-learn's
    :class:`sklearn.exceptions.InconsistentVersionWarning`.

    Parameters
    ----------
    estimator_name : str
        Name of the estimator class.
    current_version : str
        The sklearn-backprop version loading the model.
    original_version : str
        The version that saved it ("unknown" for files without one).
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from "
            f"sklearn-backprop version {self.original_version} when using "
            f"version {self.current_version}. This might lead to breaking code "
            "or invalid results. Use at your own risk."
        )


class DivergenceError(ValueError, FloatingPointError):
    """Training stopped because the loss became infinite or NaN.

    Raised by ``fit`` and ``partial_fit`` when the optimisation diverges,
    typically because the learning rate is too large for unscaled inputs. The
    estimator keeps finite weights: those of its last completed epoch, or with
    ``warm_start`` and ``partial_fit`` the weights it had before the call.
    With ``early_stopping``, a diverging fit is not an error: it ends on the
    weights of its best epoch, with a ``ConvergenceWarning``.

    It is a :class:`ValueError`, as scikit-learn's MLPs raise when training
    produces non-finite weights (its message begins with theirs), and a
    :class:`FloatingPointError`.
    """
