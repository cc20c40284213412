"""Moving a fitted estimator to another array namespace or device."""

import importlib

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._array_api import array_api_compat, to_numpy


def _resolve_namespace(xp):
    """The namespace named or given by ``xp``: NumPy itself, or the array API
    compatible namespace of the library (array-api-compat's wrapper for
    PyTorch and CuPy, whose own ``asarray`` takes no ``device``)."""
    if isinstance(xp, str):
        xp = importlib.import_module(xp)
    if xp is np or getattr(xp, "__name__", "") in ("numpy", "array_api_compat.numpy"):
        return np
    if array_api_compat is None:
        raise ImportError(
            "moving an estimator to another array library than NumPy needs the "
            "array-api-compat package (pip install array-api-compat)"
        )
    return array_api_compat.array_namespace(xp.asarray([0.0]))


def move_estimator_to(estimator, xp, device=None):
    """A copy of a fitted estimator whose arrays are in namespace ``xp`` on ``device``.

    A model fitted under scikit-learn's ``array_api_dispatch`` keeps its
    weights where the training data were (a GPU, say), and predicts from
    arrays there. This function moves it: to NumPy, to pickle it and serve it
    on a machine without a GPU or without PyTorch; or from NumPy to a GPU, to
    predict there or to continue training there. It moves the weights
    (``coefs_``, ``intercepts_``), the optimiser's state and the
    early-stopping checkpoint, so that ``partial_fit`` continues exactly where
    training stopped (a warm-started ``fit`` starts a new optimiser from the
    weights, as in scikit-learn); ``classes_`` and the training history stay
    NumPy arrays and lists, as in every fitted model. The estimator itself is
    left unchanged.

    Parameters
    ----------
    estimator : BackpropMLPClassifier or BackpropMLPRegressor
        A fitted estimator.

    xp : module or str
        The array namespace to move to: ``numpy``, ``torch``, ``cupy``,
        ``array_api_strict`` (the module, or its name), or an array API
        namespace such as ``array_api_compat.torch``.

    device : device or str, default=None
        The device, as the namespace names it: ``"cuda"``, ``"cuda:1"``,
        ``"cpu"`` or a ``torch.device`` for PyTorch, a ``cupy.cuda.Device``
        for CuPy; None for NumPy or the namespace's default device.

    Returns
    -------
    moved : estimator
        A copy of ``estimator`` whose arrays are of namespace ``xp``, on
        ``device``, with their dtype kept.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_backprop import BackpropMLPClassifier, move_estimator_to
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = BackpropMLPClassifier(max_iter=5, random_state=0).fit(X / 16, y)
    >>> same = move_estimator_to(clf, "numpy")
    >>> bool(np.array_equal(same.predict(X / 16), clf.predict(X / 16)))
    True

    With PyTorch, a model fitted on a GPU becomes a NumPy model for serving
    (``torch_model = move_estimator_to(numpy_model, "torch", device="cuda")``
    is the reverse)::

        numpy_model = move_estimator_to(torch_model, "numpy")
        pickle.dump(numpy_model, file)  # loads where PyTorch is not installed
    """
    from ._base import BaseBackpropMLP

    namespace = _resolve_namespace(xp)
    if namespace is np and device not in (None, "cpu"):
        raise ValueError(f"NumPy arrays live on the CPU; got device={device!r}.")
    if not isinstance(estimator, BaseBackpropMLP):
        return _move_other_estimator(estimator, namespace, device)
    check_is_fitted(estimator)

    # No copy here: __sklearn_array_api_convert__ copies whatever comes back,
    # so that the moved model shares no memory with this one.
    def convert(array):
        if namespace is np:
            return to_numpy(array)
        return namespace.asarray(to_numpy(array), device=device)

    return estimator.__sklearn_array_api_convert__(convert)


def _move_other_estimator(estimator, namespace, device):
    """A pipeline or another scikit-learn estimator, through scikit-learn's
    converter: private (``sklearn.utils._array_api``, scikit-learn >= 1.9),
    as scikit-learn has no public one; it calls our estimators'
    ``__sklearn_array_api_convert__`` for the steps that are ours."""
    try:
        from sklearn.utils._array_api import move_estimator_to as sklearn_move
    except ImportError:
        sklearn_move = None
    if sklearn_move is None or not hasattr(estimator, "get_params"):
        raise TypeError(
            "move_estimator_to moves sklearn-backprop's estimators, and with "
            "scikit-learn >= 1.9 any estimator or pipeline; got "
            f"{type(estimator).__name__}."
        )
    return sklearn_move(estimator, namespace, device)
