"""Array namespaces: the network's math on NumPy arrays and on any array API library.

The math (``_network``, ``_activations``, ``_losses``, ``_optimizers``,
``_minibatch``) is written once, against an array namespace ``xp``: NumPy itself
for NumPy arrays and SciPy sparse matrices, otherwise the namespace that the
public `array-api-compat <https://data-apis.org/array-api-compat/>`_ package
gives for the array (PyTorch, CuPy, array-api-strict, ...). Every operation of
a minibatch step writes into a preallocated buffer; NumPy does that with its
functions' ``out=`` argument, which the array API standard does not have, so
the helpers below (``*_into``) call NumPy with ``out=`` and, for other
namespaces, compute the result and copy it into the buffer. In-place
operators (``a += b``, ``a *= s``) are part of the standard and are used as
they are.
"""

import numpy as np
import scipy.sparse as sp

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


def is_numpy(xp):
    """Whether ``xp`` is NumPy itself (the namespace with ``out=``)."""
    return xp is np


def device(array):
    """The device of ``array`` (None for NumPy arrays and sparse matrices)."""
    if isinstance(array, np.ndarray) or sp.issparse(array):
        return None

    return array_api_compat.device(array)


def namespace_and_device(array):
    """``(xp, device)`` of one array."""
    return get_namespace(array), device(array)


def asarray(values, xp, device, dtype=None):
    """``values`` (NumPy, Python) as an array of namespace ``xp`` on ``device``."""
    if is_numpy(xp):
        return np.asarray(values, dtype=dtype)
    return xp.asarray(values, dtype=dtype, device=device)


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


def take_rows_into(a, rows, out):
    """out = a[rows] (rows gathered along axis 0; ``out`` None: a new array)."""
    if isinstance(a, np.ndarray):
        return np.take(a, rows, axis=0, out=out)
    taken = get_namespace(a).take(a, rows, axis=0)
    if out is None:
        return taken
    out[...] = taken
    return out


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


def float_dtypes(xp, device):
    """The float dtypes that validation accepts, the first the default:
    float64 where the device has it (not Apple's MPS), then float32."""
    if is_numpy(xp):
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
    if is_numpy(xp):
        return to_numpy(array)
    if get_namespace(array) is xp and device_of_equal(array, device):
        return array
    return xp.asarray(to_numpy(array), device=device)


def device_of_equal(array, device):
    return not hasattr(array, "device") or array.device == device


def copy_array(array):
    """A copy of an array of any namespace."""
    if isinstance(array, np.ndarray):
        return array.copy()
    return get_namespace(array).asarray(array, copy=True)


def all_finite(array):
    """Whether every entry is finite, as a Python bool (one device read)."""
    xp = get_namespace(array)
    return bool(xp.all(xp.isfinite(array)))


def astype(array, dtype):
    """``array`` cast to ``dtype`` (NumPy's method: NumPy < 2 has no np.astype)."""
    if isinstance(array, np.ndarray | np.generic):
        return array.astype(dtype)
    return get_namespace(array).astype(array, dtype)
