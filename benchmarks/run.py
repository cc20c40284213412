"""Speed, memory and accuracy benchmark of sklearn_backprop (issue 4).

One command measures every target of issue 4 side by side in one process and
prints a Markdown table of the contenders and of each target's ratio and verdict:

    python benchmarks/run.py [--quick] [--no-torch] [--output benchmarks/results]

Contenders, all on MNIST (60 000 x 784 pixels / 255 in float32), a 784-256-10
logistic network and minibatches of 100:

* this package's ``BackpropMLPClassifier``;
* scikit-learn's ``MLPClassifier`` with the same configuration;
* PyTorch eager on the CPU (when importable and not ``--no-torch``);
* the "floor": the bare matrix products of one epoch, in preallocated buffers.

A regression section compares the test R² of ``BackpropMLPRegressor`` with
scikit-learn's ``MLPRegressor`` (same hyperparameters, same seeds) on
``make_friedman1`` and ``load_diabetes`` for the 'adam', 'lbfgs' and 'sgd'
solvers; ``--only regression`` runs it alone, into ``regression.json`` and
``regression.md``.

An out-of-core section (issue 13) trains the classifier for several epochs on
a lazily generated Dask array larger than memory with
``sklearn_backprop.dask.fit_out_of_core`` (and dask-ml's ``Incremental`` when
importable), each in a subprocess, against in-memory ``partial_fit``: rows per
second, peak RSS and test accuracy; ``--only out-of-core`` runs it alone, into
``out-of-core.json`` and ``out-of-core.md``.

A search section (issue 13) times one ``GridSearchCV`` over a pipeline with the
classifier with ``n_jobs=1``, joblib's loky, a Dask ``LocalCluster`` and Ray,
interleaved, and checks that each gives the results of ``n_jobs=1``;
``--only search`` runs it alone, into ``search.json`` and ``search.md``.

The machine is shared and noisy, so contenders are interleaved repetition by
repetition and the table shows medians; ratios compare numbers measured in the
same run. See benchmarks/README.md for what each measurement means.

Writes ``latest.json``, ``latest.md`` and ``scaling.png`` (``regression.json``
and ``regression.md`` for ``--only regression``) to the output directory and,
after a complete full run, the section of benchmarks/README.md between
``<!-- results:start -->`` and ``<!-- results:end -->``.
"""

import argparse
import contextlib
import datetime
import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
import traceback
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# Benchmark the working tree's package, whether or not it is installed.
sys.path.insert(0, str(REPO))

README = BENCH_DIR / "README.md"
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"

# The network and minibatch loop of every contender.
N_HIDDEN = 256
BATCH_SIZE = 100
SGD_CONFIG = dict(
    solver="sgd",
    activation="logistic",
    hidden_layer_sizes=(N_HIDDEN,),
    batch_size=BATCH_SIZE,
)
# Ours in the sections that time epochs or compare partial_fit loops (1, 3, 4,
# 5, out-of-core): the constant step of 0.1 of the committed reports. The
# one-cycle schedule of today's defaults leaves the work of an epoch as it is,
# but a partial_fit loop of another length than max_iter would cut its cycle
# short or restart it. Target 2 and time-to-98 measure the defaults.
CONSTANT_STEP = dict(learning_rate="constant", learning_rate_init=0.1)
OURS_SGD_CONFIG = dict(SGD_CONFIG, **CONSTANT_STEP)
N_FEATURES_SYNTHETIC = 784
N_CLASSES = 10

# Targets of issue 4, re-based by issue 11 on the machine's limit: the
# epoch's matrix products (and the two forward products for predict_proba),
# measured in the same run. Issue 4's 0.5x scikit-learn's epoch and
# predict_proba are withdrawn: they were set where scikit-learn ran 2.6x the
# floor, and would mean about 1.05x the floor where it runs 2.1x.
TARGET_EPOCH_VS_FLOOR = 1.3
TARGET_PREDICT_VS_FLOOR = 1.3
# "Ahead": ours' time over the faster of scikit-learn's and PyTorch eager's.
TARGET_AHEAD = 1.0
# No row regresses: ours' ratios to the floor at most this much above those
# of the committed report (results/latest.json), when that was measured on the
# same kind of CPU (ratios to the floor differ between CPUs: 1.68x on the AMD
# EPYC machine, about 2.6x on the Intel Xeon one, for the same code).
TARGET_NO_REGRESSION = 1.05
TARGET_ACCURACY = 0.980
AIM_ACCURACY = 0.982
TARGET_FIT_VS_SKLEARN_ADAM = 0.25
# Issue 11: the defaults' fit, over that of the defaults before it (20 epochs
# at a constant step 0.1), measured in the same run; and no ConvergenceWarning.
TARGET_FIT_VS_PREVIOUS = 0.5
PREVIOUS_DEFAULTS = dict(CONSTANT_STEP, max_iter=20)
TARGET_MEMORY_X_COPIES = 1.0
# "Flat per sample": the slowest size's time per sample over the fastest's.
TARGET_SCALING_FLATNESS = 1.3
# Regression: our median test R² minus scikit-learn's, per data set and solver.
TARGET_R2_VS_SKLEARN = -0.01

# Regression comparison: every contender gets the same parameters (the
# estimators' defaults otherwise: hidden (100,), relu, alpha 1e-4, batch
# 'auto', max_iter 200) and the same random_state, one fit per seed.
REGRESSION_SOLVERS = {
    "adam": {},
    "lbfgs": {},
    # sgd's default learning rate, 0.001, has not converged on friedman1 after
    # 200 epochs (test R² about 0.85-0.88); 0.01 converges in about 120.
    "sgd": {"learning_rate_init": 0.01},
}
REGRESSION_SPLIT = dict(test_size=0.25, random_state=0)

MODES = {
    "quick": dict(
        epoch_reps=3,
        thread_reps=2,
        predict_reps=7,
        default_fit_max_iter=3,  # target 2 capped: its verdicts are n/a
        default_fit_seeds=(0,),
        sizes=(10_000, 30_000, 100_000, 300_000),
        scaling_reps_small=2,
        scaling_reps_large=1,
        sklearn_max_size=30_000,
        memory_epochs=2,
        regression_seeds=3,
    ),
    "full": dict(
        epoch_reps=9,
        thread_reps=5,
        predict_reps=21,
        default_fit_max_iter=None,  # the estimators' own defaults
        default_fit_seeds=(0, 1, 2, 3),
        sizes=(10_000, 30_000, 100_000, 300_000, 1_000_000),
        scaling_reps_small=3,
        scaling_reps_large=2,
        sklearn_max_size=100_000,
        memory_epochs=2,
        regression_seeds=5,
    ),
}
# A 1-minute load average above this many processes per CPU delays --wait-idle;
# other processes using more than BUSY_CPUS CPUs on average mark a busy section.
BUSY_LOAD = 0.75
BUSY_CPUS = 0.25
SCALING_LARGE = 300_000  # sizes from here on get scaling_reps_large repetitions
ISSUE_4_TARGETS = ("1", "2", "3", "4", "5")  # what --only takes besides regression


# ----------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------
def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(fn, *args, **kwargs):
    """Seconds taken by one call of ``fn`` (garbage collected beforehand)."""
    gc.collect()
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def median(values):
    return float(statistics.median(values)) if values else None


def summary(values):
    """Median, min and all values of a list of seconds, for the JSON."""
    if not values:
        return None
    return {
        "median": median(values),
        "min": float(min(values)),
        "max": float(max(values)),
        "values": [float(v) for v in values],
    }


def ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def verdict(value, threshold, *, higher_is_better=False):
    if value is None:
        return "n/a"
    ok = value >= threshold if higher_is_better else value <= threshold
    return "PASS" if ok else "FAIL"


def quiet_warnings():
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)


def load_data():
    from sklearn_backprop.datasets import load_mnist

    X_train, X_test, y_train, y_test = load_mnist(scale=True)
    X_train = np.ascontiguousarray(X_train, dtype=np.float32)
    X_test = np.ascontiguousarray(X_test, dtype=np.float32)
    return X_train, X_test, np.asarray(y_train), np.asarray(y_test)


def torch_available(args):
    if args.no_torch:
        return False
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------
# Contenders
# ----------------------------------------------------------------------
def make_ours(**params):
    from sklearn_backprop import BackpropMLPClassifier

    return BackpropMLPClassifier(**params)


def make_sklearn(**params):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(**params)


def make_ours_regressor(**params):
    from sklearn_backprop import BackpropMLPRegressor

    return BackpropMLPRegressor(**params)


def make_sklearn_regressor(**params):
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(**params)


# Regression contenders: key -> (label, factory). The target compares "ours"
# with "sklearn"; with the same random_state both start from the same weights.
REGRESSORS = {
    "ours": ("sklearn_backprop `BackpropMLPRegressor`", make_ours_regressor),
    "sklearn": ("scikit-learn `MLPRegressor`", make_sklearn_regressor),
}


class MatmulFloor:
    """The bare matrix products of one epoch, written into preallocated buffers.

    Per minibatch of ``batch`` contiguous rows ``Xb`` of X:

    * ``layers='first'``: ``Xb @ W1`` (forward) and ``Xb.T @ D1`` (gradient of
      W1), the two products with the 784 x 256 layer, the bulk of the work;
    * ``layers='all'``: also ``A1 @ W2`` (forward), ``A1.T @ D2`` (gradient of
      W2) and ``D2 @ W2.T`` (delta of the hidden layer): every product an
      epoch must do.

    With ``gather=True`` each minibatch is first gathered from shuffled rows of
    X into a buffer (``np.take(..., out=...)``), as a shuffled epoch must.
    Buffers hold finite, realistic values (weights of the initialisation's
    scale, deltas of 1e-3): NaN, infinities or denormals make BLAS much slower
    and would distort the floor. No activation, loss or update is computed.
    """

    def __init__(self, n_features, *, layers="all", gather=False, seed=0):
        rng = np.random.default_rng(seed)
        f32 = np.float32
        bound1 = 4 * np.sqrt(6 / (n_features + N_HIDDEN))
        bound2 = 4 * np.sqrt(6 / (N_HIDDEN + N_CLASSES))
        self.W1 = rng.uniform(-bound1, bound1, (n_features, N_HIDDEN)).astype(f32)
        self.W2 = rng.uniform(-bound2, bound2, (N_HIDDEN, N_CLASSES)).astype(f32)
        self.A1 = rng.random((BATCH_SIZE, N_HIDDEN), dtype=f32)
        self.A2 = np.zeros((BATCH_SIZE, N_CLASSES), f32)
        self.D1 = (1e-3 * rng.standard_normal((BATCH_SIZE, N_HIDDEN))).astype(f32)
        self.D2 = (1e-2 * rng.standard_normal((BATCH_SIZE, N_CLASSES))).astype(f32)
        self.G1 = np.empty_like(self.W1)
        self.G2 = np.empty_like(self.W2)
        self.Xb = np.empty((BATCH_SIZE, n_features), f32)
        self.all_layers = layers == "all"
        self.gather = gather
        self.rng = rng

    def epoch(self, X):
        n = X.shape[0]
        order = self.rng.permutation(n) if self.gather else None
        W1, W2, A1, A2, D1, D2 = self.W1, self.W2, self.A1, self.A2, self.D1, self.D2
        for start in range(0, n, BATCH_SIZE):
            if order is None:
                Xb = X[start : start + BATCH_SIZE]
            else:
                rows = order[start : start + BATCH_SIZE]
                Xb = np.take(X, rows, axis=0, out=self.Xb[: len(rows)])
            m = Xb.shape[0]
            np.matmul(Xb, W1, out=A1[:m])
            if self.all_layers:
                np.matmul(A1[:m], W2, out=A2[:m])
                np.matmul(A1[:m].T, D2[:m], out=self.G2)
                np.matmul(D2[:m], W2.T, out=D1[:m])
            np.matmul(Xb.T, D1[:m], out=self.G1)

    def predict(self, X):
        """The two forward products of a prediction, one call each."""
        return np.matmul(X, self.W1) @ self.W2


class TorchMLP:
    """PyTorch eager CPU: Linear-Sigmoid-Linear, BCE with logits, Nesterov SGD.

    ``BCEWithLogitsLoss(reduction='sum')`` divided by the batch size on one-hot
    targets is the same loss as this package's sigmoid outputs; the update is
    ``torch.optim.SGD(lr=0.1, momentum=0.9, nesterov=True)``. Each epoch
    shuffles with ``torch.randperm`` and gathers minibatches by index, float32.
    """

    def __init__(self, n_features, *, threads=2, seed=0, lr=0.1):
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.torch = torch
        self.model = torch.nn.Sequential(
            torch.nn.Linear(n_features, N_HIDDEN),
            torch.nn.Sigmoid(),
            torch.nn.Linear(N_HIDDEN, N_CLASSES),
        )
        self.criterion = torch.nn.BCEWithLogitsLoss(reduction="sum")
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=lr, momentum=0.9, nesterov=True
        )
        self.generator = torch.Generator().manual_seed(seed)

    def tensors(self, X, y):
        """Zero-copy input tensor and one-hot float32 targets."""
        torch = self.torch
        Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        labels = torch.from_numpy(np.asarray(y, dtype=np.int64))
        Yt = torch.nn.functional.one_hot(labels, N_CLASSES).to(torch.float32)
        return Xt, Yt

    def epoch(self, Xt, Yt, learning_rates=None):
        """One epoch; ``learning_rates``, when given, is each minibatch's step."""
        torch, model, optimizer = self.torch, self.model, self.optimizer
        n = Xt.shape[0]
        order = torch.randperm(n, generator=self.generator)
        for batch, start in enumerate(range(0, n, BATCH_SIZE)):
            if learning_rates is not None:
                for group in optimizer.param_groups:
                    group["lr"] = learning_rates[batch]
            rows = order[start : start + BATCH_SIZE]
            Xb, Yb = Xt[rows], Yt[rows]
            optimizer.zero_grad(set_to_none=True)
            loss = self.criterion(model(Xb), Yb) / Xb.shape[0]
            loss.backward()
            optimizer.step()

    def predict_proba(self, X):
        torch = self.torch
        with torch.no_grad():
            proba = torch.sigmoid(self.model(torch.from_numpy(X)))
            proba /= proba.sum(dim=1, keepdim=True)
        return proba.numpy()

    def score(self, X, y):
        return float(np.mean(np.argmax(self.predict_proba(X), axis=1) == y))


def interleaved(contenders, reps):
    """Time each contender ``reps`` times, rotating the order every repetition.

    ``contenders`` maps a name to a zero-argument callable; returns name -> list
    of seconds. Rotating the order spreads slow phases of a shared machine
    over all contenders instead of always hitting the same position.
    """
    names = list(contenders)
    times = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(contenders[name]))
    return times


# ----------------------------------------------------------------------
# Target 1 (epoch time) and target 3 (predict_proba), on the same models
# ----------------------------------------------------------------------
def _is_numpys(filepath):
    """Whether a shared library is the one NumPy ships (in numpy.libs or numpy/)."""
    root = Path(np.__file__).resolve().parent
    path = Path(filepath).resolve()
    return path.parent.name.startswith("numpy") and (
        path.parent.parent == root.parent or root in path.parents
    )


def bench_epochs_and_predict(data, cfg, use_torch):
    from threadpoolctl import ThreadpoolController

    X, X_test, y, y_test = data
    classes = np.arange(N_CLASSES)
    ours = make_ours(**OURS_SGD_CONFIG, random_state=0)
    sk = make_sklearn(**SGD_CONFIG, random_state=0)
    floor_first = MatmulFloor(X.shape[1], layers="first")
    floor_all = MatmulFloor(X.shape[1], layers="all")
    floor_gather = MatmulFloor(X.shape[1], layers="all", gather=True)

    epochs = {
        "ours": lambda: ours.partial_fit(X, y),
        "sklearn": lambda: sk.partial_fit(X, y),
        "floor_first": lambda: floor_first.epoch(X),
        "floor_all": lambda: floor_all.epoch(X),
        "floor_all_gather": lambda: floor_gather.epoch(X),
    }
    log("target 1: warm-up epochs")
    warmup = {
        "ours": timed(ours.partial_fit, X, y, classes=classes),
        "sklearn": timed(sk.partial_fit, X, y, classes=classes),
    }
    if use_torch:
        net = TorchMLP(X.shape[1])
        Xt, Yt = net.tensors(X, y)
        warmup["torch"] = timed(net.epoch, Xt, Yt)
        epochs["torch"] = lambda: net.epoch(Xt, Yt)
    for name in ("floor_first", "floor_all", "floor_all_gather"):
        warmup[name] = timed(epochs[name])
    log(f"target 1: {cfg['epoch_reps']} interleaved epochs of each contender")
    epoch_times = interleaved(epochs, cfg["epoch_reps"])
    paired = [
        o / s for o, s in zip(epoch_times["ours"], epoch_times["sklearn"], strict=True)
    ]

    n_epochs = 1 + cfg["epoch_reps"]
    accuracy = {"ours": float(ours.score(X_test, y_test))}
    accuracy["sklearn"] = float(sk.score(X_test, y_test))
    if use_torch:
        accuracy["torch"] = net.score(X_test, y_test)
    dtypes = {"ours": str(ours.coefs_[0].dtype), "sklearn": str(sk.coefs_[0].dtype)}

    log(f"target 3: {cfg['predict_reps']} interleaved predict_proba calls")
    predicts = {
        "ours": lambda: ours.predict_proba(X_test),
        "sklearn": lambda: sk.predict_proba(X_test),
        "floor_all": lambda: floor_all.predict(X_test),
    }
    if use_torch:
        predicts["torch"] = lambda: net.predict_proba(X_test)
    for fn in predicts.values():
        fn()  # warm-up
    predict_times = interleaved(predicts, cfg["predict_reps"])
    proba = ours.predict_proba(X_test)

    log(f"BLAS threads: {cfg['thread_reps']} epochs per thread setting")
    controller = ThreadpoolController()
    blas = [lib for lib in controller.info() if lib["user_api"] == "blas"]
    numpy_blas = [lib for lib in blas if _is_numpys(lib["filepath"])]
    other_blas = [lib["filepath"] for lib in blas if lib not in numpy_blas]
    settings = {"default": None, "all_1": controller.select(user_api="blas")}
    if other_blas:  # e.g. SciPy's own OpenBLAS, beside NumPy's
        settings["others_1"] = controller.select(filepath=other_blas)

    def limited(fn, selection):
        def run():
            if selection is None:
                fn()
                return
            with selection.limit(limits=1):
                fn()

        return run

    thread_runs = {}
    for setting, selection in settings.items():
        for name in ("floor_all", "ours", "sklearn"):
            if name == "floor_all" and setting == "others_1":
                continue  # the floor calls NumPy's BLAS only
            thread_runs[f"{name}/{setting}"] = limited(epochs[name], selection)
    thread_times = interleaved(thread_runs, cfg["thread_reps"])
    blas_libraries = [
        {
            "library": Path(lib["filepath"]).name,
            "version": lib.get("version"),
            "num_threads": lib.get("num_threads"),
            "numpys": lib in numpy_blas,
        }
        for lib in blas
    ]

    return {
        "epoch_seconds": {name: summary(t) for name, t in epoch_times.items()},
        "warmup_seconds": warmup,
        "ours_over_sklearn_paired_median": median(paired),
        "epochs_trained": n_epochs,
        "test_accuracy_after_epochs": accuracy,
        "weights_dtype": dtypes,
        "predict_proba_seconds": {n: summary(t) for n, t in predict_times.items()},
        "predict_proba_dtype": str(proba.dtype),
        "threads_epoch_seconds": {n: summary(t) for n, t in thread_times.items()},
        "blas_libraries": blas_libraries,
    }


# ----------------------------------------------------------------------
# Target 2: defaults, full training
# ----------------------------------------------------------------------
def _fit_defaults(model, X, y, X_test, y_test):
    """One timed fit: its seconds, epochs, test accuracy and warnings."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        seconds = timed(model.fit, X, y)
    return {
        "fit_seconds": seconds,
        "n_iter": int(model.n_iter_),
        "seconds_per_epoch": seconds / model.n_iter_,
        "test_accuracy": float(model.score(X_test, y_test)),
        "convergence_warnings": sum(
            issubclass(w.category, ConvergenceWarning) for w in caught
        ),
    }


def _seed_summary(runs):
    """Medians over seeds (the worst accuracy too) of ``_fit_defaults`` runs."""
    accuracies = [r["test_accuracy"] for r in runs]
    return {
        "runs": runs,
        "fit_seconds": median([r["fit_seconds"] for r in runs]),
        "n_iter": median([r["n_iter"] for r in runs]),
        "seconds_per_epoch": median([r["seconds_per_epoch"] for r in runs]),
        "test_accuracy": median(accuracies),
        "worst_test_accuracy": min(accuracies),
        "convergence_warnings": sum(r["convergence_warnings"] for r in runs),
    }


def bench_defaults(data, cfg):
    """Target 2: ours' defaults against the previous ones (issue 11), seed by
    seed and interleaved, and scikit-learn's Adam defaults once."""
    X, X_test, y, y_test = data
    cap = cfg["default_fit_max_iter"]
    extra = {} if cap is None else {"max_iter": cap}
    # name -> seed -> model; the names of the report's rows.
    contenders = {
        "ours": lambda seed: make_ours(random_state=seed, **extra),
        "previous": lambda seed: make_ours(
            random_state=seed, **{**PREVIOUS_DEFAULTS, **extra}
        ),
    }
    runs = {name: [] for name in contenders}
    for seed in cfg["default_fit_seeds"]:
        for name, make in contenders.items():
            log(
                f"target 2: {name} defaults, seed {seed}"
                + f" (max_iter={cap})" * bool(cap)
            )
            run = _fit_defaults(make(seed), X, y, X_test, y_test)
            run["seed"] = seed
            runs[name].append(run)
            log(
                f"  {run['fit_seconds']:.1f} s, {run['n_iter']} epochs, "
                f"accuracy {run['test_accuracy']:.4f}, "
                f"{run['convergence_warnings']} ConvergenceWarning"
            )
    results = {name: _seed_summary(r) for name, r in runs.items()}
    log("target 2: scikit-learn's MLPClassifier, its defaults (adam), seed 0")
    results["sklearn_adam"] = _fit_defaults(
        make_sklearn(
            hidden_layer_sizes=(N_HIDDEN,),
            activation="logistic",
            random_state=0,
            **extra,
        ),
        X,
        y,
        X_test,
        y_test,
    )
    results["sklearn_adam"]["seed"] = 0
    results["previous_params"] = PREVIOUS_DEFAULTS
    results["capped_max_iter"] = cap
    return results


# ----------------------------------------------------------------------
# Target 4: peak memory of fit, in a fresh subprocess per contender
# ----------------------------------------------------------------------
def _proc_status_kib(field):
    with open("/proc/self/status") as status:
        match = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    return int(match.group(1)) if match else None


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def memory_worker(name, epochs):
    """Fit one contender on MNIST and print its peak extra memory as JSON."""
    quiet_warnings()
    X, _, y, _ = load_data()
    if name == "ours":
        model = make_ours(**OURS_SGD_CONFIG, random_state=0, max_iter=epochs)

        def fit():
            model.fit(X, y)

        def warm():
            make_ours(**OURS_SGD_CONFIG, max_iter=2).fit(X[:1000], y[:1000])

    elif name == "sklearn":
        model = make_sklearn(**SGD_CONFIG, random_state=0, max_iter=epochs)

        def fit():
            model.fit(X, y)

        def warm():
            make_sklearn(**SGD_CONFIG, max_iter=2).fit(X[:1000], y[:1000])

    elif name == "torch":
        net = TorchMLP(X.shape[1])

        def fit():
            Xt, Yt = net.tensors(X, y)
            for _ in range(epochs):
                net.epoch(Xt, Yt)

        def warm():
            warm_net = TorchMLP(X.shape[1], seed=1)
            warm_net.epoch(*warm_net.tensors(X[:1000], y[:1000]))

    else:
        raise ValueError(f"unknown memory contender {name!r}")
    # Imports, lazily loaded modules, BLAS/OpenMP thread buffers: before the
    # baseline, so that only what fit itself needs is counted.
    warm()
    gc.collect()
    rss_before = _proc_status_kib("VmRSS")
    hwm_reset = _reset_peak_rss()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    fit()
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm = _proc_status_kib("VmHWM")
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "contender": name,
        "epochs": epochs,
        "fit_seconds": seconds,
        "x_nbytes": int(X.nbytes),
        "x_dtype": str(X.dtype),
        "tracemalloc_peak_bytes": int(traced_peak),
        "rss_before_bytes": rss_before * 1024,
        "rss_peak_extra_bytes": (hwm - rss_before) * 1024 if hwm_reset else None,
        "maxrss_growth_bytes": (maxrss_after - maxrss_before) * 1024,
    }
    if name in ("ours", "sklearn"):
        result["weights_dtype"] = str(model.coefs_[0].dtype)
    print(json.dumps(result))


def bench_memory(cfg, use_torch):
    names = ["ours", "sklearn"] + (["torch"] if use_torch else [])
    results = {}
    for name in names:
        log(f"target 4: peak memory of fit, {name}, in a subprocess")
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--memory-worker",
            name,
            "--memory-epochs",
            str(cfg["memory_epochs"]),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            results[name] = {"error": done.stderr.strip()[-2000:]}
            log(f"  failed: {done.stderr.strip()[-500:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        x_nbytes = result["x_nbytes"]
        result["tracemalloc_ratio"] = result["tracemalloc_peak_bytes"] / x_nbytes
        if result["rss_peak_extra_bytes"] is not None:
            result["rss_ratio"] = result["rss_peak_extra_bytes"] / x_nbytes
        results[name] = result
    return results


# ----------------------------------------------------------------------
# Target 5: scaling with the number of samples, synthetic data
# ----------------------------------------------------------------------
def bench_scaling(cfg, use_torch, max_size=None):
    sizes = [n for n in cfg["sizes"] if max_size is None or n <= max_size]
    n_max = max(sizes)
    log(f"target 5: generating {n_max} x {N_FEATURES_SYNTHETIC} float32 rows")
    rng = np.random.default_rng(0)
    X = rng.random((n_max, N_FEATURES_SYNTHETIC), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, n_max)
    y[:N_CLASSES] = np.arange(N_CLASSES)  # every class in the smallest slice
    classes = np.arange(N_CLASSES)

    ours = make_ours(**OURS_SGD_CONFIG, random_state=0)
    sk = make_sklearn(**SGD_CONFIG, random_state=0)
    floor = MatmulFloor(N_FEATURES_SYNTHETIC, layers="all")
    ours.partial_fit(X[:2000], y[:2000], classes=classes)  # warm-up
    sk.partial_fit(X[:2000], y[:2000], classes=classes)
    floor.epoch(X[:2000])
    if use_torch:
        net = TorchMLP(N_FEATURES_SYNTHETIC)
        Xt_all, Yt_all = net.tensors(X, y)  # Xt_all shares X's memory
        net.epoch(Xt_all[:2000], Yt_all[:2000])

    rows = []
    for n in sizes:
        reps = (
            cfg["scaling_reps_small"]
            if n < SCALING_LARGE
            else cfg["scaling_reps_large"]
        )
        Xn, yn = X[:n], y[:n]  # views: no copy
        runs = {
            "ours": lambda Xn=Xn, yn=yn: ours.partial_fit(Xn, yn),
            "floor_all": lambda Xn=Xn: floor.epoch(Xn),
        }
        if n <= cfg["sklearn_max_size"]:
            runs["sklearn"] = lambda Xn=Xn, yn=yn: sk.partial_fit(Xn, yn)
        if use_torch:
            runs["torch"] = lambda n=n: net.epoch(Xt_all[:n], Yt_all[:n])
        log(f"  n={n}: {reps} epoch(s) of {', '.join(runs)}")
        times = interleaved(runs, reps)
        row = {"n_samples": n, "repetitions": reps}
        for name, values in times.items():
            best = min(values)
            row[name] = {
                "seconds_per_epoch": best,
                "median_seconds": median(values),
                "us_per_sample": 1e6 * best / n,
                "values": values,
            }
        rows.append(row)
    del X

    result = {"sizes": sizes, "rows": rows}
    for name in ("ours", "sklearn", "torch", "floor_all"):
        per_sample = [r[name]["us_per_sample"] for r in rows if name in r]
        seconds = [r[name]["seconds_per_epoch"] for r in rows if name in r]
        ns = [r["n_samples"] for r in rows if name in r]
        if len(per_sample) >= 2:
            slope = float(np.polyfit(np.log(ns), np.log(seconds), 1)[0])
            result[name] = {
                "max_over_min_us_per_sample": max(per_sample) / min(per_sample),
                "loglog_slope": slope,
            }
    return result


def plot_scaling(scaling, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {
        "ours": ("sklearn_backprop", "o-"),
        "sklearn": ("scikit-learn MLPClassifier", "s--"),
        "torch": ("PyTorch eager CPU", "^:"),
        "floor_all": ("floor: all matmuls", "d-."),
    }
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, (label, style) in labels.items():
        rows = [r for r in scaling["rows"] if name in r]
        if not rows:
            continue
        ns = [r["n_samples"] for r in rows]
        left.plot(ns, [r[name]["seconds_per_epoch"] for r in rows], style, label=label)
        right.plot(ns, [r[name]["us_per_sample"] for r in rows], style, label=label)
    left.set(
        xscale="log",
        yscale="log",
        xlabel="samples (784 float32 features)",
        ylabel="seconds per epoch",
        title="Time per epoch (784-256-10, batch 100)",
    )
    right.set(
        xscale="log",
        xlabel="samples",
        ylabel="µs per sample",
        title="Time per sample (flat = linear scaling)",
    )
    right.set_ylim(bottom=0)
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".png.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


# ----------------------------------------------------------------------
# Regression: test R² of BackpropMLPRegressor against MLPRegressor
# ----------------------------------------------------------------------
def _train_test(X, y):
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, **REGRESSION_SPLIT)


def _standardized(train, test):
    """``train`` and ``test`` standardised by a scaler fitted on ``train``."""
    from sklearn.preprocessing import StandardScaler

    column = train.ndim == 1
    if column:
        train, test = train[:, None], test[:, None]
    scaler = StandardScaler().fit(train)
    train, test = scaler.transform(train), scaler.transform(test)
    return (train.ravel(), test.ravel()) if column else (train, test)


def load_friedman1():
    from sklearn.datasets import make_friedman1

    return _train_test(*make_friedman1(n_samples=5000, noise=1.0, random_state=0))


def load_diabetes_standardized():
    """Diabetes with X and y standardised on the training split.

    The raw targets (25 to 346) are out of reach of the defaults: adam's
    200 steps of 0.001 leave both contenders' test R² near -1.3, and sgd at
    0.01 diverges for both. R² is unchanged when y_test and the predictions
    undergo the same affine map, so it is the R² of the models in the original
    units.
    """
    from sklearn.datasets import load_diabetes

    X_train, X_test, y_train, y_test = _train_test(*load_diabetes(return_X_y=True))
    return (*_standardized(X_train, X_test), *_standardized(y_train, y_test))


# Data sets: key -> (description, loader of X_train, X_test, y_train, y_test).
REGRESSION_DATASETS = {
    "friedman1": (
        "`make_friedman1(n_samples=5000, noise=1.0, random_state=0)`, 10 "
        "features in [0, 1), targets as generated (mean 14, sd 5)",
        load_friedman1,
    ),
    "diabetes": (
        "`load_diabetes()`, 442 x 10; X and y standardised by `StandardScaler`s "
        "fitted on the training split",
        load_diabetes_standardized,
    ),
}


def _seeded_fits(factory, params, X, y):
    """A callable fitting a new model per call, random_state 0, 1, 2, ...

    Returns the callable and the list it appends each model to.
    """
    models = []

    def fit():
        model = factory(**params, random_state=len(models))
        models.append(model)
        model.fit(X, y)

    return fit, models


def bench_regression(cfg):
    """Test R² and fit time of every regressor, per data set, solver and seed.

    Per data set and solver, each repetition fits every contender once with
    the same parameters and random_state (the repetition's number), in an
    order rotated between repetitions.
    """
    n_seeds = cfg["regression_seeds"]
    results = {
        "seeds": list(range(n_seeds)),
        "split": REGRESSION_SPLIT,
        "solver_params": REGRESSION_SOLVERS,
        "contenders": {name: label for name, (label, _) in REGRESSORS.items()},
        "datasets": {},
    }
    for data_name, (description, load) in REGRESSION_DATASETS.items():
        X_train, X_test, y_train, y_test = load()
        runs = {}
        for solver, params in REGRESSION_SOLVERS.items():
            log(
                f"regression: {data_name}, solver={solver}: {n_seeds} seed(s) of "
                + ", ".join(REGRESSORS)
            )
            fits = {
                name: _seeded_fits(
                    factory, {"solver": solver, **params}, X_train, y_train
                )
                for name, (_, factory) in REGRESSORS.items()
            }
            times = interleaved({name: fit for name, (fit, _) in fits.items()}, n_seeds)
            runs[solver] = {}
            for name, (_, models) in fits.items():
                r2 = [float(model.score(X_test, y_test)) for model in models]
                runs[solver][name] = {
                    "test_r2": r2,
                    "test_r2_median": median(r2),
                    "test_r2_worst": min(r2),
                    "n_iter": [int(model.n_iter_) for model in models],
                    "fit_seconds": summary(times[name]),
                    "weights_dtype": str(models[0].coefs_[0].dtype),
                }
            ours_r2 = runs[solver]["ours"]["test_r2"]
            for run in runs[solver].values():
                run["max_abs_r2_diff_vs_ours"] = max(
                    abs(a - b) for a, b in zip(run["test_r2"], ours_r2, strict=True)
                )
            log(
                "  median test R² "
                + ", ".join(
                    f"{name} {run['test_r2_median']:.4f}"
                    for name, run in runs[solver].items()
                )
            )
        results["datasets"][data_name] = {
            "description": description,
            "n_train": int(X_train.shape[0]),
            "n_test": int(X_test.shape[0]),
            "n_features": int(X_train.shape[1]),
            "solvers": runs,
        }
    return results


# ----------------------------------------------------------------------
# Out-of-core training: a lazy Dask array larger than memory (issue 13)
# ----------------------------------------------------------------------
OUT_OF_CORE_MODES = {
    "quick": dict(
        rows=200_000,
        block_rows=20_000,
        epochs=2,
        in_memory_reps=5,
        accuracy_rows=100_000,
        accuracy_epochs=2,
        accuracy_seeds=2,
        latency_rows=100_000,
    ),
    "full": dict(
        rows=2_000_000,
        block_rows=20_000,
        epochs=3,
        in_memory_reps=7,
        accuracy_rows=300_000,
        accuracy_epochs=3,
        accuracy_seeds=5,
        latency_rows=400_000,
    ),
}
# Each generated image is an MNIST image plus a row of integer noise, uniform
# on 0..OUT_OF_CORE_NOISE_LEVELS - 1, scaled to [0, 1]: the noise rows come
# from a bank drawn once per seed, so that a block costs two gathers and an
# addition (about an eighth of training on it) rather than a fresh draw of
# random floats (about a third).
OUT_OF_CORE_NOISE_LEVELS = 26
OUT_OF_CORE_NOISE_BANK = 4096
# Seconds that each block's task waits, in the contenders that read from slow
# storage: 63 MB in 0.1 s, a remote store at 630 MB/s.
OUT_OF_CORE_LATENCY = 0.1
# Targets of issue 13 for fit_out_of_core with its defaults (prefetch='auto').
TARGET_OOC_PEAK_RSS = 1e9  # bytes: 1 GB
TARGET_OOC_VS_IN_MEMORY = 0.85
# Out-of-core minus in-memory test accuracy, in standard errors of the mean
# paired difference: "equal within noise".
TARGET_OOC_ACCURACY_SE = -2.0
OUT_OF_CORE_CONTENDERS = {
    "in-memory": "in-memory `partial_fit` on MNIST's 60 000 training rows",
    "auto": "`fit_out_of_core(...)`, its defaults (`prefetch='auto'`)",
    "prefetch": "`fit_out_of_core(..., prefetch=1)`",
    "no-prefetch": "`fit_out_of_core(..., prefetch=0)`",
    "dask-ml": "dask-ml `Incremental`, `scheduler='sync'`",
}

_OOC_MNIST = {}


def _ooc_mnist():
    """MNIST as uint8 (47 MB of training images), loaded once per process."""
    if not _OOC_MNIST:
        from sklearn_backprop.datasets import load_mnist

        X_train, X_test, y_train, y_test = load_mnist()
        _OOC_MNIST.update(X=X_train, y=y_train, X_test=X_test, y_test=y_test)
    return _OOC_MNIST


def ooc_test_set():
    """MNIST's 10 000 test images scaled to [0, 1] in float32, and their labels."""
    mnist = _ooc_mnist()
    return (mnist["X_test"] / np.float32(255)).astype(np.float32), mnist["y_test"]


def _ooc_noise_bank(seed):
    """The bank of noise rows of ``seed``, drawn once per process."""
    key = ("noise", seed)
    if key not in _OOC_MNIST:
        rng = np.random.default_rng([seed, 2**32 - 1])  # not a block's index
        _OOC_MNIST[key] = rng.integers(
            0,
            OUT_OF_CORE_NOISE_LEVELS,
            (OUT_OF_CORE_NOISE_BANK, N_FEATURES_SYNTHETIC),
            dtype=np.uint8,
        )
    return _OOC_MNIST[key]


def ooc_block(seed, index, rows):
    """Block ``index`` of the lazy data: MNIST training images drawn at random
    (with replacement, by a generator seeded with ``(seed, index)``), each plus
    a noise row drawn from the seed's bank, float32 in [0, 1]; and labels."""
    mnist = _ooc_mnist()
    noise_bank = _ooc_noise_bank(seed)
    rng = np.random.default_rng([seed, index])
    drawn = rng.integers(0, len(mnist["X"]), rows)
    X = mnist["X"][drawn].astype(np.float32)
    X += noise_bank[rng.integers(0, len(noise_bank), rows)]
    X *= np.float32(1 / (255 + OUT_OF_CORE_NOISE_LEVELS - 1))  # pixel + noise <= 280
    return X, mnist["y"][drawn]


def _ooc_block_after(latency, seed, index, rows):
    """``ooc_block``, after waiting ``latency`` seconds, as a read would."""
    time.sleep(latency)
    return ooc_block(seed, index, rows)


def ooc_lazy_data(rows, block_rows, seed, latency=0.0):
    """A lazy Dask array X (rows x 784 float32) and y, one task per block.

    X's and y's blocks are items of one task, so that computing both runs it
    once; nothing is generated until a block is computed. With ``latency``,
    each task first waits that many seconds (slow storage).
    """
    import dask
    import dask.array as da

    if rows % block_rows:
        raise ValueError(f"rows ({rows}) must be a multiple of block_rows")
    X_blocks, y_blocks = [], []
    for index in range(rows // block_rows):
        if latency:
            block = dask.delayed(_ooc_block_after, pure=True)(
                latency, seed, index, block_rows
            )
        else:
            block = dask.delayed(ooc_block, pure=True)(seed, index, block_rows)
        X_blocks.append(
            da.from_delayed(block[0], (block_rows, N_FEATURES_SYNTHETIC), np.float32)
        )
        y_blocks.append(da.from_delayed(block[1], (block_rows,), np.int64))
    return da.concatenate(X_blocks), da.concatenate(y_blocks)


def out_of_core_worker(spec):
    """Train one contender of the out-of-core section; print its figures as JSON.

    A fresh process per contender, so that its peak RSS (``ru_maxrss``) is its
    own: the whole process, interpreter, libraries and MNIST included.
    """
    quiet_warnings()
    name, seed = spec["contender"], spec["seed"]
    rows, block_rows, epochs = spec["rows"], spec["block_rows"], spec["epochs"]
    classes = np.arange(N_CLASSES)
    result = dict(spec)
    warm_X, warm_y = ooc_block(seed + 1, 0, 1000)
    make_ours(**OURS_SGD_CONFIG).partial_fit(warm_X, warm_y, classes=classes)
    del warm_X, warm_y
    model = make_ours(**OURS_SGD_CONFIG, random_state=seed)
    if name == "in-memory":
        X, _, y, _ = load_data()
        model.partial_fit(X[:1000], y[:1000], classes=classes)
        seconds = [timed(model.partial_fit, X, y) for _ in range(spec["reps"])]
        result["epoch_seconds"] = summary(seconds)
        result["rows_per_second"] = len(X) / median(seconds)
        # What one block costs: generating it, and training on it.
        generate = [timed(ooc_block, seed, index, block_rows) for index in range(5)]
        X_block, y_block = ooc_block(seed, 0, block_rows)
        train = [timed(model.partial_fit, X_block, y_block) for _ in range(5)]
        result["block_generate_seconds"] = summary(generate)
        result["block_train_seconds"] = summary(train)
    else:
        import dask

        X, y = ooc_lazy_data(rows, block_rows, seed, spec.get("latency", 0.0))
        gc.collect()
        result["rss_before_bytes"] = _proc_status_kib("VmRSS") * 1024
        start = time.perf_counter()
        if name == "dask-ml":
            from dask_ml.wrappers import Incremental

            # A RandomState instance, so that each call (epoch) draws a new
            # block order: an int would repeat the same order every epoch.
            incremental = Incremental(model, random_state=np.random.RandomState(seed))
            with dask.config.set(scheduler="sync"):
                for _ in range(epochs):
                    incremental.partial_fit(X, y, classes=classes)
            model = incremental.estimator_
        else:
            from sklearn_backprop.dask import fit_out_of_core

            fit_out_of_core(
                model,
                X,
                y,
                epochs=epochs,
                classes=classes,
                random_state=seed,
                prefetch={"auto": "auto", "prefetch": 1, "no-prefetch": 0}[name],
            )
        seconds = time.perf_counter() - start
        result["seconds"] = seconds
        result["rows_per_second"] = rows * epochs / seconds
        result["rows_trained"] = int(model.t_)
        result["partial_fit_calls"] = len(model.loss_curve_)
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    X_test, y_test = ooc_test_set()
    result["test_accuracy"] = float(model.score(X_test, y_test))
    print(json.dumps(result))


def _run_out_of_core_worker(spec):
    """Run ``out_of_core_worker(spec)`` in a subprocess: its result, with the CPU
    that other processes used meanwhile and the load average after it."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--out-of-core-worker",
        json.dumps(spec),
    ]
    before = cpu_snapshot()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    other = other_cpu(before, cpu_snapshot())
    if done.returncode != 0:
        raise RuntimeError(
            f"out-of-core worker {spec['contender']} failed:\n{done.stderr[-3000:]}"
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["other_cpu"] = other
    result["load_average_after"] = os.getloadavg()[0]
    return result


def ooc_accuracy(cfg):
    """Test accuracy after training on the same lazy rows in memory (a new
    permutation of all rows each epoch) and out of core (a new order of the
    blocks each epoch, rows shuffled within blocks), one pair per seed."""
    import dask

    from sklearn_backprop.dask import fit_out_of_core

    X_test, y_test = ooc_test_set()
    classes = np.arange(N_CLASSES)
    pairs = []
    for seed in range(cfg["accuracy_seeds"]):
        X, y = ooc_lazy_data(cfg["accuracy_rows"], cfg["block_rows"], seed)
        log(f"out-of-core: accuracy, seed {seed}: in memory, then out of core")
        X_np, y_np = dask.compute(X, y, scheduler="sync")
        in_memory = make_ours(**OURS_SGD_CONFIG, random_state=seed)
        for _ in range(cfg["accuracy_epochs"]):
            in_memory.partial_fit(X_np, y_np, classes=classes)
        del X_np, y_np
        out_of_core = make_ours(**OURS_SGD_CONFIG, random_state=seed)
        fit_out_of_core(
            out_of_core,
            X,
            y,
            epochs=cfg["accuracy_epochs"],
            classes=classes,
            random_state=seed,
        )
        pairs.append(
            {
                "seed": seed,
                "in_memory": float(in_memory.score(X_test, y_test)),
                "out_of_core": float(out_of_core.score(X_test, y_test)),
            }
        )
    differences = [pair["out_of_core"] - pair["in_memory"] for pair in pairs]
    n = len(differences)
    sd = statistics.stdev(differences) if n > 1 else None
    return {
        "rows": cfg["accuracy_rows"],
        "epochs": cfg["accuracy_epochs"],
        "pairs": pairs,
        "in_memory_mean": statistics.fmean(p["in_memory"] for p in pairs),
        "out_of_core_mean": statistics.fmean(p["out_of_core"] for p in pairs),
        "in_memory_sd": statistics.stdev(p["in_memory"] for p in pairs)
        if n > 1
        else None,
        "out_of_core_sd": statistics.stdev(p["out_of_core"] for p in pairs)
        if n > 1
        else None,
        "difference_mean": statistics.fmean(differences),
        "difference_se": sd / n**0.5 if sd is not None else None,
    }


def bench_out_of_core(mode):
    """Throughput, peak RSS and accuracy of out-of-core training (issue 13).

    Each contender trains in a fresh subprocess, in this order: in-memory
    reference, ``fit_out_of_core`` with its defaults, with and without
    prefetching, dask-ml's ``Incremental`` (when dask-ml is importable),
    in-memory reference again; the in-memory rate is the mean of the two
    references. Then ``fit_out_of_core`` with each prefetch setting on a
    smaller array whose blocks wait ``OUT_OF_CORE_LATENCY`` before they are
    generated (slow storage), and the accuracy comparison in this process.
    """
    cfg = OUT_OF_CORE_MODES[mode]
    try:
        import dask_ml  # noqa: F401

        contenders = ["auto", "prefetch", "no-prefetch", "dask-ml"]
    except ImportError:
        contenders = ["auto", "prefetch", "no-prefetch"]
    seed = 0

    def run(name, rows, epochs, latency=0.0):
        spec = {
            "contender": name,
            "seed": seed,
            "rows": rows,
            "block_rows": cfg["block_rows"],
            "epochs": epochs,
            "reps": cfg["in_memory_reps"],
            "latency": latency,
        }
        log(f"out-of-core: {name}, latency {latency} s, in a subprocess")
        result = _run_out_of_core_worker(spec)
        log(
            f"  {result['rows_per_second']:,.0f} rows/s, peak RSS "
            f"{result['peak_rss_bytes'] / 1e6:.0f} MB, test accuracy "
            f"{result['test_accuracy']:.4f}"
        )
        return result

    runs = {}
    for name in ["in-memory", *contenders, "in-memory"]:
        result = run(name, cfg["rows"], cfg["epochs"])
        if name == "in-memory":
            runs.setdefault("in-memory", []).append(result)
        else:
            runs[name] = result
    in_memory_rate = statistics.fmean(r["rows_per_second"] for r in runs["in-memory"])
    latency_runs = {
        name: run(name, cfg["latency_rows"], 1, OUT_OF_CORE_LATENCY)
        for name in ["no-prefetch", "prefetch", "auto"]
    }
    for result in [*(runs[name] for name in contenders), *latency_runs.values()]:
        result["vs_in_memory"] = result["rows_per_second"] / in_memory_rate
    return {
        "latency": OUT_OF_CORE_LATENCY,
        "latency_runs": latency_runs,
        "config": cfg,
        "noise_levels": OUT_OF_CORE_NOISE_LEVELS,
        "noise_bank": OUT_OF_CORE_NOISE_BANK,
        "contenders": {name: OUT_OF_CORE_CONTENDERS[name] for name in runs},
        "in_memory_rows_per_second": in_memory_rate,
        "runs": runs,
        "accuracy": ooc_accuracy(cfg),
    }


def evaluate_out_of_core_targets(ooc):
    """Issue 13's targets, for fit_out_of_core with its defaults."""
    ours = ooc["runs"].get("auto") or {}
    accuracy = ooc["accuracy"]
    se = accuracy["difference_se"]
    in_se = accuracy["difference_mean"] / se if se else None
    return [
        make_target(
            "13/memory",
            "out-of-core peak RSS of the training process, GB",
            ours.get("peak_rss_bytes") and ours["peak_rss_bytes"] / 1e9,
            TARGET_OOC_PEAK_RSS / 1e9,
            "{:.2f}",
            note=f"{ooc['config']['rows']} x {N_FEATURES_SYNTHETIC} float32 = "
            f"{ooc['config']['rows'] * N_FEATURES_SYNTHETIC * 4 / 1e9:.1f} GB",
        ),
        make_target(
            "13/speed",
            "out-of-core rows/s over in-memory partial_fit's",
            ours.get("vs_in_memory"),
            TARGET_OOC_VS_IN_MEMORY,
            "{:.2f}",
            higher=True,
            note=f"{ours.get('rows_per_second', 0):,.0f} vs "
            f"{ooc['in_memory_rows_per_second']:,.0f}",
        ),
        make_target(
            "13/accuracy",
            "test accuracy, out of core minus in memory, in standard errors",
            in_se,
            TARGET_OOC_ACCURACY_SE,
            "{:+.1f}",
            higher=True,
            note=f"{accuracy['difference_mean']:+.4f}, standard error "
            f"{_fmt(se, '{:.4f}')}, {len(accuracy['pairs'])} seeds",
        ),
    ]


def out_of_core_markdown(ooc, targets, *, report=True):
    """The out-of-core section: throughput, memory, accuracy; then the verdicts."""
    cfg = ooc["config"]
    runs = ooc["runs"]
    references = runs["in-memory"]
    block = references[0]
    n_blocks = cfg["rows"] // cfg["block_rows"]
    lines = [
        f"### Out-of-core training: a lazy {cfg['rows']:,} x 784 float32 Dask array",
        "",
        f"The array ({cfg['rows'] * N_FEATURES_SYNTHETIC * 4 / 2**30:.1f} GiB, "
        f"{n_blocks} blocks of {cfg['block_rows']:,} rows) is generated block by "
        "block on demand: MNIST training images drawn at random from a seeded "
        f"generator, each plus a row of integer noise uniform on 0-"
        f"{ooc['noise_levels'] - 1} (one of {ooc['noise_bank']:,} rows drawn once), "
        f"divided by {255 + ooc['noise_levels'] - 1}. "
        f"Generating a block takes {_ms(block['block_generate_seconds']['median'])}"
        f" ms, training on it {_ms(block['block_train_seconds']['median'])} ms "
        "(medians of 5). Every contender trains the same "
        "`BackpropMLPClassifier` (784-256-10, logistic, SGD, minibatches of 100, "
        f"random_state=0) for {cfg['epochs']} epochs, each in a fresh process "
        "whose peak RSS is its whole footprint (interpreter, libraries and the "
        "47 MB of MNIST images the generator draws from). The in-memory "
        "reference is the median of "
        f"{references[0]['reps']} `partial_fit` calls on MNIST's 60 000 rows "
        "(float32, 188 MB), measured before and after the others.",
        "",
        "| training | rows x epochs | seconds | rows/s | vs in-memory | "
        "peak RSS MB | RSS before training MB | test accuracy | other CPUs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for index, reference in enumerate(references):
        lines.append(
            f"| {OUT_OF_CORE_CONTENDERS['in-memory']} "
            f"({'before' if index == 0 else 'after'}) | 60,000 x "
            f"{reference['reps']} | {reference['epoch_seconds']['median']:.2f} "
            f"per call | {reference['rows_per_second']:,.0f} | "
            f"{reference['rows_per_second'] / ooc['in_memory_rows_per_second']:.2f}"
            f" | {reference['peak_rss_bytes'] / 1e6:.0f} | – | "
            f"{reference['test_accuracy']:.4f} | "
            f"{_fmt(reference['other_cpu'], '{:.2f}')} |"
        )
    for name, run in runs.items():
        if name == "in-memory":
            continue
        lines.append(
            f"| {OUT_OF_CORE_CONTENDERS[name]} | {cfg['rows']:,} x {cfg['epochs']} "
            f"| {run['seconds']:.1f} | {run['rows_per_second']:,.0f} | "
            f"{run['vs_in_memory']:.2f} | {run['peak_rss_bytes'] / 1e6:.0f} | "
            f"{run['rss_before_bytes'] / 1e6:.0f} | {run['test_accuracy']:.4f} | "
            f"{_fmt(run['other_cpu'], '{:.2f}')} |"
        )
    accuracy = ooc["accuracy"]
    lines += [
        "",
        'MB are 10^6 bytes. "Other CPUs": the CPUs that other processes used '
        "on average during the run.",
        "",
    ]
    if ooc.get("latency_runs"):
        latency_rows = next(iter(ooc["latency_runs"].values()))["rows"]
        block_mb = cfg["block_rows"] * N_FEATURES_SYNTHETIC * 4 / 1e6
        lines += [
            f"When loading waits: the same training for 1 epoch on a "
            f"{latency_rows:,}-row array of the same kind whose every block "
            f"first waits {ooc['latency'] * 1000:.0f} ms (a read of "
            f"{block_mb:.0f} MB from storage at "
            f"{block_mb / ooc['latency']:,.0f} MB/s), then is generated as above.",
            "",
            "| training | rows/s | vs in-memory | peak RSS MB |",
            "|---|---|---|---|",
        ]
        for name, run in ooc["latency_runs"].items():
            lines.append(
                f"| {OUT_OF_CORE_CONTENDERS[name]} | {run['rows_per_second']:,.0f} | "
                f"{run['vs_in_memory']:.2f} | {run['peak_rss_bytes'] / 1e6:.0f} |"
            )
        lines.append("")
    lines += [
        f"Test accuracy after {accuracy['epochs']} epochs on the same "
        f"{accuracy['rows']:,} generated rows (a smaller array, "
        f"{accuracy['rows'] // cfg['block_rows']} blocks, that also fits in "
        "memory), one pair of models per seed (data, weights and block order "
        "seeded alike): in memory, `partial_fit` on the whole array, a new "
        "permutation of all rows each epoch; out of core, `fit_out_of_core`, a "
        "new order of the blocks each epoch and the rows shuffled within each "
        "block.",
        "",
        "| seed | in memory | out of core | difference |",
        "|---|---|---|---|",
    ]
    for pair in accuracy["pairs"]:
        lines.append(
            f"| {pair['seed']} | {pair['in_memory']:.4f} | {pair['out_of_core']:.4f}"
            f" | {pair['out_of_core'] - pair['in_memory']:+.4f} |"
        )
    lines += [
        f"| mean (sd) | {accuracy['in_memory_mean']:.4f} "
        f"({_fmt(accuracy['in_memory_sd'], '{:.4f}')}) | "
        f"{accuracy['out_of_core_mean']:.4f} "
        f"({_fmt(accuracy['out_of_core_sd'], '{:.4f}')}) | "
        f"{accuracy['difference_mean']:+.4f} (standard error "
        f"{_fmt(accuracy['difference_se'], '{:.4f}')}) |",
        "",
    ]
    if report:
        lines += [
            f"Targets (issue 13), for `fit_out_of_core` with its defaults: peak RSS "
            f"<= {TARGET_OOC_PEAK_RSS / 1e9:.0f} GB, rows/s >= "
            f"{TARGET_OOC_VS_IN_MEMORY:.0%} of in-memory `partial_fit`'s, test "
            "accuracy no lower than in memory beyond "
            f"{-TARGET_OOC_ACCURACY_SE:.0f} standard errors of the mean paired "
            "difference.",
            "",
            *targets_table(targets),
        ]
    return lines


# ----------------------------------------------------------------------
# Searches on the machine's cores: n_jobs=1, loky, Dask and Ray (issue 13)
# ----------------------------------------------------------------------
SEARCH_MODES = {
    "quick": dict(rows=6_000, max_iter=3, reps=1),
    "full": dict(rows=20_000, max_iter=10, reps=3),
}
SEARCH_HIDDEN = (128,)
SEARCH_GRID = {
    "backpropmlpclassifier__alpha": [1e-4, 1e-3, 1e-2],
    "backpropmlpclassifier__learning_rate_init": [0.05, 0.1],
}
SEARCH_CV = 3
SEARCH_WORKERS = 2
SEARCH_BACKENDS = {
    "n_jobs=1": "`n_jobs=1`: every fit in this process, one after the other",
    "loky": "joblib's default backend, loky: `n_jobs=2` worker processes",
    "dask": "Dask `LocalCluster(n_workers=2, threads_per_worker=1)`, worker "
    "processes, `parallel_backend('dask')`",
    "ray": "Ray started locally, `ray.init(num_cpus=2)`, `parallel_backend('ray')`",
}
# Read when ray is imported and by the processes it starts: every Ray address
# on 127.0.0.1 (by default Ray uses the machine's outward address), and no
# usage statistics sent.
SEARCH_RAY_ENVIRON = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def _search_probe(_):
    """(process id, NumPy's BLAS threads, where sklearn_backprop comes from)."""
    from threadpoolctl import threadpool_info

    import sklearn_backprop

    threads = [
        pool["num_threads"]
        for pool in threadpool_info()
        if pool["user_api"] == "blas" and _is_numpys(pool["filepath"])
    ]
    return os.getpid(), max(threads, default=None), sklearn_backprop.__file__


def _probe_backend(backend, n_jobs):
    """What 2 x SEARCH_WORKERS tasks of ``backend`` report: BLAS threads per
    process, and the package's location."""
    import joblib

    with joblib.parallel_backend(backend):
        probes = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_search_probe)(i) for i in range(2 * SEARCH_WORKERS)
        )
    return {
        "blas_threads": sorted({threads for _, threads, _ in probes}, key=str),
        "package": sorted({path for _, _, path in probes}),
    }


def _search_machine_load(seconds=5.0):
    """CPUs other processes use while this one sleeps: the machine's own load."""
    before = cpu_snapshot()
    time.sleep(seconds)
    return other_cpu(before, cpu_snapshot())


def bench_search(mode):
    """Wall time of one GridSearchCV with n_jobs=1, loky, Dask and Ray.

    The search (a MinMaxScaler and a 784-128-10 BackpropMLPClassifier, 6
    candidates x 3 folds on the first MNIST training rows) runs once per
    repetition under each backend, the order rotated between repetitions; the
    Dask cluster and Ray are started once, beforehand (their start-up times
    are reported apart). Every run must give the results of n_jobs=1.
    """
    import joblib
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    from sklearn_backprop import BackpropMLPClassifier
    from sklearn_backprop.datasets import load_mnist

    cfg = SEARCH_MODES[mode]
    results = {
        "rows": cfg["rows"],
        "n_features": 784,
        "hidden_layer_sizes": list(SEARCH_HIDDEN),
        "max_iter": cfg["max_iter"],
        "grid": SEARCH_GRID,
        "cv": SEARCH_CV,
        "n_fits": SEARCH_CV * int(np.prod([len(v) for v in SEARCH_GRID.values()])),
        "workers": SEARCH_WORKERS,
        "reps": cfg["reps"],
        "backends": {name: {"label": label} for name, label in SEARCH_BACKENDS.items()},
        "load_average_before": list(os.getloadavg()),
    }
    log("search: the machine's own load (5 s idle sample)")
    results["other_cpu_idle_before"] = _search_machine_load()
    X, _, y, _ = load_mnist(scale=True)
    X = np.ascontiguousarray(X[: cfg["rows"]], dtype=np.float32)
    y = np.asarray(y[: cfg["rows"]])
    estimator = make_pipeline(
        MinMaxScaler(),
        BackpropMLPClassifier(
            hidden_layer_sizes=SEARCH_HIDDEN, max_iter=cfg["max_iter"], random_state=0
        ),
    )
    searches = {name: [] for name in SEARCH_BACKENDS}

    def run(name, backend, n_jobs):
        def fit():
            search = GridSearchCV(
                estimator, SEARCH_GRID, cv=SEARCH_CV, n_jobs=n_jobs, error_score="raise"
            )
            with joblib.parallel_backend(backend):
                searches[name].append(search.fit(X, y))

        return fit

    environ = dict(os.environ)
    with contextlib.ExitStack() as stack:
        # Dask: worker processes on the loopback interface, no dashboard.
        from distributed import Client, LocalCluster

        start = time.perf_counter()
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=SEARCH_WORKERS,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            )
        )
        stack.enter_context(Client(cluster))
        dask_start = time.perf_counter() - start
        # The nanny leaves OMP_NUM_THREADS=1 (and the like) in this process's
        # environment, where Ray's processes would inherit them.
        os.environ.clear()
        os.environ.update(environ)
        # Ray: a new local instance on the loopback interface; its workers
        # import the working tree's package, as this process does.
        os.environ.update(SEARCH_RAY_ENVIRON)
        import ray
        from ray.util.joblib import register_ray

        start = time.perf_counter()
        ray.init(
            address="local",
            num_cpus=SEARCH_WORKERS,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
        )
        stack.callback(ray.shutdown)
        ray_start = time.perf_counter() - start
        gcs = ray.get_runtime_context().gcs_address
        if not gcs.startswith("127.0.0.1:"):
            raise RuntimeError(f"Ray listens on {gcs}, not on the loopback interface")
        register_ray()
        results["startup_seconds"] = {"dask": dask_start, "ray": ray_start}
        log(f"search: Dask cluster up in {dask_start:.1f} s, Ray in {ray_start:.1f} s")

        backends = {
            "n_jobs=1": ("sequential", 1),
            "loky": ("loky", SEARCH_WORKERS),
            "dask": ("dask", -1),
            "ray": ("ray", -1),
        }
        for name, (backend, n_jobs) in backends.items():
            results["backends"][name].update(_probe_backend(backend, n_jobs))
        log(
            f"search: {results['n_fits']} fits per search, {cfg['reps']} "
            f"repetition(s) of {', '.join(backends)}"
        )
        times = interleaved(
            {name: run(name, *spec) for name, spec in backends.items()}, cfg["reps"]
        )
    os.environ.clear()
    os.environ.update(environ)
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)

    reference = searches["n_jobs=1"][0]
    for name, runs in searches.items():
        same = all(
            s.best_params_ == reference.best_params_
            and s.best_score_ == reference.best_score_
            and np.array_equal(
                s.cv_results_["mean_test_score"],
                reference.cv_results_["mean_test_score"],
            )
            for s in runs
        )
        results["backends"][name].update(
            seconds=summary(times[name]),
            same_results_as_n_jobs_1=bool(same),
            best_score=float(runs[0].best_score_),
            speedup_vs_n_jobs_1=ratio(median(times["n_jobs=1"]), median(times[name])),
        )
        log(
            f"  {name}: {median(times[name]):.2f} s"
            + ("" if same else " (results differ from n_jobs=1!)")
        )
    results["best_params"] = reference.best_params_
    return results


def search_markdown(search):
    """The search section: wall time per backend, BLAS threads, start-up."""
    grid = " x ".join(
        f"{name.split('__')[1]} {values}" for name, values in search["grid"].items()
    )
    lines = [
        "### Searches: `GridSearchCV` with n_jobs=1, loky, Dask and Ray",
        "",
        f"`GridSearchCV(make_pipeline(MinMaxScaler(), BackpropMLPClassifier("
        f"hidden_layer_sizes={tuple(search['hidden_layer_sizes'])}, "
        f"max_iter={search['max_iter']}, random_state=0)), cv={search['cv']})` "
        f"over {grid}: {search['n_fits']} fits on the first {search['rows']:,} "
        f"MNIST training images (784 float32 pixels), then the refit; "
        f"{search['reps']} repetition(s), backends interleaved. The Dask cluster "
        "and Ray run on this machine, started once before the repetitions "
        f"(start-up: Dask {search['startup_seconds']['dask']:.1f} s, Ray "
        f"{search['startup_seconds']['ray']:.1f} s, not in the times below). "
        "Load before the section: load average "
        f"{search['load_average_before'][0]:.2f}, other processes "
        f"{_fmt(search['other_cpu_idle_before'], '{:.2f}')} CPUs (an idle "
        "sample; during the section, the workers count as other processes).",
        "",
        "| backend | NumPy's BLAS threads per process | search s median (min) "
        "| n_jobs=1 / this | same results as n_jobs=1 |",
        "|---|---|---|---|---|",
    ]
    for run in search["backends"].values():
        seconds = run["seconds"]
        threads = ", ".join(str(t) for t in run["blas_threads"])
        lines.append(
            f"| {run['label']} | {threads} | {seconds['median']:.2f} "
            f"({seconds['min']:.2f}) | {_fmt(run['speedup_vs_n_jobs_1'], '{:.2f}')}x "
            f"| {'yes' if run['same_results_as_n_jobs_1'] else '**no**'} |"
        )
    lines += [
        "",
        "The BLAS threads are what each backend's processes report (threadpoolctl) "
        "inside the backend: joblib limits loky's workers to cpu_count // n_jobs "
        "threads, Dask's nanny starts its workers with `OMP_NUM_THREADS`, "
        "`OPENBLAS_NUM_THREADS` and `MKL_NUM_THREADS` set to 1, Ray its workers "
        "with `OMP_NUM_THREADS` set to their CPUs (1). So n_jobs=1 runs one fit "
        "at a time on every core's BLAS thread, the others two fits at a time "
        "on one thread each: their ratio to n_jobs=1 is what a second BLAS "
        "thread fails to gain within one fit (small products, the per-minibatch "
        "Python and element-wise work), less the backend's own costs (loky "
        "memory-maps X for its workers, Dask and Ray copy it to theirs).",
        "",
    ]
    return lines


# ----------------------------------------------------------------------
# Machine and environment
# ----------------------------------------------------------------------
def machine_info(use_torch):
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    import sklearn_backprop

    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read(), re.MULTILINE)
        if match:
            cpu = match.group(1).strip()
    memory = None
    with contextlib.suppress(OSError), open("/proc/meminfo") as meminfo:
        match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo.read(), re.MULTILINE)
        if match:
            memory = int(match.group(1)) * 1024
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "sklearn_backprop": sklearn_backprop.__version__,
    }
    if use_torch:
        import torch

        versions["torch"] = torch.__version__
    git = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git["commit"] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "sklearn_backprop"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        git["package_modified"] = bool(changed.strip())
    env_prefixes = ("OPENBLAS_", "OMP_", "MKL_", "GOTO", "BLIS_", "SKLEARN_BACKPROP")
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_bytes": memory,
        "platform": platform.platform(),
        "versions": versions,
        "threadpools": [
            {
                key: pool.get(key)
                for key in (
                    "user_api",
                    "internal_api",
                    "prefix",
                    "version",
                    "num_threads",
                    "threading_layer",
                    "architecture",
                )
                if pool.get(key) is not None
            }
            | {"library": Path(pool["filepath"]).name}
            for pool in threadpool_info()
        ],
        "environment": {
            k: v for k, v in sorted(os.environ.items()) if k.startswith(env_prefixes)
        },
        "git": git,
    }


# ----------------------------------------------------------------------
# Targets and report
# ----------------------------------------------------------------------
def make_target(key, label, value, threshold, fmt, *, higher=False, note=""):
    """One row of a targets table: the measured value, the threshold, the verdict."""
    return {
        "id": key,
        "target": label,
        "value": value,
        "threshold": threshold,
        "comparison": ">=" if higher else "<=",
        "format": fmt,
        "status": verdict(value, threshold, higher_is_better=higher),
        "note": note,
    }


def _floor_ratios(results):
    """Ours' epoch and predict_proba over their floors, from a run's results."""
    epochs = results.get("epochs") or {}

    def over_floor(times):
        if "ours" not in times or "floor_all" not in times:
            return None
        return ratio(times["ours"]["median"], times["floor_all"]["median"])

    return {
        "epoch": over_floor(epochs.get("epoch_seconds") or {}),
        "predict_proba": over_floor(epochs.get("predict_proba_seconds") or {}),
    }


def baseline(results, path=BENCH_DIR / "results" / "latest.json"):
    """The committed report's ratios to the floor when it was measured on the
    same kind of CPU (else None), and a note saying which report it was."""
    try:
        committed = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, "no committed report"
    cpu = (committed.get("machine") or {}).get("cpu")
    if cpu != (results.get("machine") or {}).get("cpu"):
        return None, f"committed report measured on another CPU ({cpu})"
    return _floor_ratios(committed), f"committed report of {committed.get('date')}"


def evaluate_targets(results):
    epochs = results.get("epochs") or {}
    seconds = {
        name: s["median"] for name, s in (epochs.get("epoch_seconds") or {}).items()
    }
    predicts = {
        name: s["median"]
        for name, s in (epochs.get("predict_proba_seconds") or {}).items()
    }
    defaults = results.get("defaults") or {}
    capped = defaults.get("capped_max_iter") is not None
    memory = (results.get("memory") or {}).get("ours") or {}
    scaling = (results.get("scaling") or {}).get("ours") or {}

    targets = []

    def add(*args, **kwargs):
        targets.append(make_target(*args, **kwargs))

    ahead_of = [seconds.get(n) for n in ("sklearn", "torch") if seconds.get(n)]
    add(
        "1a",
        "epoch time / the faster of scikit-learn's and PyTorch eager's",
        ratio(seconds.get("ours"), min(ahead_of, default=None)),
        TARGET_AHEAD,
        "{:.2f}x",
        note="ahead of both below 1" if ahead_of else "",
    )
    add(
        "1b",
        "epoch time / floor of the 784x256 layer's matmuls (X.W1, X^T.delta)",
        ratio(seconds.get("ours"), seconds.get("floor_first")),
        TARGET_EPOCH_VS_FLOOR,
        "{:.2f}x",
    )
    epoch_vs_floor = ratio(seconds.get("ours"), seconds.get("floor_all"))
    add(
        "1c",
        "epoch time / floor of all 5 matmuls of an epoch",
        epoch_vs_floor,
        TARGET_EPOCH_VS_FLOOR,
        "{:.2f}x",
    )
    base, base_note = baseline(results)
    base = base or {}
    add(
        "1d",
        "epoch / floor, over the committed report's (same CPU)",
        ratio(epoch_vs_floor, base.get("epoch")),
        TARGET_NO_REGRESSION,
        "{:.2f}x",
        note=base_note,
    )
    ours_default = defaults.get("ours") or {}
    previous = defaults.get("previous") or {}
    sk_adam = defaults.get("sklearn_adam") or {}
    note = "capped max_iter: run without --quick" if capped else ""
    n_seeds = len(ours_default.get("runs") or [])
    add(
        "2a",
        f"defaults: worst test accuracy of {n_seeds} seeds (median "
        f"{ours_default.get('test_accuracy') or 0:.2%}, aim {AIM_ACCURACY:.1%})",
        None if capped else ours_default.get("worst_test_accuracy"),
        TARGET_ACCURACY,
        "{:.2%}",
        higher=True,
        note=note,
    )
    add(
        "2b",
        "defaults: fit time / scikit-learn adam fit time",
        None
        if capped
        else ratio(ours_default.get("fit_seconds"), sk_adam.get("fit_seconds")),
        TARGET_FIT_VS_SKLEARN_ADAM,
        "{:.2f}x",
        note=note,
    )
    add(
        "2c",
        "defaults: fit time / the previous defaults' (20 epochs at step 0.1), "
        "medians over the seeds",
        None
        if capped
        else ratio(ours_default.get("fit_seconds"), previous.get("fit_seconds")),
        TARGET_FIT_VS_PREVIOUS,
        "{:.2f}x",
        note=note,
    )
    add(
        "2d",
        "defaults: ConvergenceWarnings over the seeds' fits",
        None if capped else ours_default.get("convergence_warnings"),
        0,
        "{:d}",
        note=note,
    )
    predict_vs_floor = ratio(predicts.get("ours"), predicts.get("floor_all"))
    add(
        "3a",
        "predict_proba (10 000 rows) / floor of its 2 forward matmuls",
        predict_vs_floor,
        TARGET_PREDICT_VS_FLOOR,
        "{:.2f}x",
    )
    predict_peers = [predicts.get(n) for n in ("sklearn", "torch") if predicts.get(n)]
    add(
        "3b",
        "predict_proba / the faster of scikit-learn's and PyTorch eager's",
        ratio(predicts.get("ours"), min(predict_peers, default=None)),
        TARGET_AHEAD,
        "{:.2f}x",
    )
    add(
        "3c",
        "predict_proba / floor, over the committed report's (same CPU)",
        ratio(predict_vs_floor, base.get("predict_proba")),
        TARGET_NO_REGRESSION,
        "{:.2f}x",
        note=base_note,
    )
    add(
        "4",
        "peak extra memory of fit (tracemalloc) / X.nbytes",
        memory.get("tracemalloc_ratio"),
        TARGET_MEMORY_X_COPIES,
        "{:.3f}x",
    )
    sizes = (results.get("scaling") or {}).get("sizes") or []
    span = f"{min(sizes):,}-{max(sizes):,} rows" if sizes else ""
    add(
        "5",
        f"scaling: max/min time per sample, {span}".rstrip(", "),
        scaling.get("max_over_min_us_per_sample"),
        TARGET_SCALING_FLATNESS,
        "{:.2f}",
        note=(
            f"log-log slope {scaling['loglog_slope']:.3f}"
            if "loglog_slope" in scaling
            else ""
        ),
    )
    ahead_by_size = [
        ratio(
            row["ours"]["us_per_sample"],
            min(row[n]["us_per_sample"] for n in ("sklearn", "torch") if n in row),
        )
        for row in (results.get("scaling") or {}).get("rows") or []
        if "ours" in row and ("sklearn" in row or "torch" in row)
    ]
    add(
        "5b",
        "scaling: time per sample / the faster of scikit-learn's and PyTorch "
        "eager's, worst size",
        max(ahead_by_size, default=None),
        TARGET_AHEAD,
        "{:.2f}x",
    )
    return targets


def evaluate_regression_targets(regression):
    """Per data set and solver: our median test R² minus scikit-learn's."""
    targets = []
    for data_name, data in regression["datasets"].items():
        for solver, runs in data["solvers"].items():
            ours, sk = runs["ours"], runs["sklearn"]
            targets.append(
                make_target(
                    f"{data_name}/{solver}",
                    f"{data_name}, solver='{solver}': median test R², ours "
                    "minus scikit-learn's",
                    ours["test_r2_median"] - sk["test_r2_median"],
                    TARGET_R2_VS_SKLEARN,
                    "{:+.4f}",
                    higher=True,
                    note=f"{ours['test_r2_median']:.4f} vs "
                    f"{sk['test_r2_median']:.4f}; worst seed "
                    f"{ours['test_r2_worst']:.4f} vs {sk['test_r2_worst']:.4f}",
                )
            )
    return targets


def _fmt(value, fmt="{:.3f}"):
    return "–" if value is None else fmt.format(value)


def _ms(seconds):
    return _fmt(None if seconds is None else 1e3 * seconds, "{:.1f}")


def _mb(n_bytes):
    return _fmt(None if n_bytes is None else n_bytes / 2**20, "{:.1f}")


def targets_table(targets):
    """Markdown lines of a targets table, a blank line last."""
    lines = [
        "| # | target | measured | required | status |",
        "|---|---|---|---|---|",
    ]
    for t in targets:
        value = _fmt(t["value"], t["format"])
        if t["note"]:
            value += f" ({t['note']})"
        required = f"{t['comparison']} {t['format'].format(t['threshold'])}"
        lines.append(
            f"| {t['id']} | {t['target']} | {value} | {required} | **{t['status']}** |"
        )
    return [*lines, ""]


def regression_markdown(regression, targets, *, report=True):
    """The regression section: R² and fit times, then (``report``) the verdicts."""
    seeds = regression["seeds"]
    solvers = ", ".join(
        f"'{solver}'" + "".join(f" with {k}={v}" for k, v in params.items())
        for solver, params in regression["solver_params"].items()
    )
    lines = [
        "### Regression: test R², `BackpropMLPRegressor` against `MLPRegressor`",
        "",
        "Every contender has the same parameters (the defaults otherwise: "
        "hidden_layer_sizes=(100,), relu, alpha=1e-4, batch_size='auto', "
        f"max_iter=200) and random_state {seeds[0]}-{seeds[-1]}, one fit per "
        f"seed, interleaved; solvers {solvers}. Train/test split "
        f"{1 - regression['split']['test_size']:.0%}/"
        f"{regression['split']['test_size']:.0%}, random_state="
        f"{regression['split']['random_state']}.",
        "",
    ]
    for name, data in regression["datasets"].items():
        lines.append(
            f"- {name}: {data['description']}; {data['n_train']} training, "
            f"{data['n_test']} test rows."
        )
    lines += [
        "",
        "| data set | solver | contender | test R² median | worst | "
        "largest per-seed R² gap from ours | epochs (median) | fit s median (min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for data_name, data in regression["datasets"].items():
        for solver, runs in data["solvers"].items():
            for name, run in runs.items():
                seconds = run["fit_seconds"]
                gap = None if name == "ours" else run["max_abs_r2_diff_vs_ours"]
                lines.append(
                    f"| {data_name} | {solver} | "
                    f"{regression['contenders'][name]} | "
                    f"{run['test_r2_median']:.4f} | {run['test_r2_worst']:.4f} | "
                    f"{_fmt(gap, '{:.4f}')} | {median(run['n_iter']):g} | "
                    f"{seconds['median']:.2f} ({seconds['min']:.2f}) |"
                )
    lines += [
        "",
        "With the same random_state both start from the same weights and "
        "biases, split and shuffle alike: 'adam' and 'sgd' then agree to "
        "rounding, while L-BFGS's line searches amplify rounding differences "
        "over its iterations.",
        "",
    ]
    if report:
        lines += [
            f"Target: our median test R² >= scikit-learn's "
            f"{TARGET_R2_VS_SKLEARN:+.2f}, per data set and solver (measured: the "
            "difference, then both medians and both worst seeds).",
            "",
            *targets_table(targets),
        ]
    return lines


def render_markdown(results, *, report=True):
    """The results as Markdown.

    ``report`` (``latest.md``, the benchmark's own report) adds the targets with
    their verdicts, the git commit and the environment variables that name
    files; the section written into the README, for readers of the results,
    has none of them.
    """
    info = results["machine"]
    environment = {
        k: v
        for k, v in info["environment"].items()
        if report or not os.path.isabs(os.path.expanduser(v))
    }
    lines = [
        f"Run of {results['date']} ({results['mode']} mode, "
        f"{results['elapsed_seconds'] / 60:.1f} min"
        f"{', targets ' + ','.join(results['only']) if results.get('only') else ''}).",
        "",
        f"- Machine: {info['cpu']}, {info['usable_cpus']} usable CPUs, "
        f"{_fmt(info['memory_bytes'] and info['memory_bytes'] / 2**30, '{:.0f}')}"
        " GiB; load average "
        f"{results['load_average_start'][0]:.2f} at start, "
        f"{results['load_average_end'][0]:.2f} at end; other processes used "
        + ", ".join(
            f"{cpus:.2f}" + f" ({name})"
            for name, cpus in results["other_cpu_by_section"].items()
        )
        + " CPUs on average"
        + (
            " (**busy machine: timings unreliable**)"
            if max(results["other_cpu_by_section"].values(), default=0) > BUSY_CPUS
            else ""
        )
        + ".",
        "- Versions: "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + (
            f"; git {info['git'].get('commit')}"
            + (" + uncommitted package changes" * info["git"].get("package_modified"))
            if report and info["git"].get("commit")
            else ""
        )
        + ".",
        "- Thread pools: "
        + "; ".join(
            f"{p.get('internal_api')} {p.get('version') or ''} "
            f"in {p.get('library')} ({p.get('num_threads')} threads"
            + (f", {p['architecture']}" if p.get("architecture") else "")
            + ")"
            for p in info["threadpools"]
        )
        + ".",
        "- Environment: "
        + (
            ", ".join(f"`{k}={v}`" for k, v in environment.items())
            or "no BLAS/OpenMP variables"
        )
        + ".",
        "",
    ]

    if results.get("time_to_98"):  # the headline: what a user waits for
        import time_to_accuracy

        lines += [
            "### Time to 98 %",
            "",
            time_to_accuracy.markdown(results["time_to_98"]),
        ]

    epochs = results.get("epochs") or {}
    memory = results.get("memory") or {}
    defaults = results.get("defaults") or {}
    if epochs or memory:
        es = epochs.get("epoch_seconds") or {}
        ps = epochs.get("predict_proba_seconds") or {}
        acc = epochs.get("test_accuracy_after_epochs") or {}
        n_ep = epochs.get("epochs_trained")
        lines += [
            "### Contenders (MNIST 60 000 x 784 float32, 784-256-10 logistic, "
            "batch 100)",
            "",
            "| contender | s/epoch median (min) | predict_proba 10k, ms "
            "| peak extra memory of fit, MiB (x X) | test acc. after "
            f"{n_ep or '–'} epochs |",
            "|---|---|---|---|---|",
        ]
        rows = [
            ("ours", "sklearn_backprop `BackpropMLPClassifier` (partial_fit)"),
            ("sklearn", "scikit-learn `MLPClassifier` (partial_fit)"),
            ("torch", "PyTorch eager CPU"),
            ("floor_first", "floor: 784x256 layer's 2 matmuls"),
            ("floor_all", "floor: all 5 matmuls"),
            ("floor_all_gather", "floor: all 5 matmuls + row gather"),
        ]
        for key, label in rows:
            if key not in es and key not in memory:
                continue
            epoch = es.get(key)
            epoch_text = f"{epoch['median']:.3f} ({epoch['min']:.3f})" if epoch else "–"
            predict = ps.get(key)
            mem = memory.get(key) or {}
            if "tracemalloc_ratio" in mem and key != "torch":
                mem_text = (
                    f"{_mb(mem['tracemalloc_peak_bytes'])} "
                    f"({mem['tracemalloc_ratio']:.3f}) traced; "
                    f"RSS {_mb(mem.get('rss_peak_extra_bytes'))}"
                )
            elif "rss_peak_extra_bytes" in mem:
                mem_text = (
                    f"RSS {_mb(mem['rss_peak_extra_bytes'])} "
                    f"({_fmt(mem.get('rss_ratio'))})"
                )
            elif "error" in mem:
                mem_text = "error"
            else:
                mem_text = "–"
            lines.append(
                f"| {label} | {epoch_text} | "
                f"{_ms(predict['median']) if predict else '–'} | {mem_text} | "
                f"{_fmt(acc.get(key), '{:.2%}')} |"
            )
        lines += [
            "",
            "Epochs of the estimators are `partial_fit(X_train, y_train)` calls "
            "(one shuffled epoch each, input validation included); floors run on "
            "contiguous minibatches unless marked 'row gather'. Floor "
            "predict_proba: the two forward matmuls only. Paired median of "
            "ours/scikit-learn per repetition: "
            f"{_fmt(epochs.get('ours_over_sklearn_paired_median'), '{:.2f}x')}.",
            "",
        ]

    if report and results.get("targets"):
        lines += [
            "### Targets (issue 4, re-based on the floor by issue 11)",
            "",
            *targets_table(results["targets"]),
        ]

    if defaults:
        lines += [
            "### "
            + ("Target 2: full" if report else "Full")
            + " training with defaults"
            + (
                f" (capped at max_iter={defaults['capped_max_iter']})"
                if defaults.get("capped_max_iter")
                else ""
            ),
            "",
            "| model | seeds | epochs | fit s | s/epoch | test accuracy "
            "(worst / median) | ConvergenceWarnings |",
            "|---|---|---|---|---|---|---|",
        ]
        previous = ", ".join(
            f"{k}={v!r}" for k, v in (defaults.get("previous_params") or {}).items()
        )
        for key, label in (
            ("ours", "`BackpropMLPClassifier(random_state=seed)`"),
            (
                "previous",
                f"`BackpropMLPClassifier({previous}, random_state=seed)` "
                "(the defaults before issue 11)",
            ),
            (
                "sklearn_adam",
                "`MLPClassifier(hidden_layer_sizes=(256,), activation='logistic', "
                "random_state=0)`",
            ),
        ):
            d = defaults.get(key)
            if d:
                runs = d.get("runs") or [d]
                worst = d.get("worst_test_accuracy", d["test_accuracy"])
                lines.append(
                    f"| {label} | {len(runs)} | {d['n_iter']:g} | "
                    f"{d['fit_seconds']:.1f} | {d['seconds_per_epoch']:.3f} | "
                    f"{worst:.2%} / {d['test_accuracy']:.2%} | "
                    f"{d['convergence_warnings']} |"
                )
        lines += [
            "",
            "Medians over the seeds (fitted seed by seed, the two configurations "
            "of ours interleaved).",
            "",
        ]

    scaling = results.get("scaling") or {}
    if scaling.get("rows"):
        names = [
            n
            for n in ("ours", "sklearn", "torch", "floor_all")
            if any(n in r for r in scaling["rows"])
        ]
        titles = {
            "ours": "ours",
            "sklearn": "scikit-learn",
            "torch": "PyTorch",
            "floor_all": "floor (all matmuls)",
        }
        lines += [
            "### "
            + ("Target 5: scaling" if report else "Scaling")
            + " with the number of samples (synthetic 784 float32 features, "
            "10 classes)",
            "",
            "| samples | ours s/epoch | "
            + " | ".join(f"{titles[n]} µs/sample" for n in names)
            + " | ours / floor |",
            "|---" * (3 + len(names)) + "|",
        ]
        for r in scaling["rows"]:
            cells = [
                _fmt(r[n]["us_per_sample"], "{:.2f}") if n in r else "–" for n in names
            ]
            floor = r.get("floor_all", {}).get("seconds_per_epoch")
            lines.append(
                f"| {r['n_samples']:,} | {r['ours']['seconds_per_epoch']:.3f} | "
                + " | ".join(cells)
                + f" | {_fmt(ratio(r['ours']['seconds_per_epoch'], floor), '{:.2f}x')}"
                + " |"
            )
        summaries = [
            f"{titles[n]} {scaling[n]['max_over_min_us_per_sample']:.2f} "
            f"(slope {scaling[n]['loglog_slope']:.3f})"
            for n in names
            if n in scaling
        ]
        lines += [
            "",
            "Fastest of the repetitions per size. Max/min time per sample "
            "(log-log slope of time against samples): " + ", ".join(summaries) + ".",
            "",
        ]

    threads = epochs.get("threads_epoch_seconds") or {}
    if threads:
        libraries = epochs.get("blas_libraries") or []
        numpy_threads = [lib["num_threads"] for lib in libraries if lib["numpys"]]
        default = f"{numpy_threads[0]} threads" if numpy_threads else "default"
        others = [lib["library"] for lib in libraries if not lib["numpys"]]
        lines += [
            "### BLAS threads (threadpoolctl limits), s/epoch median",
            "",
            f"| contender | default ({default}) | every BLAS 1 thread | "
            "NumPy's BLAS default, other BLAS libraries 1 thread |",
            "|---|---|---|---|",
        ]
        for key, label in (
            ("floor_all", "floor: all 5 matmuls"),
            ("ours", "ours"),
            ("sklearn", "scikit-learn"),
        ):
            cells = [
                _fmt((threads.get(f"{key}/{setting}") or {}).get("median"))
                for setting in ("default", "all_1", "others_1")
            ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "BLAS libraries loaded: "
            + ", ".join(
                f"{lib['library']} ({lib['version']}, {lib['num_threads']} threads"
                + (", NumPy's" if lib["numpys"] else "")
                + ")"
                for lib in libraries
            )
            + "."
            + (
                f" Other BLAS than NumPy's ({', '.join(others)}) run their own "
                "thread pool."
                if others
                else ""
            ),
            "",
        ]

    if results.get("regression"):
        lines += regression_markdown(
            results["regression"],
            results.get("regression_targets") or [],
            report=report,
        )

    if results.get("out_of_core"):
        lines += out_of_core_markdown(
            results["out_of_core"],
            results.get("out_of_core_targets") or [],
            report=report,
        )

    if results.get("search"):
        lines += search_markdown(results["search"])

    if results.get("errors"):
        lines += ["### Errors", ""]
        for section, message in results["errors"].items():
            lines.append(f"- {section}: `{message.splitlines()[-1]}`")
        lines.append("")
    return "\n".join(lines)


def write_atomic(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def update_readme(markdown):
    text = README.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        log(f"{README} has no {README_START}/{README_END} markers; not updated")
        return False
    section = f"{README_START}\n\n{markdown.strip()}\n\n{README_END}"
    write_atomic(README, text[:start] + section + text[end + len(README_END) :])
    return True


# ----------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------
def cpu_snapshot():
    """(wall seconds, CPU seconds of the whole machine, of this process + children)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal: all but idle and iowait.
    busy = sum(fields) - fields[3] - fields[4]
    own = sum(
        getattr(resource.getrusage(who), attr)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for attr in ("ru_utime", "ru_stime")
    )
    return time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), own


def other_cpu(before, after):
    """Average number of CPUs used by other processes (and the hypervisor)."""
    if before is None or after is None or after[0] <= before[0]:
        return None
    busy, own = after[1] - before[1], after[2] - before[2]
    return max(busy - own, 0.0) / (after[0] - before[0])


def wait_for_idle(max_seconds, usable_cpus):
    """Sleep until the 1-minute load average is low, for at most max_seconds."""
    deadline = time.monotonic() + max_seconds
    while os.getloadavg()[0] > BUSY_LOAD * usable_cpus:
        if time.monotonic() > deadline:
            log(f"load average still {os.getloadavg()[0]:.1f}; starting anyway")
            return
        log(f"waiting for an idle machine (load average {os.getloadavg()[0]:.1f})")
        time.sleep(15)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark sklearn_backprop against scikit-learn, PyTorch and "
        "the bare matrix-product floor (issue 4's targets).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repetitions, sizes up to 300 000, target 2 capped and "
        "3 regression seeds instead of 5 (about 2 minutes)",
    )
    parser.add_argument(
        "--no-torch", action="store_true", help="leave PyTorch out even if importable"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCH_DIR / "results",
        help="directory for latest.json, latest.md and scaling.png, or "
        "regression.json and regression.md (default: benchmarks/results)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated targets to run, among 1,2,3,4,5 (1 and 3 run "
        "together), 'regression', 'out-of-core' and 'search'; the README is "
        "then left alone. '--only regression' writes regression.json and "
        "regression.md instead of latest.json and latest.md, '--only "
        "out-of-core' out-of-core.json and out-of-core.md, '--only search' "
        "search.json and search.md, '--only time-to-98' time-to-98.json and "
        "time-to-98.md, '--only 2' defaults.json and defaults.md",
    )
    parser.add_argument(
        "--max-size",
        type=int,
        default=None,
        help="largest number of synthetic rows for target 5",
    )
    parser.add_argument(
        "--no-readme",
        action="store_true",
        help="do not rewrite the 'Latest results' section of benchmarks/README.md",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="MNIST file for sklearn_backprop.datasets.load_mnist (sets "
        "SKLEARN_BACKPROP_MNIST; default: that variable, else "
        "../shared/data/mnist.npz beside the checkout)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to SECONDS for the 1-minute load average to fall below "
        f"{BUSY_LOAD} per CPU (default: start at once)",
    )
    parser.add_argument(
        "--device",
        choices=["cuda", "cpu"],
        default=None,
        help="run the GPU benchmark (benchmarks/gpu.py) instead: 'cuda' measures "
        "ours on PyTorch and CuPy arrays against the plain CuPy loop, PyTorch "
        "eager and the matrix products, into gpu.json and gpu.md; 'cpu' with "
        "--quick is a dry run of the same code on a few thousand rows",
    )
    parser.add_argument("--memory-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--memory-epochs", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--out-of-core-worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.device:
        # scikit-learn's array API dispatch needs SciPy's, which SciPy reads
        # when it is first imported: before anything below imports it.
        os.environ.setdefault("SCIPY_ARRAY_API", "1")
    if args.data:
        os.environ["SKLEARN_BACKPROP_MNIST"] = str(Path(args.data).resolve())
    elif "SKLEARN_BACKPROP_MNIST" not in os.environ:
        shared = REPO.parent / "shared" / "data" / "mnist.npz"
        if shared.exists():
            os.environ["SKLEARN_BACKPROP_MNIST"] = str(shared)
    if args.memory_worker:
        memory_worker(args.memory_worker, args.memory_epochs)
        return 0
    if args.out_of_core_worker:
        out_of_core_worker(json.loads(args.out_of_core_worker))
        return 0

    quiet_warnings()
    mode = "quick" if args.quick else "full"
    if args.device:
        import gpu  # beside this script

        results = gpu.run(args.device, mode, args.output)
        return 1 if results["errors"] else 0  # a contender did not run
    cfg = MODES[mode]
    only = sorted(set(args.only.replace(" ", "").split(","))) if args.only else None
    sections = {*ISSUE_4_TARGETS, "regression", "out-of-core", "search", "time-to-98"}
    if only and not set(only) <= sections:
        raise SystemExit(
            "--only takes targets among 1,2,3,4,5, 'regression', 'out-of-core', "
            f"'search' and 'time-to-98'; got {args.only!r}"
        )
    # A run of the regression or the out-of-core section alone has its own
    # files, so that it never replaces the report of a run of issue 4's targets.
    stem = (
        only[0]
        if only in (["regression"], ["out-of-core"], ["search"], ["time-to-98"])
        else "defaults"
        if only == ["2"]
        else "latest"
    )

    def wanted(*targets):
        return only is None or any(t in only for t in targets)

    use_torch = torch_available(args)
    usable_cpus = len(os.sched_getaffinity(0))
    if args.wait_idle:
        wait_for_idle(args.wait_idle, usable_cpus)
    started = time.perf_counter()
    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": mode,
        "only": only,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
        "torch": use_torch,
        "load_average_start": list(os.getloadavg()),
        "other_cpu_by_section": {},
        "errors": {},
    }
    log(f"{mode} run; PyTorch {'on' if use_torch else 'off'}")

    def section(name, fn, *fn_args):
        before = cpu_snapshot()
        try:
            results[name] = fn(*fn_args)
        except Exception:  # a broken contender must not lose the other results
            results["errors"][name] = traceback.format_exc()
            log(f"{name} failed:\n{results['errors'][name]}")
        other = other_cpu(before, cpu_snapshot())
        if other is not None:
            results["other_cpu_by_section"][name] = other
            if other > BUSY_CPUS:
                log(
                    f"busy machine: other processes used {other:.2f} of "
                    f"{usable_cpus} CPUs during {name}; its timings are unreliable"
                )

    data = None
    if wanted("1", "2", "3", "time-to-98"):
        log("loading MNIST")
        data = load_data()
    if wanted("time-to-98"):
        import time_to_accuracy  # beside this script

        log("time to 98 %")
        section(
            "time_to_98",
            time_to_accuracy.bench_time_to_accuracy,
            data,
            mode,
            use_torch,
            log,
        )
    if wanted("1", "3"):
        section("epochs", bench_epochs_and_predict, data, cfg, use_torch)
    if wanted("2"):
        section("defaults", bench_defaults, data, cfg)
    data = None
    if wanted("4"):
        section("memory", bench_memory, cfg, use_torch)
    if wanted("5"):
        section("scaling", bench_scaling, cfg, use_torch, args.max_size)
    if wanted("regression"):
        section("regression", bench_regression, cfg)
    if wanted("out-of-core"):
        section("out_of_core", bench_out_of_core, mode)
    if wanted("search"):
        section("search", bench_search, mode)

    results["machine"] = machine_info(use_torch)
    results["load_average_end"] = list(os.getloadavg())
    results["elapsed_seconds"] = time.perf_counter() - started
    results["targets"] = evaluate_targets(results) if wanted(*ISSUE_4_TARGETS) else []
    if results.get("regression"):
        results["regression_targets"] = evaluate_regression_targets(
            results["regression"]
        )
    if results.get("out_of_core"):
        results["out_of_core_targets"] = evaluate_out_of_core_targets(
            results["out_of_core"]
        )

    args.output.mkdir(parents=True, exist_ok=True)
    if results.get("scaling"):
        plot_scaling(results["scaling"], args.output / "scaling.png")
        results["scaling_plot"] = "scaling.png"
    markdown = render_markdown(results)
    plot_link = "\n![Time per epoch against samples]({})\n"
    write_atomic(
        args.output / f"{stem}.json", json.dumps(results, indent=2, default=str) + "\n"
    )
    write_atomic(
        args.output / f"{stem}.md",
        f"## {stem.capitalize()} results\n\n"
        + markdown
        + (plot_link.format("scaling.png") if results.get("scaling_plot") else ""),
    )
    print(markdown)
    complete = mode == "full" and only is None and not results["errors"]
    if args.no_readme:
        pass
    elif complete and args.output.resolve() == (BENCH_DIR / "results").resolve():
        readme_markdown = render_markdown(results, report=False)
        if update_readme(readme_markdown + plot_link.format("results/scaling.png")):
            log(f"updated the results section of {README}")
    else:
        log("README left alone (only a complete full run into benchmarks/results)")
    log(
        f"wrote {args.output}/{stem}.json, {stem}.md; "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
