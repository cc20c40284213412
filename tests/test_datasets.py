"""Tests of sklearn_backprop.datasets.load_mnist.

Apart from the one test on the real data, everything runs on small synthetic
MNIST-like arrays written in each supported format, with their own checksums
passed through the private ``_checksums`` keyword, and downloads come from a
local HTTP server. HOME, KERAS_HOME and SCIKIT_LEARN_DATA point into tmp_path,
so nothing touches the real home directory or scikit-learn data home.
"""

import gzip
import hashlib
import http.server
import io
import re
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from sklearn_backprop import datasets
from sklearn_backprop.datasets import (
    MNIST_ENV_VAR,
    MNIST_URL,
    MNISTIntegrityError,
    MNISTNotFoundError,
    load_mnist,
)

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


# --------------------------------------------------------------------------
# Synthetic data and writers


def make_fake():
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=50, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=20, dtype=np.uint8),
    }


def checksums_of(arrays):
    return {k: hashlib.sha256(a.tobytes()).hexdigest() for k, a in arrays.items()}


FAKE = make_fake()
FAKE_SUMS = checksums_of(FAKE)


def npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def write_npz(path, arrays=FAKE):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(npz_bytes(arrays))
    return path


def idx_bytes(a):
    header = struct.pack(">HBB", 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + a.tobytes()


def write_idx(directory, arrays=FAKE, gz=False, dotted=False):
    directory.mkdir(parents=True, exist_ok=True)
    for key, name in IDX_NAMES.items():
        if dotted:
            name = name.replace("-idx", ".idx")
        data = idx_bytes(arrays[key])
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return directory


def write_csv(directory, arrays=FAKE, header=False):
    directory.mkdir(parents=True, exist_ok=True)
    for subset in ("train", "test"):
        x, y = arrays[f"x_{subset}"], arrays[f"y_{subset}"]
        table = np.column_stack([y, x.reshape(len(x), -1)])
        head = "label," + ",".join(
            f"{i}x{j}" for i in range(1, 29) for j in range(1, 29)
        )
        np.savetxt(
            directory / f"mnist_{subset}.csv",
            table,
            fmt="%d",
            delimiter=",",
            header=head if header else "",
            comments="",
        )
    return directory


def assert_fake(result, arrays=FAKE):
    X_train, X_test, y_train, y_test = result
    assert X_train.dtype == X_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64
    np.testing.assert_array_equal(X_train, arrays["x_train"].reshape(-1, 784))
    np.testing.assert_array_equal(X_test, arrays["x_test"].reshape(-1, 784))
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def files_in(directory):
    """Every file below ``directory``, hidden temporary files included."""
    return sorted(p.name for p in Path(directory).rglob("*") if p.is_file())


# --------------------------------------------------------------------------
# Fixtures


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, request):
    """Point every location load_mnist looks at into tmp_path."""
    if request.node.get_closest_marker("mnist") is None:
        monkeypatch.delenv(MNIST_ENV_VAR, raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_data"))
    # The test server is local: keep any configured proxy out of the way.
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(datasets, "_DOWNLOAD_TIMEOUT", 5.0)


@pytest.fixture
def data_home(tmp_path):
    return tmp_path / "data_home"


@pytest.fixture
def cache_dir(data_home):
    return data_home / "mnist"


class _Handler(http.server.BaseHTTPRequestHandler):
    # server.routes maps a path to (mode, body); mode is "ok", "truncate"
    # (announce the full length, send half, close) or an HTTP error status.
    def do_GET(self):
        self.server.hits.append(self.path)
        mode, body = self.server.routes.get(self.path, (404, b""))
        if isinstance(mode, int):
            self.send_error(mode)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if mode == "ok" else body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format, *args):
        pass


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1; ``server.url(path)`` gives a URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.routes = {}
    httpd.hits = []
    port = httpd.server_address[1]
    httpd.url = lambda path: f"http://127.0.0.1:{port}{path}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def dead_url():
    """A URL on a port nobody listens on, so connecting fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist.npz"


# --------------------------------------------------------------------------
# Local files


LAYOUTS = {
    "npz": lambda d: write_npz(d / "fake.npz"),
    "npz-directory": lambda d: write_npz(d / "mnist.npz").parent,
    "npz-int64-labels": lambda d: write_npz(
        d / "fake.npz",
        {**FAKE, "y_train": FAKE["y_train"].astype(np.int64)},
    ),
    "idx": lambda d: write_idx(d),
    "idx-gz": lambda d: write_idx(d, gz=True),
    "idx-dotted-names": lambda d: write_idx(d, dotted=True),
    "idx-one-file-named": lambda d: write_idx(d) / IDX_NAMES["x_test"],
    "csv": lambda d: write_csv(d),
    "csv-header": lambda d: write_csv(d, header=True),
    "csv-file-named": lambda d: write_csv(d, header=True) / "mnist_train.csv",
}


@pytest.mark.parametrize("via", ["env", "path"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_reads_local_layouts(
    layout, via, tmp_path, data_home, cache_dir, dead_url, monkeypatch
):
    source = LAYOUTS[layout](tmp_path / "src")
    kwargs = {}
    if via == "env":
        monkeypatch.setenv(MNIST_ENV_VAR, str(source))
    else:
        kwargs["path"] = source
    result = load_mnist(
        data_home=data_home, _url=dead_url, _checksums=FAKE_SUMS, **kwargs
    )
    assert_fake(result)

    if layout.startswith("npz"):
        # An npz is read in place: copying it would not make reading faster.
        assert files_in(data_home) == []
    else:
        if via == "env":
            monkeypatch.delenv(MNIST_ENV_VAR)
        # IDX and CSV are converted once; the cache then serves on its own.
        assert files_in(cache_dir) == ["mnist.npz"]
        again = load_mnist(
            data_home=data_home, download_if_missing=False, _checksums=FAKE_SUMS
        )
        assert_fake(again)


def test_path_takes_precedence_over_env_var(tmp_path, data_home, monkeypatch):
    monkeypatch.setenv(MNIST_ENV_VAR, str(tmp_path / "does-not-exist"))
    result = load_mnist(
        data_home=data_home,
        path=write_idx(tmp_path / "idx"),
        download_if_missing=False,
        _checksums=FAKE_SUMS,
    )
    assert_fake(result)


def test_scale_gives_float32_in_unit_interval(tmp_path, data_home):
    X_train, X_test, y_train, y_test = load_mnist(
        data_home=data_home,
        path=write_npz(tmp_path / "fake.npz"),
        scale=True,
        _checksums=FAKE_SUMS,
    )
    assert X_train.dtype == X_test.dtype == np.float32
    assert X_train.min() >= 0 and X_train.max() <= 1
    np.testing.assert_allclose(X_train * 255, FAKE["x_train"].reshape(-1, 784))
    np.testing.assert_allclose(X_test * 255, FAKE["x_test"].reshape(-1, 784))
    np.testing.assert_array_equal(y_train, FAKE["y_train"])
    np.testing.assert_array_equal(y_test, FAKE["y_test"])


def test_default_data_home_is_sklearns(tmp_path, monkeypatch):
    monkeypatch.setenv(MNIST_ENV_VAR, str(write_idx(tmp_path / "idx")))
    load_mnist(download_if_missing=False, _checksums=FAKE_SUMS)
    assert files_in(tmp_path / "sklearn_data") == ["mnist.npz"]
    assert (tmp_path / "sklearn_data" / "mnist" / "mnist.npz").is_file()


def test_cache_is_read_before_other_sources(tmp_path, data_home, server):
    write_npz(data_home / "mnist" / "mnist.npz")
    # Every later source is broken or would count: none of them may be used.
    server.routes["/mnist.npz"] = ("ok", b"garbage")
    keras_home = tmp_path / "keras"
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "mnist.npz").write_bytes(b"garbage")
    result = load_mnist(
        data_home=data_home,
        path=tmp_path / "does-not-exist",
        _url=server.url("/mnist.npz"),
        _checksums=FAKE_SUMS,
    )
    assert_fake(result)
    assert server.hits == []


def test_full_size_is_enforced_with_the_real_checksums(tmp_path, data_home):
    # Without _checksums the MNIST sample counts are required.
    fake = write_npz(tmp_path / "fake.npz")
    with pytest.raises(MNISTIntegrityError, match=r"50 train images, expected 60000"):
        load_mnist(data_home=data_home, path=fake)


# --------------------------------------------------------------------------
# Corrupted or incomplete local files


def _flip_pixel(d):
    x = FAKE["x_train"].copy()
    x[3, 14, 14] ^= 0xFF
    return write_npz(d / "flipped.npz", {**FAKE, "x_train": x}), "x_train has SHA-256"


def _truncated_npz(d):
    path = write_npz(d / "truncated.npz")
    path.write_bytes(path.read_bytes()[:3000])
    return path, "not a readable npz"


def _not_npz(d):
    path = d / "mnist.npz"
    path.parent.mkdir(parents=True)
    path.write_text("this is not MNIST\n")
    return path, "not an npz"


def _npz_missing_array(d):
    arrays = {k: v for k, v in FAKE.items() if k != "y_test"}
    return write_npz(d / "partial.npz", arrays), "lacks the arrays y_test"


def _truncated_idx(d):
    write_idx(d)
    path = d / IDX_NAMES["x_test"]
    path.write_bytes(path.read_bytes()[:-10])
    return path, "truncated"


def _corrupted_idx_labels(d):
    write_idx(d)
    path = d / IDX_NAMES["y_train"]
    data = bytearray(path.read_bytes())
    data[-1] = (data[-1] + 1) % 10
    path.write_bytes(bytes(data))
    return path, "y_train has SHA-256"


def _truncated_idx_gz(d):
    write_idx(d, gz=True)
    path = d / (IDX_NAMES["x_train"] + ".gz")
    path.write_bytes(path.read_bytes()[:-20])
    return path, "cannot be read"


def _ragged_csv(d):
    write_csv(d)
    path = d / "mnist_test.csv"
    with open(path, "a") as f:
        f.write("3,0,0,0\n")
    return path, "not a valid MNIST CSV"


def _csv_pixel_out_of_range(d):
    write_csv(d)
    path = d / "mnist_train.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",300"
    path.write_text("\n".join(lines) + "\n")
    return path, "values outside 0-255"


CORRUPTIONS = [
    _flip_pixel,
    _truncated_npz,
    _not_npz,
    _npz_missing_array,
    _truncated_idx,
    _corrupted_idx_labels,
    _truncated_idx_gz,
    _ragged_csv,
    _csv_pixel_out_of_range,
]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__[1:])
def test_corrupted_local_file_is_reported_and_not_cached(
    corrupt, tmp_path, data_home, cache_dir, server
):
    bad_file, problem = corrupt(tmp_path / "src")
    source = bad_file if bad_file.suffix == ".npz" else bad_file.parent
    with pytest.raises(MNISTIntegrityError) as excinfo:
        load_mnist(
            data_home=data_home,
            path=source,
            _url=server.url("/mnist.npz"),
            _checksums=FAKE_SUMS,
        )
    message = str(excinfo.value)
    assert str(bad_file) in message
    assert problem in message
    assert isinstance(excinfo.value, ValueError)
    assert files_in(data_home) == []
    # An explicitly given bad file is an error, not a reason to download.
    assert server.hits == []


def test_corrupted_cache_is_removed_and_refetched(tmp_path, data_home, cache_dir):
    cache_dir.mkdir(parents=True)
    (cache_dir / "mnist.npz").write_bytes(b"PK\x03\x04 truncated zip")
    source = write_idx(tmp_path / "idx")
    with pytest.warns(UserWarning, match="corrupted MNIST cache.*mnist.npz"):
        result = load_mnist(data_home=data_home, path=source, _checksums=FAKE_SUMS)
    assert_fake(result)
    # The cache was rewritten from the IDX files and now verifies.
    result = load_mnist(
        data_home=data_home, download_if_missing=False, _checksums=FAKE_SUMS
    )
    assert_fake(result)


def test_missing_path_is_an_error_not_a_download(
    tmp_path, data_home, server, monkeypatch
):
    missing = tmp_path / "nowhere" / "mnist.npz"
    monkeypatch.setenv(MNIST_ENV_VAR, str(missing))
    with pytest.raises(MNISTNotFoundError) as excinfo:
        load_mnist(data_home=data_home, _url=server.url("/mnist.npz"))
    assert str(missing) in str(excinfo.value)
    assert MNIST_ENV_VAR in str(excinfo.value)
    assert isinstance(excinfo.value, OSError)
    assert server.hits == []


def test_incomplete_idx_directory_names_missing_files(tmp_path, data_home):
    source = write_idx(tmp_path / "idx")
    (source / IDX_NAMES["y_test"]).unlink()
    with pytest.raises(MNISTNotFoundError, match=IDX_NAMES["y_test"]):
        load_mnist(data_home=data_home, path=source, _checksums=FAKE_SUMS)


def test_lone_csv_file_names_its_missing_sibling(tmp_path, data_home):
    source = write_csv(tmp_path / "csv")
    (source / "mnist_test.csv").unlink()
    with pytest.raises(MNISTNotFoundError, match="lacks mnist_test.csv"):
        load_mnist(
            data_home=data_home,
            path=source / "mnist_train.csv",
            _checksums=FAKE_SUMS,
        )


# --------------------------------------------------------------------------
# Keras cache


@pytest.mark.parametrize("where", ["KERAS_HOME", "HOME"])
def test_keras_cache_is_used(where, tmp_path, data_home, monkeypatch, server):
    if where == "KERAS_HOME":
        keras_home = tmp_path / "keras_home"
        monkeypatch.setenv("KERAS_HOME", str(keras_home))
    else:
        keras_home = tmp_path / "home" / ".keras"
    write_npz(keras_home / "datasets" / "mnist.npz")
    result = load_mnist(
        data_home=data_home, _url=server.url("/mnist.npz"), _checksums=FAKE_SUMS
    )
    assert_fake(result)
    assert server.hits == []


def test_keras_cache_can_be_ignored(tmp_path, data_home, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    write_npz(tmp_path / "keras_home" / "datasets" / "mnist.npz")
    with pytest.raises(MNISTNotFoundError, match=r"keras_cache=False"):
        load_mnist(
            data_home=data_home,
            keras_cache=False,
            download_if_missing=False,
            _checksums=FAKE_SUMS,
        )


def test_corrupted_keras_cache_is_skipped_with_a_warning(
    tmp_path, data_home, monkeypatch, server
):
    keras_file = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    x = FAKE["x_test"].copy()
    x[0, 0, 0] ^= 1
    write_npz(keras_file, {**FAKE, "x_test": x})
    server.routes["/mnist.npz"] = ("ok", npz_bytes(FAKE))
    with pytest.warns(UserWarning, match="Keras MNIST cache"):
        result = load_mnist(
            data_home=data_home, _url=server.url("/mnist.npz"), _checksums=FAKE_SUMS
        )
    assert_fake(result)
    assert server.hits == ["/mnist.npz"]
    assert keras_file.is_file()  # not ours to delete


# --------------------------------------------------------------------------
# Download


def test_good_download_is_cached_and_reused(data_home, cache_dir, server):
    body = npz_bytes(FAKE)
    server.routes["/mnist.npz"] = ("ok", body)
    url = server.url("/mnist.npz")
    assert_fake(load_mnist(data_home=data_home, _url=url, _checksums=FAKE_SUMS))
    assert server.hits == ["/mnist.npz"]
    # Only the final file: the temporary one was renamed onto it.
    assert files_in(data_home) == ["mnist.npz"]
    assert (cache_dir / "mnist.npz").read_bytes() == body

    assert_fake(load_mnist(data_home=data_home, _url=url, _checksums=FAKE_SUMS))
    assert server.hits == ["/mnist.npz"]


def _label_changed():
    y = FAKE["y_test"].copy()
    y[5] = (y[5] + 1) % 10
    return npz_bytes({**FAKE, "y_test": y}), "y_test has SHA-256"


@pytest.mark.parametrize(
    "make_body",
    [_label_changed, lambda: (b"<html>not found</html>", "not an npz")],
    ids=["checksum-mismatch", "not-npz"],
)
def test_corrupted_download_is_not_cached(make_body, data_home, server):
    body, problem = make_body()
    server.routes["/mnist.npz"] = ("ok", body)
    url = server.url("/mnist.npz")
    with pytest.raises(MNISTIntegrityError) as excinfo:
        load_mnist(data_home=data_home, _url=url, _checksums=FAKE_SUMS)
    message = str(excinfo.value)
    assert url in message
    assert problem in message
    assert "nothing was cached" in message
    assert files_in(data_home) == []


def test_interrupted_download_is_not_cached(data_home, server):
    server.routes["/mnist.npz"] = ("truncate", npz_bytes(FAKE))
    url = server.url("/mnist.npz")
    with pytest.raises(MNISTNotFoundError, match=r"interrupted after \d+ of \d+ bytes"):
        load_mnist(data_home=data_home, _url=url, _checksums=FAKE_SUMS)
    assert server.hits == ["/mnist.npz"]
    assert files_in(data_home) == []  # no cache and no temporary file


def test_server_error_is_reported(data_home, server):
    server.routes["/mnist.npz"] = (500, b"")
    url = server.url("/mnist.npz")
    with pytest.raises(OSError, match=rf"{re.escape(url)} failed \(HTTP 500 "):
        load_mnist(data_home=data_home, _url=url, _checksums=FAKE_SUMS)
    assert files_in(data_home) == []


@pytest.mark.parametrize("reachable", [True, False], ids=["http-500", "refused"])
def test_failed_download_leaves_no_empty_folder(data_home, server, dead_url, reachable):
    """The cache folders a failed download created are removed again; a
    folder that existed before is kept."""
    server.routes["/mnist.npz"] = (500, b"")
    url = server.url("/mnist.npz") if reachable else dead_url
    with pytest.raises(MNISTNotFoundError):
        load_mnist(data_home=data_home, _url=url, _checksums=FAKE_SUMS)
    assert not data_home.exists()
    data_home.mkdir()
    with pytest.raises(MNISTNotFoundError):
        load_mnist(data_home=data_home, _url=url, _checksums=FAKE_SUMS)
    assert data_home.is_dir() and not (data_home / "mnist").exists()


def test_offline_with_nothing_says_what_was_tried(tmp_path, data_home, dead_url):
    with pytest.raises(MNISTNotFoundError) as excinfo:
        load_mnist(data_home=data_home, _url=dead_url)
    message = str(excinfo.value)
    assert isinstance(excinfo.value, OSError)
    for tried in [
        str(data_home / "mnist" / "mnist.npz"),
        MNIST_ENV_VAR,
        str(tmp_path / "home" / ".keras" / "datasets" / "mnist.npz"),
        dead_url,
        "path=",
    ]:
        assert tried in message
    # One sentence: what was tried, then how to provide the file.
    assert message.count(". ") == 0 and message.endswith(".")
    assert files_in(data_home) == []


def test_no_download_when_not_allowed(data_home, server):
    url = server.url("/mnist.npz")
    server.routes["/mnist.npz"] = ("ok", npz_bytes(FAKE))
    with pytest.raises(MNISTNotFoundError, match=r"download_if_missing=False"):
        load_mnist(
            data_home=data_home,
            download_if_missing=False,
            _url=url,
            _checksums=FAKE_SUMS,
        )
    assert server.hits == []


def test_default_url_is_the_keras_one():
    assert MNIST_URL == (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    )


# --------------------------------------------------------------------------
# The real data


@pytest.mark.mnist
def test_real_mnist(tmp_path):
    # Read through SKLEARN_BACKPROP_MNIST (set by CI, defaulted by conftest.py).
    X_train, X_test, y_train, y_test = load_mnist(data_home=tmp_path, scale=True)
    assert X_train.shape == (60000, 784)
    assert X_test.shape == (10000, 784)
    assert y_train.shape == (60000,)
    assert y_test.shape == (10000,)
    assert X_train.dtype == X_test.dtype == np.float32
    assert X_train.min() == 0 and X_train.max() == 1
    assert X_test.min() == 0 and X_test.max() == 1
    np.testing.assert_allclose(X_train.mean() * 255, 33.318421, atol=1e-3)
    np.testing.assert_array_equal(y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(y_test[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    np.testing.assert_array_equal(
        np.bincount(y_train),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    )
    np.testing.assert_array_equal(
        np.bincount(y_test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
