"""GPU benchmark (issue 12): ``python benchmarks/run.py --device cuda``.

Measures, side by side in one run, the time of one MNIST epoch (60 000 x 784,
float32, a 784-256-10 logistic network, Nesterov SGD, minibatches of 100 and
of 1000) for:

* ours on PyTorch CUDA tensors and on CuPy arrays (``BackpropMLPClassifier``
  under scikit-learn's ``array_api_dispatch``; one ``partial_fit`` per epoch);
* the plain CuPy port of the NumPy minibatch loop (what a user would write by
  hand, the issue's first anchor);
* PyTorch eager with the same model, loss and update (the second anchor);
* the floor: the five matrix products of each minibatch step alone;

and how long ``fit`` with the default hyperparameters takes on PyTorch CUDA
tensors, with its test accuracy (4 seeds).

The file is laid out in three parts: contenders (one class each, sharing
``setup(X, y)`` / ``epoch()``: a new contender, say JAX, is one class and one
line of ``CONTENDERS``), measurements, and the report with the issue's targets.
``--device cpu`` runs the same code with PyTorch on the CPU and the plain loop
on NumPy (into ``gpu-on-cpu.json`` and ``gpu-on-cpu.md``); with ``--quick``, on
3 000 rows: a dry run that checks the script on a machine without a GPU (the
test suite runs it so), not a measurement.
"""

import datetime
import importlib
import json
import platform
import statistics
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np

N_HIDDEN = 256
N_CLASSES = 10
BATCH_SIZES = (100, 1000)
# A constant step for every contender in the timed epochs (the classifier's
# default before its one-cycle schedule, which changes no work of an epoch).
LEARNING_RATE = 0.1
MOMENTUM = 0.9
# No L2 penalty: the other contenders have none, so that all do the same work.
SGD_CONFIG = dict(
    solver="sgd",
    activation="logistic",
    hidden_layer_sizes=(N_HIDDEN,),
    alpha=0.0,
    learning_rate="constant",
    learning_rate_init=LEARNING_RATE,
)

# Targets of issue 12 (one H100 or H200; apply to --device cuda only).
TARGET_EPOCH_B100 = 0.10  # seconds
TARGET_VS_PLAIN_LOOP_B100 = 3.0  # times faster than the plain CuPy loop
TARGET_VS_TORCH_EAGER_B100 = 7.0  # times faster than PyTorch eager
TARGET_EPOCH_B1000 = 0.02  # seconds
TARGET_DEFAULTS_ACCURACY = 0.980
TARGET_DEFAULTS_FIT_SECONDS = 3.0
DEFAULTS_SEEDS = (0, 1, 2, 3)

MODES = {
    "full": dict(reps=7, rows=None, defaults_seeds=DEFAULTS_SEEDS),
    "quick": dict(reps=3, rows=None, defaults_seeds=DEFAULTS_SEEDS[:1]),
    # The dry run on a CPU: a few thousand rows, one seed, two repetitions.
    "dry-run": dict(reps=2, rows=3000, defaults_seeds=DEFAULTS_SEEDS[:1]),
}


# ----------------------------------------------------------------------
# Array libraries: where a contender's arrays live
# ----------------------------------------------------------------------
class Library:
    """An array library on a device: moving NumPy data there, and waiting
    for its queued work (the timer must not stop before the GPU does)."""

    def __init__(self, name, device):
        self.name, self.device = name, device
        try:
            self.module, self.missing = importlib.import_module(name), None
        except ImportError as exc:  # its contenders are reported as not run
            self.module, self.missing = None, f"{name} is not importable ({exc})"

    @property
    def label(self):
        return f"{self.name} {self.device}" if self.device else self.name

    def asarray(self, values):
        if self.name == "torch":
            return self.module.asarray(values, device=self.device)
        return self.module.asarray(values)

    def synchronize(self):
        if self.name == "torch" and self.device.startswith("cuda"):
            self.module.cuda.synchronize()
        elif self.name == "cupy":
            self.module.cuda.get_current_stream().synchronize()


def libraries(device):
    """The libraries of a run: PyTorch on ``device``; CuPy on CUDA, NumPy
    (standing in for CuPy in the plain loop) on the CPU."""
    found = {"torch": Library("torch", device)}
    found["plain"] = Library("cupy" if device == "cuda" else "numpy", None)
    return found


# ----------------------------------------------------------------------
# Contenders
# ----------------------------------------------------------------------
class Ours:
    """``BackpropMLPClassifier`` on the library's arrays, one ``partial_fit``
    (one shuffled epoch) per call, labels on the host."""

    def __init__(self, library, batch_size, seed=0):
        from sklearn_backprop import BackpropMLPClassifier

        self.library = library
        self.model = BackpropMLPClassifier(
            **SGD_CONFIG, batch_size=batch_size, random_state=seed
        )

    def setup(self, X, y):
        self.X, self.y = self.library.asarray(X), y

    def epoch(self):
        from sklearn import config_context

        with config_context(array_api_dispatch=True):
            self.model.partial_fit(self.X, self.y, classes=np.arange(N_CLASSES))


class PlainLoop:
    """The NumPy minibatch loop of the teaching notebook, ported line by line
    to CuPy (NumPy on the CPU dry run): sigmoid units, sigmoid outputs with
    binary cross-entropy (output delta a - y), Nesterov momentum, batch order
    shuffled on the device."""

    def __init__(self, library, batch_size, seed=0):
        self.library, self.xp = library, library.module
        self.batch_size = batch_size
        rng = np.random.default_rng(seed)
        shapes = [(784, N_HIDDEN), (N_HIDDEN,), (N_HIDDEN, N_CLASSES), (N_CLASSES,)]
        bounds = [4 * np.sqrt(6 / (784 + N_HIDDEN)), 0, 4 * np.sqrt(6 / 266), 0]
        self.params = [
            library.asarray(rng.uniform(-b, b, s).astype(np.float32))
            for s, b in zip(shapes, bounds)
        ]
        self.velocity = [self.xp.zeros_like(p) for p in self.params]

    def setup(self, X, y):
        self.X = self.library.asarray(X)
        self.Y = self.library.asarray(np.eye(N_CLASSES, dtype=np.float32)[y])

    def epoch(self):
        xp = self.xp
        W1, b1, W2, b2 = self.params
        n = self.X.shape[0]
        order = xp.random.permutation(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            Xb, Yb = self.X[rows], self.Y[rows]
            m = Xb.shape[0]
            # Nesterov: the gradient at the look-ahead point theta + mu v.
            ahead = [p + MOMENTUM * v for p, v in zip(self.params, self.velocity)]
            A1 = 1 / (1 + xp.exp(-(Xb @ ahead[0] + ahead[1])))
            A2 = 1 / (1 + xp.exp(-(A1 @ ahead[2] + ahead[3])))
            D2 = (A2 - Yb) / m  # delta_out = a - y (sigmoid with cross-entropy)
            D1 = (D2 @ ahead[2].T) * A1 * (1 - A1)
            grads = [Xb.T @ D1, D1.sum(axis=0), A1.T @ D2, D2.sum(axis=0)]
            for p, v, g in zip(self.params, self.velocity, grads):
                v *= MOMENTUM
                v -= LEARNING_RATE * g
                p += v


class TorchEager:
    """PyTorch eager: Linear-Sigmoid-Linear, ``BCEWithLogitsLoss`` on one-hot
    targets, ``torch.optim.SGD(lr=0.1, momentum=0.9, nesterov=True)``, each
    epoch's order from ``torch.randperm`` on the device."""

    def __init__(self, library, batch_size, seed=0):
        torch = self.torch = library.module
        self.library, self.batch_size = library, batch_size
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(784, N_HIDDEN),
            torch.nn.Sigmoid(),
            torch.nn.Linear(N_HIDDEN, N_CLASSES),
        ).to(library.device)
        self.criterion = torch.nn.BCEWithLogitsLoss(reduction="sum")
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, nesterov=True
        )

    def setup(self, X, y):
        torch = self.torch
        self.X = self.library.asarray(X)
        labels = self.library.asarray(np.asarray(y, dtype=np.int64))
        self.Y = torch.nn.functional.one_hot(labels, N_CLASSES).to(torch.float32)

    def epoch(self):
        torch = self.torch
        n = self.X.shape[0]
        order = torch.randperm(n, device=self.library.device)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            Xb, Yb = self.X[rows], self.Y[rows]
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.criterion(self.model(Xb), Yb) / Xb.shape[0]
            loss.backward()
            self.optimizer.step()


class MatmulFloor:
    """The five matrix products of each minibatch step, into preallocated
    buffers, on contiguous rows: X_b W1, A1 W2, A1^T D2, D2 W2^T, X_b^T D1.
    Nothing else: the time no implementation of this loop can beat."""

    def __init__(self, library, batch_size, seed=0):
        self.library, self.batch_size = library, batch_size
        rng = np.random.default_rng(seed)

        def buffer(*shape, scale=1.0):
            values = scale * rng.standard_normal(shape)
            return library.asarray(values.astype(np.float32))

        b = batch_size
        self.W1, self.W2 = buffer(784, N_HIDDEN, scale=0.1), buffer(N_HIDDEN, 10)
        self.A1, self.A2 = buffer(b, N_HIDDEN), buffer(b, N_CLASSES)
        self.D1, self.D2 = buffer(b, N_HIDDEN, scale=1e-3), buffer(b, 10, scale=1e-2)
        self.G1, self.G2 = buffer(784, N_HIDDEN), buffer(N_HIDDEN, N_CLASSES)

    def setup(self, X, y):
        self.X = self.library.asarray(X)

    def epoch(self):
        matmul = self.library.module.matmul
        n, b = self.X.shape[0], self.batch_size
        for start in range(0, n - b + 1, b):
            Xb = self.X[start : start + b]
            matmul(Xb, self.W1, out=self.A1)
            matmul(self.A1, self.W2, out=self.A2)
            matmul(self.A1.T, self.D2, out=self.G2)
            matmul(self.D2, self.W2.T, out=self.D1)
            matmul(Xb.T, self.D1, out=self.G1)


# name -> (label template, contender class, library key)
CONTENDERS = {
    "ours_torch": ("ours, {torch} tensors", Ours, "torch"),
    "ours_plain": ("ours, {plain} arrays", Ours, "plain"),
    "plain_loop": ("plain {plain} loop", PlainLoop, "plain"),
    "torch_eager": ("PyTorch eager ({torch})", TorchEager, "torch"),
    "floor": ("matrix products alone ({torch})", MatmulFloor, "torch"),
}


# ----------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------
def _timed_epoch(contender):
    contender.library.synchronize()
    start = time.perf_counter()
    contender.epoch()
    contender.library.synchronize()
    return time.perf_counter() - start


def bench_epochs(X, y, libs, reps):
    """Seconds per epoch, per batch size and contender: one warm-up epoch
    each (kernels compiled, memory pools filled), then ``reps`` epochs,
    interleaved contender by contender and rotated every repetition."""
    results = {}
    for batch_size in BATCH_SIZES:
        contenders, errors = {}, {}
        for name, (_, cls, lib_key) in CONTENDERS.items():
            if libs[lib_key].missing:
                errors[name] = libs[lib_key].missing
                continue
            try:
                contender = cls(libs[lib_key], batch_size)
                contender.setup(X, y)
                _timed_epoch(contender)  # warm-up
            except Exception as exc:  # a broken contender loses only its row
                errors[name] = f"{type(exc).__name__}: {exc}"
                continue
            contenders[name] = contender
        times = {name: [] for name in contenders}
        names = list(contenders)
        for rep in range(reps):
            shift = rep % max(len(names), 1)
            for name in names[shift:] + names[:shift]:
                times[name].append(_timed_epoch(contenders[name]))
        results[batch_size] = {
            "seconds": times,
            "median": {name: statistics.median(t) for name, t in times.items()},
            "errors": errors,
        }
    return results


def bench_defaults(X, y, X_test, y_test, library, seeds):
    """``fit`` with the default hyperparameters on the library's arrays: the
    seconds and the test accuracy of each seed."""
    from sklearn import config_context
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_backprop import BackpropMLPClassifier
    from sklearn_backprop._array_api import to_numpy

    X_dev, X_test_dev = library.asarray(X), library.asarray(X_test)
    runs = []
    for seed in seeds:
        model = BackpropMLPClassifier(random_state=seed)
        with config_context(array_api_dispatch=True), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            library.synchronize()
            start = time.perf_counter()
            model.fit(X_dev, y)
            library.synchronize()
            seconds = time.perf_counter() - start
            predicted = to_numpy(model.predict(X_test_dev))
        runs.append(
            dict(
                seed=seed,
                seconds=seconds,
                epochs=model.n_iter_,
                accuracy=float(np.mean(predicted == y_test)),
            )
        )
    return runs


def environment(libs):
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for module in ("numpy", "scipy", "sklearn", "torch", "cupy"):
        try:
            info[module] = importlib.import_module(module).__version__
        except ImportError:
            info[module] = None
    torch = libs["torch"].module
    if libs["torch"].device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
        info["cuda"] = torch.version.cuda
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except OSError:
        info["commit"] = None
    return info


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
def _verdict(ok):
    return "PASS" if ok else "FAIL"


def evaluate_targets(results):
    """The issue's targets, each with its value and verdict (CUDA runs only)."""
    if results["device"] != "cuda":
        return []
    b100, b1000 = results["epochs"][100]["median"], results["epochs"][1000]["median"]
    targets = []

    def add(label, value, ok, note=""):
        targets.append(dict(label=label, value=value, verdict=_verdict(ok), note=note))

    ours = b100.get("ours_torch")
    if ours is not None:
        add(
            f"epoch at batch 100 <= {TARGET_EPOCH_B100} s",
            ours,
            ours <= TARGET_EPOCH_B100,
        )
        if "plain_loop" in b100:
            speedup = b100["plain_loop"] / ours
            add(
                f">= {TARGET_VS_PLAIN_LOOP_B100}x faster than the plain CuPy loop",
                speedup,
                speedup >= TARGET_VS_PLAIN_LOOP_B100,
            )
        if "torch_eager" in b100:
            speedup = b100["torch_eager"] / ours
            add(
                f">= {TARGET_VS_TORCH_EAGER_B100}x faster than PyTorch eager",
                speedup,
                speedup >= TARGET_VS_TORCH_EAGER_B100,
            )
    ours = b1000.get("ours_torch")
    if ours is not None:
        add(
            f"epoch at batch 1000 <= {TARGET_EPOCH_B1000} s",
            ours,
            ours <= TARGET_EPOCH_B1000,
        )
    runs = results.get("defaults") or []
    if runs:
        worst = min(r["accuracy"] for r in runs)
        slowest = max(r["seconds"] for r in runs)
        add(
            f"defaults >= {TARGET_DEFAULTS_ACCURACY:.1%} in <= "
            f"{TARGET_DEFAULTS_FIT_SECONDS} s of fit (worst of {len(runs)} seeds)",
            slowest,
            worst >= TARGET_DEFAULTS_ACCURACY
            and slowest <= TARGET_DEFAULTS_FIT_SECONDS,
            note=f"worst accuracy {worst:.4f}",
        )
    return targets


def render_markdown(results):
    libs, env = results["labels"], results["environment"]
    lines = [
        f"Device: {results['device']} ({env.get('gpu', 'CPU')}), mode "
        f"{results['mode']}, {results['rows']} training rows, commit "
        f"{env.get('commit')}, {env['date']}.",
        "",
        "| contender | epoch, batch 100 | epoch, batch 1000 "
        "| ours on torch, batch 100, is |",
        "| --- | --- | --- | --- |",
    ]
    b100 = results["epochs"][100]["median"]
    b1000 = results["epochs"][1000]["median"]
    ours = b100.get("ours_torch")
    for name, (label, _, _) in CONTENDERS.items():
        first = b100.get(name)
        second = b1000.get(name)
        relation = ""
        if ours is not None and first is not None and name != "ours_torch":
            relation = (
                f"{first / ours:.2f}x faster"
                if first >= ours
                else (f"{ours / first:.2f}x slower")
            )
        cells = [
            f"{first:.4f} s" if first is not None else "n/a",
            f"{second:.4f} s" if second is not None else "n/a",
        ]
        lines.append(
            f"| {label.format(**libs)} | {cells[0]} | {cells[1]} | {relation} |"
        )
    for batch_size in BATCH_SIZES:
        for name, error in results["epochs"][batch_size]["errors"].items():
            lines.append(f"\n{name} at batch {batch_size} did not run: {error}")
    runs = results.get("defaults") or []
    if runs:
        lines += [
            "",
            f"Default hyperparameters, `fit` on {libs['torch']} tensors:",
            "",
            "| seed | fit | epochs | test accuracy |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r['seed']} | {r['seconds']:.2f} s | {r['epochs']} "
            f"| {r['accuracy']:.4f} |"
            for r in runs
        ]
    if results["targets"]:
        lines += [
            "",
            "| target | value | verdict | note |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {t['label']} | {t['value']:.4g} | {t['verdict']} | {t['note']} |"
            for t in results["targets"]
        ]
    elif results["device"] != "cuda":
        lines += ["", "On the CPU: the issue's targets apply to CUDA only."]
    return "\n".join(lines) + "\n"


def run(device="cuda", mode="full", output=None, data=None):
    """Measure, write ``gpu.json`` and ``gpu.md`` (``gpu-on-cpu.*`` for a
    CPU run) into ``output``, and return the results (``results["errors"]``
    names the contenders that did not run)."""
    if device not in ("cuda", "cpu"):
        raise SystemExit(f"--device takes 'cuda' or 'cpu'; got {device!r}")
    cfg = MODES["dry-run" if device == "cpu" and mode == "quick" else mode]
    X, X_test, y, y_test = data if data is not None else _load_mnist()
    if cfg["rows"]:
        X, y, X_test, y_test = X[: cfg["rows"]], y[: cfg["rows"]], X_test, y_test
    libs = libraries(device)
    if libs["torch"].missing:
        raise SystemExit(f"the GPU benchmark needs PyTorch: {libs['torch'].missing}")
    if device == "cuda" and not libs["torch"].module.cuda.is_available():
        raise SystemExit("--device cuda: PyTorch sees no CUDA device")
    results = {
        "device": device,
        "mode": mode,
        "rows": int(X.shape[0]),
        "labels": {key: lib.label for key, lib in libs.items()},
        "environment": environment(libs),
    }
    results["epochs"] = bench_epochs(X, y, libs, cfg["reps"])
    results["defaults"] = bench_defaults(
        X, y, X_test, y_test, libs["torch"], cfg["defaults_seeds"]
    )
    results["targets"] = evaluate_targets(results)
    results["errors"] = {
        f"{name} at batch {batch_size}": error
        for batch_size, epochs in results["epochs"].items()
        for name, error in epochs["errors"].items()
    }
    markdown = render_markdown(results)
    if output is not None:
        output = Path(output)
        output.mkdir(parents=True, exist_ok=True)
        stem = "gpu" if device == "cuda" else "gpu-on-cpu"
        (output / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
        (output / f"{stem}.md").write_text(f"## GPU results\n\n{markdown}")
    print(markdown)
    return results


def _load_mnist():
    from run import load_data  # beside this file: MNIST as every section reads it

    return load_data()
