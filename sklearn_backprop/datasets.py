"""Loader for the MNIST database of handwritten digits.

:func:`load_mnist` follows the conventions of scikit-learn's ``fetch_*`` loaders
(a cache under :func:`sklearn.datasets.get_data_home`, ``data_home`` and
``download_if_missing`` parameters) but can also read the copies of MNIST that
are commonly lying around: the Keras ``mnist.npz``, the four original IDX
files and the ``mnist_train.csv`` / ``mnist_test.csv`` layout.
"""

import contextlib
import gzip
import hashlib
import http.client
import os
import secrets
import struct
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "MNIST_ENV_VAR",
    "MNIST_SHA256",
    "MNIST_URL",
    "MNISTIntegrityError",
    "MNISTNotFoundError",
    "load_mnist",
]

#: Environment variable naming a local MNIST file or directory.
MNIST_ENV_VAR = "SKLEARN_BACKPROP_MNIST"

#: The file ``keras.datasets.mnist.load_data()`` downloads.
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"

#: SHA-256 of the raw C-order bytes of each decoded uint8 array. They do not
#: depend on the container (npz, IDX, CSV), so every source is checked alike.
MNIST_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}

_KEYS = ("x_train", "y_train", "x_test", "y_test")
_N_SAMPLES = {"train": 60000, "test": 10000}
_IMAGE_SHAPE = (28, 28)

_CACHE_SUBDIR = "mnist"
_CACHE_NAME = "mnist.npz"

_IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_CSV_NAMES = {"train": "mnist_train.csv", "test": "mnist_test.csv"}

# Seconds a blocking socket operation (connect, each read) may take. It bounds
# stalls, not the whole download of ~11 MB.
_DOWNLOAD_TIMEOUT = 60.0
_CHUNK_SIZE = 1 << 20

_HOW_TO_PROVIDE = (
    f"set {MNIST_ENV_VAR} or pass path= to a local mnist.npz, a directory with "
    "the four IDX files (optionally .gz) or a directory with mnist_train.csv "
    "and mnist_test.csv"
)


class MNISTIntegrityError(ValueError):
    """An MNIST file could not be decoded or failed its checksum.

    The message names the file (or URL) and what was wrong. Such a file is
    never written to the cache.
    """


class MNISTNotFoundError(FileNotFoundError):
    """MNIST could not be found locally and could not be downloaded.

    The message says which locations were tried and how to provide the file.
    """


def load_mnist(
    *,
    data_home=None,
    path=None,
    download_if_missing=True,
    scale=False,
    keras_cache=True,
    _url=None,
    _checksums=None,
):
    """Load the MNIST database of handwritten digits.

    70000 grey-scale images of 28x28 pixels, in the standard split of 60000
    training and 10000 test images, with labels 0-9.

    The data is looked up in this order:

    1. the cache ``<data_home>/mnist/mnist.npz``;
    2. the local file or directory ``path``, or if ``path`` is None the one
       named by the environment variable ``SKLEARN_BACKPROP_MNIST``;
    3. the copy Keras downloads, ``$KERAS_HOME/datasets/mnist.npz``
       (``~/.keras/datasets/mnist.npz`` when ``KERAS_HOME`` is unset), read
       without importing Keras;
    4. a download of :data:`MNIST_URL`, the file Keras downloads.

    Whatever the source, the decoded arrays are checked against the SHA-256
    sums in :data:`MNIST_SHA256`. A download that verifies is written to the
    cache atomically (a temporary file in the same directory, then
    :func:`os.replace`), so an interrupted or corrupted download is never
    cached. IDX and CSV files are converted once into the cache, since they are
    slow to parse; an ``mnist.npz`` (local or Keras's) is read in place, as a
    copy would be no faster. A cache file that fails verification is removed
    with a warning and the data is fetched again from the next source.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Directory of the cache. By default all scikit-learn data is stored in
        ``~/scikit_learn_data`` (or ``$SCIKIT_LEARN_DATA``), see
        :func:`sklearn.datasets.get_data_home`.

    path : str or path-like, default=None
        A local copy of MNIST: an ``.npz`` file in the Keras layout (arrays
        ``x_train``, ``y_train``, ``x_test``, ``y_test``); a directory holding
        the four IDX files ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte`` (each optionally gzipped, ``.gz``); or a
        directory holding ``mnist_train.csv`` and ``mnist_test.csv`` (the label
        then 784 pixel values on each row, with or without a header line), or
        one of those two files. A directory holding ``mnist.npz`` is read as
        that file. If None, the environment variable
        ``SKLEARN_BACKPROP_MNIST`` is used when set. A path that does not
        exist raises :class:`MNISTNotFoundError` rather than falling back to a
        download.

    download_if_missing : bool, default=True
        If False, raise :class:`MNISTNotFoundError` instead of downloading
        when no local copy is found.

    scale : bool, default=False
        If False, ``X`` holds the pixel values 0-255 as ``uint8``. If True,
        ``X`` is ``float32`` divided by 255, in [0, 1].

    keras_cache : bool, default=True
        Whether to look for the file Keras downloads.

    Returns
    -------
    X_train : ndarray of shape (60000, 784)
        Training images, one flattened 28x28 image (row-major) per row;
        ``uint8``, or ``float32`` when ``scale=True``.

    X_test : ndarray of shape (10000, 784)
        Test images, as ``X_train``.

    y_train : ndarray of shape (60000,) of int64
        Training labels 0-9. ``int64`` (like scikit-learn's toy datasets)
        rather than the stored ``uint8``, so arithmetic on labels cannot wrap
        around.

    y_test : ndarray of shape (10000,) of int64
        Test labels 0-9.

    Raises
    ------
    MNISTNotFoundError
        If no source is available; a subclass of :class:`FileNotFoundError`
        and so of :class:`OSError`. Also raised when ``path`` (or the
        environment variable) names a missing file or a directory without a
        recognised layout.

    MNISTIntegrityError
        If a local file or the download cannot be decoded or fails
        verification; a subclass of :class:`ValueError`. The message names the
        file or URL and what was wrong.

    Warns
    -----
    UserWarning
        When a corrupted cache file is removed, when a corrupted Keras copy is
        skipped, or when data read from IDX or CSV files cannot be cached.

    Notes
    -----
    MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges) is available
    under the Creative Commons Attribution-Share Alike 3.0 license.

    Examples
    --------
    >>> from sklearn_backprop.datasets import load_mnist
    >>> X_train, X_test, y_train, y_test = load_mnist(scale=True)
    >>> X_train.shape, X_test.shape
    ((60000, 784), (10000, 784))
    >>> X_train.dtype
    dtype('float32')
    >>> float(X_train.min()), float(X_train.max())
    (0.0, 1.0)
    >>> y_train[:10]
    array([5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    """
    arrays, _ = _load_mnist_arrays(
        data_home=data_home,
        path=path,
        download_if_missing=download_if_missing,
        keras_cache=keras_cache,
        _url=_url,
        _checksums=_checksums,
    )
    return _to_output(arrays, scale)


def _load_mnist_arrays(
    *, data_home, path, download_if_missing, keras_cache, _url=None, _checksums=None
):
    """The verified arrays and a description of where they were read from.

    The source (``"cache <file>"``, ``"<file> (SKLEARN_BACKPROP_MNIST)"``,
    ``"download <url>"``...) is what the main job records beside its results.
    """
    # _url and _checksums are for the test suite: a local server and small
    # synthetic files. With _checksums the sample counts are not enforced.
    url = MNIST_URL if _url is None else _url
    checksums = MNIST_SHA256 if _checksums is None else dict(_checksums)
    strict = _checksums is None

    cache_file = _data_home(data_home) / _CACHE_SUBDIR / _CACHE_NAME
    tried = []

    arrays = _load_cache(cache_file, checksums, strict)
    if arrays is not None:
        return arrays, f"cache {cache_file}"
    tried.append(f"no usable cache at {cache_file}")

    local, origin = _local_path(path)
    if local is None:
        tried.append(f"no path= given and {MNIST_ENV_VAR} not set")
    else:
        arrays, converted = _load_local(local, origin, checksums, strict)
        if converted:
            _write_cache(cache_file, arrays)
        return arrays, f"{local} (from {origin})"

    if keras_cache:
        keras_file = _keras_cache_file()
        arrays = _load_keras_cache(keras_file, checksums, strict)
        if arrays is not None:
            return arrays, f"Keras cache {keras_file}"
        tried.append(f"no usable Keras cache at {keras_file}")
    else:
        tried.append("the Keras cache not searched (keras_cache=False)")

    if not download_if_missing:
        tried.append(f"download of {url} disabled (download_if_missing=False)")
        raise MNISTNotFoundError(_not_found_message(tried))
    try:
        arrays = _download(url, cache_file, checksums, strict)
    except _DownloadFailed as exc:
        tried.append(f"download of {url} failed ({exc})")
        raise MNISTNotFoundError(_not_found_message(tried)) from exc.__cause__
    return arrays, f"download {url}, cached at {cache_file}"


def _data_home(data_home):
    """scikit-learn's data folder, as ``sklearn.datasets.get_data_home`` finds it.

    Not that function itself: it creates the folder, and looking for a cache
    must not leave an empty folder behind when nothing is found or downloaded.
    """
    if data_home is None:
        data_home = os.environ.get("SCIKIT_LEARN_DATA", "~/scikit_learn_data")
    return Path(data_home).expanduser()


def _not_found_message(tried):
    tried = ", ".join(tried[:-1]) + ", and " + tried[-1]
    return f"Could not find MNIST: {tried}; {_HOW_TO_PROVIDE}."


def _to_output(arrays, scale):
    """Flatten the images, widen the labels and optionally scale to [0, 1]."""
    X_train = arrays["x_train"].reshape(len(arrays["x_train"]), -1)
    X_test = arrays["x_test"].reshape(len(arrays["x_test"]), -1)
    if scale:
        X_train = X_train.astype(np.float32)
        X_train /= 255
        X_test = X_test.astype(np.float32)
        X_test /= 255
    y_train = arrays["y_train"].astype(np.int64)
    y_test = arrays["y_test"].astype(np.int64)
    return X_train, X_test, y_train, y_test


# --------------------------------------------------------------------------
# Sources


def _load_cache(cache_file, checksums, strict):
    """Read the cache; a broken cache is removed so the next source refills it."""
    if not cache_file.is_file():
        return None
    try:
        return _verify(_read_npz(cache_file), cache_file, checksums, strict)
    except MNISTIntegrityError as exc:
        warnings.warn(
            f"Removing the corrupted MNIST cache and fetching it again: {exc}",
            UserWarning,
            stacklevel=3,
        )
        with contextlib.suppress(FileNotFoundError):
            cache_file.unlink()
        return None


def _local_path(path):
    """The path to read and a description of where it came from, or (None, None)."""
    if path is not None:
        return Path(path).expanduser(), "path="
    env = os.environ.get(MNIST_ENV_VAR)
    if env:
        return Path(env).expanduser(), MNIST_ENV_VAR
    return None, None


def _load_local(local, origin, checksums, strict):
    """Read a user-given file or directory; return (arrays, needs_caching).

    Errors are raised, not skipped: the user asked for this file explicitly,
    so silently downloading another copy would hide the problem.
    """
    if not local.exists():
        raise MNISTNotFoundError(
            f"MNIST path {local} (from {origin}) does not exist; {_HOW_TO_PROVIDE}."
        )
    directory = local if local.is_dir() else local.parent
    idx_files = _find_idx_files(directory)
    csv_files = {subset: directory / name for subset, name in _CSV_NAMES.items()}
    csv_complete = all(p.is_file() for p in csv_files.values())

    # A directory is read as the first complete layout found in it; a file named
    # like one of the IDX or CSV files stands for its set.
    if local.is_dir():
        if (local / _CACHE_NAME).is_file():
            fmt, local = "npz", local / _CACHE_NAME
        elif len(idx_files) == len(_IDX_NAMES):
            fmt = "idx"
        else:
            fmt = "csv" if csv_complete else None
    elif local.name in _CSV_NAMES.values():
        fmt = "csv" if csv_complete else None
    elif local.name in _idx_spellings():
        fmt = "idx" if len(idx_files) == len(_IDX_NAMES) else None
    else:
        # Any other file is taken to be an npz archive; if it is not one, the
        # error says so and names it.
        fmt = "npz"

    if fmt == "npz":
        return _verify(_read_npz(local), local, checksums, strict), False
    if fmt == "idx":
        arrays = {key: _read_idx(idx_files[key]) for key in _KEYS}
        return _verify(arrays, idx_files, checksums, strict), True
    if fmt == "csv":
        arrays = {}
        for subset, csv_file in csv_files.items():
            arrays[f"x_{subset}"], arrays[f"y_{subset}"] = _read_csv(csv_file)
        origins = {key: csv_files[key[2:]] for key in _KEYS}
        return _verify(arrays, origins, checksums, strict), True

    if idx_files:
        missing = [name for key, name in _IDX_NAMES.items() if key not in idx_files]
        problem = f"lacks the IDX files {', '.join(missing)} (or their .gz)"
    elif any(p.is_file() for p in csv_files.values()):
        missing = [p.name for p in csv_files.values() if not p.is_file()]
        problem = f"lacks {', '.join(missing)}"
    else:
        problem = "holds neither mnist.npz, the IDX files nor the CSV files"
    raise MNISTNotFoundError(
        f"MNIST directory {directory} (from {origin}) {problem}; {_HOW_TO_PROVIDE}."
    )


def _idx_spellings(key=None):
    """File names accepted for the IDX file of ``key`` (of all four if None).

    Besides the original names, accept the ``train-images.idx3-ubyte`` spelling
    that several redistributions use, each also gzipped.
    """
    names = _IDX_NAMES.values() if key is None else [_IDX_NAMES[key]]
    return [
        spelling + ext
        for name in names
        for spelling in (name, name.replace("-idx", ".idx"))
        for ext in ("", ".gz")
    ]


def _find_idx_files(directory):
    """Map array name to the IDX file present in ``directory`` for it."""
    found = {}
    for key in _IDX_NAMES:
        for candidate in _idx_spellings(key):
            if (directory / candidate).is_file():
                found[key] = directory / candidate
                break
    return found


def _keras_cache_file():
    """Where ``keras.datasets.mnist.load_data()`` keeps its download."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return Path(keras_home).expanduser() / "datasets" / "mnist.npz"


def _load_keras_cache(keras_file, checksums, strict):
    """Read Keras's copy; a broken one is skipped with a warning, not deleted."""
    if not keras_file.is_file():
        return None
    try:
        return _verify(_read_npz(keras_file), keras_file, checksums, strict)
    except MNISTIntegrityError as exc:
        warnings.warn(
            f"Ignoring the Keras MNIST cache: {exc}", UserWarning, stacklevel=3
        )
        return None


class _DownloadFailed(Exception):
    """Internal: the download did not complete; the message says why."""


def _download(url, cache_file, checksums, strict):
    """Download ``url`` into ``cache_file``, verifying it before it lands there."""
    try:
        with _atomic_path(cache_file) as tmp:
            with (
                urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as response,
                open(tmp, "xb") as f,
            ):
                length = response.headers.get("Content-Length")
                received = 0
                while chunk := response.read(_CHUNK_SIZE):
                    f.write(chunk)
                    received += len(chunk)
            # http.client returns a short body without complaint when the
            # connection drops, so compare with the announced length ourselves.
            if length is not None and length.isdigit() and received != int(length):
                raise _DownloadFailed(f"interrupted after {received} of {length} bytes")
            try:
                arrays = _verify(_read_npz(tmp, url), url, checksums, strict)
            except MNISTIntegrityError as exc:
                raise MNISTIntegrityError(
                    f"{exc} (the download was discarded, nothing was cached)"
                ) from None
    except urllib.error.HTTPError as exc:
        raise _DownloadFailed(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _DownloadFailed(str(exc.reason)) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _DownloadFailed(f"{type(exc).__name__}: {exc}") from exc
    return arrays


# --------------------------------------------------------------------------
# Cache writing


@contextlib.contextmanager
def _atomic_path(dest):
    """Yield a temporary path beside ``dest``, moved onto ``dest`` on success.

    Readers, and other processes filling the same cache, only ever see a
    missing or a complete file. On failure the temporary file is removed.
    """
    # The folders this call creates, deepest first: removed again on failure,
    # so that a failed download leaves no empty cache folder behind.
    created = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkstemp: its 0600 mode would make a shared cache unreadable
    # to other users; open(..., "xb") applies the umask like any new file.
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
        os.replace(tmp, dest)
        created = []
    finally:
        tmp.unlink(missing_ok=True)
        for folder in created:
            with contextlib.suppress(OSError):  # not empty: another writer's
                folder.rmdir()


def _write_cache(cache_file, arrays):
    """Store verified arrays in the cache; failing to is not fatal."""
    try:
        with _atomic_path(cache_file) as tmp, open(tmp, "xb") as f:
            # A file object, not a name: np.savez would append ".npz" to it.
            np.savez_compressed(f, **arrays)
    except OSError as exc:
        warnings.warn(
            f"Could not cache MNIST at {cache_file}: {exc}", UserWarning, stacklevel=3
        )


# --------------------------------------------------------------------------
# Readers. Each returns raw arrays; _verify checks dtype, shape and checksums.


def _read_npz(file, name=None):
    """Read the four arrays of a Keras-layout npz archive.

    Errors call the file ``name`` (default: its path), e.g. the URL it came from.
    """
    name = file if name is None else name
    try:
        # The file is opened here, not by np.load, which leaks its handle when
        # the archive is broken. The magic number is checked first because
        # np.load takes any non-zip file for a pickle and says so, confusingly.
        with open(file, "rb") as f:
            if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise MNISTIntegrityError(f"{name}: not an npz (zip) archive")
            f.seek(0)
            with np.load(f, allow_pickle=False) as npz:
                missing = [key for key in _KEYS if key not in npz.files]
                if missing:
                    raise MNISTIntegrityError(
                        f"{name}: npz archive lacks the arrays {', '.join(missing)} "
                        f"(has {', '.join(npz.files) or 'none'})"
                    )
                return {key: npz[key] for key in _KEYS}
    except MNISTIntegrityError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        # np.load raises all sorts for truncated or garbled archives.
        raise MNISTIntegrityError(
            f"{name}: not a readable npz archive ({type(exc).__name__}: {exc})"
        ) from exc


def _read_idx(file):
    """Read one IDX file (``.gz`` decompressed) holding unsigned bytes."""
    opener = gzip.open if file.name.endswith(".gz") else open
    try:
        with opener(file, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise MNISTIntegrityError(
            f"{file}: cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    # Header: two zero bytes, a type code (0x08 = unsigned byte), the number of
    # dimensions, then each dimension as a big-endian uint32.
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise MNISTIntegrityError(f"{file}: not an IDX file (bad magic number)")
    type_code, ndim = data[2], data[3]
    if type_code != 0x08:
        raise MNISTIntegrityError(
            f"{file}: IDX type code {type_code:#04x}, expected 0x08 (unsigned byte)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise MNISTIntegrityError(f"{file}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    expected = int(np.prod(shape, dtype=np.int64))
    found = len(data) - header_size
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        raise MNISTIntegrityError(
            f"{file}: {what}: header announces shape {shape} ({expected} bytes of "
            f"data), found {found} bytes"
        )
    # Copy so callers get an ordinary writable array, not a view of bytes.
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def _read_csv(file):
    """Read a CSV with the label then the pixels on each row; return (x, y)."""
    with open(file, encoding="utf-8", errors="replace") as f:
        first = f.readline().split(",", 1)[0].strip().strip('"')
    # A header is recognised by its first field not being a number.
    skiprows = 0 if first.lstrip("-").isdigit() else 1
    try:
        with warnings.catch_warnings():
            # An empty file is reported below with the file name instead.
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(
                file, delimiter=",", dtype=np.int64, skiprows=skiprows, ndmin=2
            )
    except ValueError as exc:
        raise MNISTIntegrityError(f"{file}: not a valid MNIST CSV ({exc})") from exc
    n_columns = 1 + _IMAGE_SHAPE[0] * _IMAGE_SHAPE[1]
    if table.shape[0] == 0:
        raise MNISTIntegrityError(f"{file}: contains no rows")
    if table.shape[1] != n_columns:
        raise MNISTIntegrityError(
            f"{file}: rows have {table.shape[1]} columns, expected {n_columns} "
            "(the label then 784 pixels)"
        )
    x = table[:, 1:].reshape(-1, *_IMAGE_SHAPE)
    return x, np.ascontiguousarray(table[:, 0])


# --------------------------------------------------------------------------
# Verification


def _verify(arrays, origins, checksums, strict):
    """Check dtype, shapes and checksums; return the arrays as C-order uint8.

    ``origins`` is the file or URL the arrays came from, or a dict giving one
    per array, so that errors name the culprit.
    """
    if not isinstance(origins, dict):
        origins = dict.fromkeys(_KEYS, origins)
    out = {key: _as_uint8(key, arrays[key], origins[key]) for key in _KEYS}

    for subset in ("train", "test"):
        x, y = out[f"x_{subset}"], out[f"y_{subset}"]
        if x.ndim == 2 and x.shape[1] == _IMAGE_SHAPE[0] * _IMAGE_SHAPE[1]:
            x = out[f"x_{subset}"] = x.reshape(-1, *_IMAGE_SHAPE)
        if x.ndim != 3 or x.shape[1:] != _IMAGE_SHAPE:
            raise MNISTIntegrityError(
                f"{origins[f'x_{subset}']}: x_{subset} has shape {x.shape}, "
                f"expected (n_samples, 28, 28)"
            )
        if y.ndim != 1 or len(y) != len(x):
            raise MNISTIntegrityError(
                f"{origins[f'y_{subset}']}: y_{subset} has shape {y.shape}, "
                f"expected ({len(x)},) to match x_{subset}"
            )
        if strict and len(x) != _N_SAMPLES[subset]:
            raise MNISTIntegrityError(
                f"{origins[f'x_{subset}']}: {len(x)} {subset} images, expected "
                f"{_N_SAMPLES[subset]}"
            )

    for key, expected in checksums.items():
        digest = hashlib.sha256(out[key].tobytes()).hexdigest()
        if digest != expected:
            raise MNISTIntegrityError(
                f"{origins[key]}: {key} has SHA-256 {digest}, expected {expected}; "
                "the file is corrupted or is not the standard MNIST"
            )
    return out


def _as_uint8(key, a, origin):
    """Return ``a`` as C-order uint8, accepting other integer dtypes in 0-255."""
    if a.dtype != np.uint8:
        if a.dtype.kind not in "iu":
            raise MNISTIntegrityError(
                f"{origin}: {key} has dtype {a.dtype}, expected uint8"
            )
        if a.size and (a.min() < 0 or a.max() > 255):
            raise MNISTIntegrityError(
                f"{origin}: {key} has values outside 0-255 ({a.min()} to {a.max()})"
            )
        a = a.astype(np.uint8)
    return np.ascontiguousarray(a)
