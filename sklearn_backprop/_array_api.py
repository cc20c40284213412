"""The array backend: where a fit's arrays live, and the NumPy fast paths.

The math (``_network``, ``_activations``, ``_losses``, ``_optimizers``,
``_minibatch``, ``_coding``) is written once, against an array namespace
``xp``: NumPy itself for NumPy arrays and SciPy sparse matrices, otherwise the
namespace that the public `array-api-compat
<https://data-apis.org/array-api-compat/>`_ package gives for the array
(PyTorch, CuPy, array-api-strict, ...). This module is the one place that
tells NumPy from the others:

* the primitives below write into preallocated buffers (``*_into``: NumPy's
  functions with ``out=``, which the array API standard does not have; the
  other namespaces compute and copy) or compute a function with SciPy's and
  NumPy's dedicated routines where the standard has none (``softplus``,
  ``logsumexp_rows``, ``expit``...). In-place operators (``a += b``, ``a *=
  s``) are part of the standard and are used as they are;
* :class:`ArrayBackend`, chosen once per fit (and per prediction) from the
  namespace and device of the data, allocates the buffers, gathers the rows of
  minibatches, sums their weights and moves arrays between the host and the
  device; :class:`NumpyBackend` is its subclass with NumPy's fast paths.
"""

import copy

import numpy as np
import scipy.sparse as sp
from scipy.special import expit as _scipy_expit
from scipy.special import logsumexp as _scipy_logsumexp
from scipy.special import xlogy as _scipy_xlogy

try:  # the public package, when installed
    import array_api_compat
except ImportError:  # else the copy that scikit-learn vendors (>= 1.8)
    try:
        from sklearn.externals import array_api_compat
    except ImportError:  # neither: NumPy only
        array_api_compat = None


def get_namespace(*arrays):
    """NumPy for NumPy arrays and sparse matrices; else the arrays' namespace.

    The test is a cheap ``isinstance`` first, so that the NumPy path, called
    dozens of times per minibatch, pays nothing for the generality.
    """
    if array_api_compat is None:
        return np
    # Lists, DataFrames and other array-likes are NumPy's to convert, as in
    # scikit-learn's own get_namespace.
    foreign = [
        array
        for array in arrays
        if array is not None
        and not isinstance(array, np.ndarray | np.generic)
        and not sp.issparse(array)
        and array_api_compat.is_array_api_obj(array)
    ]
    if not foreign:
        return np

    return array_api_compat.array_namespace(*foreign)


def device(array):
    """The device of ``array`` (None for NumPy arrays and sparse matrices)."""
    if isinstance(array, np.ndarray) or sp.issparse(array):
        return None

    return array_api_compat.device(array)


def namespace_and_device(array):
    """``(xp, device)`` of one array."""
    return get_namespace(array), device(array)


def library_name(xp):
    """The library of an array namespace: 'torch' for array-api-compat's
    wrapper of PyTorch, 'numpy', 'array_api_strict', ..."""
    return xp.__name__.rsplit(".", 1)[-1]


def to_numpy(array):
    """A NumPy copy (or view) of ``array``, from any namespace and device."""
    if isinstance(array, np.ndarray) or sp.issparse(array):
        return array
    if isinstance(array, np.generic | int | float | bool) or array_api_compat is None:
        return np.asarray(array)

    if array_api_compat.is_torch_array(array):
        return array.detach().cpu().numpy()
    if array_api_compat.is_cupy_array(array):
        return array.get()
    try:
        return np.asarray(array)
    except (TypeError, RuntimeError, ValueError):
        # array-api-strict on a device other than its CPU device refuses
        # __array__; its arrays move to the CPU device first.
        xp = array_api_compat.array_namespace(array)
        cpu = getattr(xp, "Device", None)
        if cpu is None:
            raise
        return np.asarray(xp.asarray(array, device=cpu("CPU_DEVICE")))


def float_value(array):
    """A 0-d array (of any namespace) as a Python float: one device read."""
    if isinstance(array, float | int):
        return float(array)
    return float(to_numpy(array))


def host_scalar(value):
    """A NumPy scalar as a Python float; another namespace's 0-d array as it is.

    Sums over a minibatch are Python floats on NumPy, so that running totals
    accumulate in double precision whatever the dtype; on a device they stay
    0-d arrays there, read once per epoch rather than once per minibatch.
    """
    if isinstance(value, np.generic | np.ndarray):
        return float(value)
    return value


# ----------------------------------------------------------------------
# Writing into buffers: NumPy's out=, or compute and copy for the others.
# ----------------------------------------------------------------------
def matmul_into(a, b, out):
    """out = a @ b."""
    if isinstance(out, np.ndarray) and not sp.issparse(a):
        return np.matmul(a, b, out=out)
    out[...] = a @ b
    return out


def multiply_into(a, b, out):
    """out = a * b (b an array or a Python scalar)."""
    if isinstance(out, np.ndarray):
        return np.multiply(a, b, out=out)
    out[...] = a * b
    return out


def subtract_into(a, b, out):
    """out = a - b."""
    if isinstance(out, np.ndarray):
        return np.subtract(a, b, out=out)
    out[...] = a - b
    return out


def divide_into(a, b, out):
    """out = a / b."""
    if isinstance(out, np.ndarray):
        return np.divide(a, b, out=out)
    out[...] = a / b
    return out


def sum_rows_into(a, out):
    """out = the sum of the rows of ``a`` (over axis 0)."""
    if isinstance(out, np.ndarray):
        return np.sum(a, axis=0, out=out)
    out[...] = get_namespace(a).sum(a, axis=0)
    return out


def maximum_into(a, b, out):
    """out = max(a, b), elementwise (b an array or a Python scalar)."""
    if isinstance(out, np.ndarray):
        return np.maximum(a, b, out=out)
    xp = get_namespace(a)
    if isinstance(b, int | float):
        # A scalar bound is a clip: older array-api-compat wrappers (as
        # vendored by scikit-learn) take no scalar in maximum, and a 0-d array
        # made from a Python number is a copy to the device, which on CUDA
        # waits for it (once per hidden layer and minibatch).
        out[...] = xp.clip(a, min=b)
        return out
    out[...] = xp.maximum(a, b)
    return out


def apply_into(function, a, out):
    """out = function(a), for an elementwise function of the namespace of ``a``
    (``xp.tanh``, ``xp.exp``, ``xp.sqrt``, ``xp.sign``...)."""
    if isinstance(out, np.ndarray):
        return function(a, out=out)
    out[...] = function(a)
    return out


def expit_into(a, out):
    """out = sigmoid(a) = 1 / (1 + exp(-a)), keeping its relative accuracy
    near 0 (SciPy's ``expit`` on NumPy)."""
    if isinstance(out, np.ndarray):
        return _scipy_expit(a, out=out)
    out[...] = expit(a)
    return out


def log_sigmoid_into(a, out):
    """out = log sigmoid(a) = -log(1 + exp(-a)), never overflowing."""
    if isinstance(out, np.ndarray):
        np.logaddexp(0, -a, out=out)
        return np.negative(out, out=out)
    out[...] = log_sigmoid(a)
    return out


# ----------------------------------------------------------------------
# Functions the standard lacks, with NumPy's and SciPy's routines on NumPy
# ----------------------------------------------------------------------
def softplus(Z):
    """log(1 + exp(z)), never overflowing: max(z, 0) + log1p(exp(-|z|))."""
    if isinstance(Z, np.ndarray):
        return np.logaddexp(0, Z)
    xp = get_namespace(Z)
    return xp.maximum(Z, xp.zeros_like(Z)) + xp.log1p(xp.exp(-xp.abs(Z)))


def log_sigmoid(Z):
    """log sigmoid(z) = -log(1 + exp(-z)), computed stably."""
    return -softplus(-Z)


def expit(Z):
    """The logistic sigmoid 1 / (1 + exp(-z)), as a new array."""
    if isinstance(Z, np.ndarray):
        return _scipy_expit(Z)
    return 1.0 / (1.0 + get_namespace(Z).exp(-Z))


def logsumexp_rows(Z):
    """log sum_k exp(z_k) of each row, the row maximum taken out first."""
    if isinstance(Z, np.ndarray):
        return _scipy_logsumexp(Z, axis=1)
    xp = get_namespace(Z)
    row_max = xp.max(Z, axis=1, keepdims=True)
    return row_max[:, 0] + xp.log(xp.sum(xp.exp(Z - row_max), axis=1))


def log_softmax_rows(Z):
    """z - log sum_k exp(z_k), by rows."""
    return Z - logsumexp_rows(Z)[:, None]


def xlogx(Y):
    """y log y, with 0 log 0 = 0."""
    if isinstance(Y, np.ndarray):
        return _scipy_xlogy(Y, Y)
    xp = get_namespace(Y)
    positive = Y > 0
    return xp.where(positive, Y * xp.log(xp.where(positive, Y, 1.0)), 0.0)


def row_squared_norms(R):
    """sum_k r_k^2 of each row (one pass on NumPy: einsum)."""
    if isinstance(R, np.ndarray):
        return np.einsum("ij,ij->i", R, R)
    return get_namespace(R).sum(R * R, axis=1)


def squared_norm(a):
    """sum of the squares of every entry: a Python float on NumPy (one BLAS
    dot product), a 0-d array on a device (no read back)."""
    if isinstance(a, np.ndarray):
        return float(np.dot(a.ravel(), a.ravel()))
    return get_namespace(a).sum(a * a)


def concat_columns(arrays):
    """The arrays side by side, along axis 1 (NumPy < 2 has no np.concat)."""
    if isinstance(arrays[0], np.ndarray):
        return np.hstack(arrays)
    return get_namespace(*arrays).concat(arrays, axis=1)


def astype(array, dtype):
    """``array`` cast to ``dtype`` (NumPy's method: NumPy < 2 has no np.astype)."""
    if isinstance(array, np.ndarray | np.generic):
        return array.astype(dtype)
    return get_namespace(array).astype(array, dtype)


def copy_array(array):
    """A copy of an array of any namespace."""
    if isinstance(array, np.ndarray):
        return array.copy()
    return get_namespace(array).asarray(array, copy=True)


def all_finite(array):
    """Whether every entry is finite, as a Python bool (one device read)."""
    xp = get_namespace(array)
    return bool(xp.all(xp.isfinite(array)))


def copy_with_arrays(obj, arrays, convert):
    """A deep copy of ``obj`` in which each of ``arrays`` is ``convert(array)``.

    ``convert`` must return a new array (the copy shares no memory with
    ``obj``); every other part of ``obj`` is deep-copied as usual. This moves
    an estimator, or an optimiser's state, to another namespace or device in
    one pass, without copying its arrays twice.
    """
    memo = {id(array): convert(array) for array in arrays}
    memo[id(memo)] = list(arrays)  # keeps the originals' ids from being reused
    return copy.deepcopy(obj, memo)


# ----------------------------------------------------------------------
# What the estimators need around the math
# ----------------------------------------------------------------------
def input_namespace(X):
    """The namespace that validation keeps ``X`` in: its own when scikit-learn's
    ``array_api_dispatch`` is on and ``X`` is not NumPy's (nor sparse), else
    NumPy (validation then converts ``X`` with ``np.asarray``)."""
    from sklearn import get_config

    if not get_config()["array_api_dispatch"]:
        return np
    return get_namespace(X)


def namespace_mismatch(estimator, method, X):
    """Why ``X`` is not where the fitted ``estimator``'s arrays are, or None.

    Prediction takes X of the model's namespace and device only. Training
    (``partial_fit``, a warm-started ``fit``) also takes arrays elsewhere, and
    moves the model there (everything follows X), but not another library's
    arrays with scikit-learn's dispatch off, which validation would turn into
    NumPy arrays behind the user's back (and cannot for a GPU's).
    """
    backend = backend_for(estimator.coefs_[0])
    dispatch_off = input_namespace(X) is not get_namespace(X)
    if method in ("partial_fit", "fit") and not (dispatch_off and backend.xp is not np):
        return None
    if method not in ("partial_fit", "fit") and backend.holds(X):
        return None
    given = library_name(get_namespace(X))
    if dispatch_off:
        given += " arrays, which scikit-learn's array_api_dispatch (off) would convert"
        given += " to NumPy"
    else:
        given += f" arrays on device {getattr(X, 'device', None)}"
    return (
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the "
        "same namespace and the same device as those passed to fit(): fitted "
        f"on {library_name(backend.xp)} arrays on device {backend.device}, got "
        f"{given}. Move the data to the model's namespace and device and switch "
        "array_api_dispatch on (sklearn.set_config(array_api_dispatch=True)), "
        "or move the model to the data's with sklearn_backprop.move_estimator_to."
    )


def float_dtypes(xp, device):
    """The float dtypes that validation accepts, the first the default:
    float64 where the device has it (not Apple's MPS), then float32."""
    if xp is np:
        return (np.float64, np.float32)
    if "mps" in str(device):
        return (xp.float32,)
    return (xp.float64, xp.float32)


def numpy_dtype(dtype):
    """The NumPy dtype of the same name as an array API dtype."""
    if isinstance(dtype, np.dtype):
        return dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(str(dtype).rsplit(".", 1)[-1])


def to_namespace(array, xp, device):
    """``array`` (any namespace) in namespace ``xp`` on ``device``: unchanged
    when it is there already, else copied (through the host)."""
    if xp is np:
        return to_numpy(array)
    if get_namespace(array) is xp and device_of_equal(array, device):
        return array
    return xp.asarray(to_numpy(array), device=device)


def device_of_equal(array, device):
    return not hasattr(array, "device") or array.device == device


class ArrayBackend:
    """Where a fit's arrays live: an array API namespace and a device.

    Chosen once per fit, from the training data (and once per prediction,
    from the weights), by :func:`backend_for`. It allocates the buffers,
    converts arrays in and out, and cuts minibatches
    (:meth:`minibatches`); the math itself is written against the namespace
    ``xp`` and the primitives of this module.

    On a device the loops never read a number back until an epoch ends: the
    minibatch weights are summed on the host, and losses and scores stay 0-d
    arrays there (``reads_per_minibatch`` is False).

    Parameters
    ----------
    xp : namespace
        The array API namespace.
    device : device
        The device, as the namespace names it.
    """

    # Whether a number computed on the arrays can be read at no cost (NumPy:
    # it is already on the host), so that the minibatch loop checks each
    # minibatch's loss; on a device that read would wait for the device.
    reads_per_minibatch = False

    def __init__(self, xp, device):
        self.xp, self.device = xp, device

    def holds(self, array):
        """Whether ``array`` (as passed by the user) is of this namespace and
        on this device, with scikit-learn's dispatch as it is now set."""
        return input_namespace(array) is self.xp and (
            getattr(array, "device", None) == self.device
        )

    def dtype(self, dtype):
        """The namespace's dtype of the same name as a NumPy dtype."""
        return getattr(self.xp, numpy_dtype(dtype).name)

    def empty(self, shape, dtype):
        return self.xp.empty(shape, dtype=dtype, device=self.device)

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=dtype, device=self.device)

    def asarray(self, values, dtype=None):
        """Host values (NumPy, Python) as an array here."""
        return self.xp.asarray(values, dtype=dtype, device=self.device)

    def convert(self, array):
        """``array`` from any namespace or device, here (unchanged when it is
        here already)."""
        return to_namespace(array, self.xp, self.device)

    def copied(self, array):
        """A copy of ``array`` here, from any namespace or device."""
        return copy_array(self.convert(array))

    def input(self, X):
        """Data as validation should receive it: here, for validation to keep
        it here."""
        return self.convert(X)

    def take_rows(self, array, rows):
        """The rows ``rows`` (host integers) of ``array``, as a new array."""
        return self.xp.take(array, self.asarray(rows), axis=0)

    def clip_finite(self, Z):
        """Replace +-inf by the largest finite values, in place."""
        finite_max = float(self.xp.finfo(Z.dtype).max)
        Z[...] = self.xp.clip(Z, min=-finite_max, max=finite_max)
        return Z

    def labels(self, classes, indices):
        """``classes[indices]``: numeric labels where the indices are, labels
        that only NumPy holds (strings, objects) on the host."""
        if classes.dtype.kind not in "biuf":
            return classes[to_numpy(indices)]
        return self.xp.take(self.asarray(classes), indices)

    def minibatches(self, X, Y, weights, weights_host, batch_size):
        """The minibatch cutter of one training call: see :class:`Minibatches`."""
        return Minibatches(self, X, Y, weights, weights_host, batch_size)


class NumpyBackend(ArrayBackend):
    """The backend of NumPy arrays and SciPy sparse matrices: buffers are
    filled with ``out=``, and numbers are read at no cost."""

    reads_per_minibatch = True

    def __init__(self):
        super().__init__(np, None)

    def holds(self, array):
        return input_namespace(array) is np

    def dtype(self, dtype):
        return numpy_dtype(dtype)

    def empty(self, shape, dtype):
        return np.empty(shape, dtype=dtype)

    def zeros(self, shape, dtype):
        return np.zeros(shape, dtype=dtype)

    def asarray(self, values, dtype=None):
        return np.asarray(values, dtype=dtype)

    def convert(self, array):
        return to_numpy(array)

    def input(self, X):
        return X  # validate_data converts lists, DataFrames, sparse input

    def take_rows(self, array, rows):
        return array[rows]  # CSR matrices too

    def clip_finite(self, Z):
        finite_max = float(np.finfo(Z.dtype).max)
        return np.clip(Z, -finite_max, finite_max, out=Z)

    def labels(self, classes, indices):
        return classes[indices]

    def minibatches(self, X, Y, weights, weights_host, batch_size):
        return NumpyMinibatches(self, X, Y, weights, weights_host, batch_size)


NUMPY_BACKEND = NumpyBackend()


def backend_for(array):
    """The backend of ``array``'s namespace and device."""
    xp, array_device = namespace_and_device(array)
    if xp is np:
        return NUMPY_BACKEND
    return ArrayBackend(xp, array_device)


class Minibatches:
    """Cuts the training data of one call into minibatches, in a given order.

    ``rows(order)`` puts an epoch's order of rows (host integers) where the
    data are, once per epoch; ``gather(rows, order, start)`` then returns the
    minibatch of rows ``order[start:start + batch_size]``, with the sum of its
    weights, summed on the host from the host's copy of the weights (a device
    never waits for it).

    Parameters
    ----------
    backend : ArrayBackend
        Where the data are.
    X, Y, weights : arrays
        Training data, encoded targets and sample weights, all of the backend.
    weights_host : ndarray
        The sample weights on the host.
    batch_size : int
        Rows per minibatch.
    """

    def __init__(self, backend, X, Y, weights, weights_host, batch_size):
        self.backend, self.batch_size = backend, batch_size
        self.X, self.Y, self.weights = X, Y, weights
        self.weights_host = weights_host
        self.last_X = None  # the rows of the last minibatch gathered

    def rows(self, order):
        """An epoch's order of rows, where the data are (one copy per epoch)."""
        return self.backend.asarray(order)

    def gather(self, rows, order, start):
        """``(X_batch, Y_batch, weights_batch, total_weight)`` of the minibatch
        that starts at position ``start`` of ``order`` (``rows`` is
        ``self.rows(order)``)."""
        # The stop clamped: an array API slice may not run past the end.
        stop = min(start + self.batch_size, order.shape[0])
        batch = rows[start:stop]
        take = self.backend.xp.take
        self.last_X = take(self.X, batch, axis=0)
        total_weight = float(self.weights_host[order[start:stop]].sum())
        Yb, wb = take(self.Y, batch, axis=0), take(self.weights, batch)
        return self.last_X, Yb, wb, total_weight


class NumpyMinibatches(Minibatches):
    """NumPy's minibatches, gathered into fixed buffers with ``np.take(out=...)``:
    never a copy of all of X per epoch, and no allocation per minibatch but
    for sparse input (CSR row selection copies only the selected rows)."""

    def __init__(self, backend, X, Y, weights, weights_host, batch_size):
        super().__init__(backend, X, Y, weights, weights_host, batch_size)
        dtype = Y.dtype
        self.sparse_input = sp.issparse(X)
        if not self.sparse_input:
            self.X_buffer = np.empty((batch_size, X.shape[1]), dtype)
        self.Y_buffer = np.empty((batch_size, Y.shape[1]), dtype)
        self.weights_buffer = np.empty(batch_size, dtype)

    def rows(self, order):
        return order

    def gather(self, rows, order, start):
        batch = order[start : start + self.batch_size]
        n_rows = batch.shape[0]
        X = self.X
        if self.sparse_input:
            Xb = X[batch]
        else:
            Xb = np.take(X, batch, axis=0, out=self.X_buffer[:n_rows])
        Yb = np.take(self.Y, batch, axis=0, out=self.Y_buffer[:n_rows])
        wb = np.take(self.weights, batch, out=self.weights_buffer[:n_rows])
        self.last_X = Xb
        return Xb, Yb, wb, float(wb.sum())
