"""GPU benchmark (issue 12): ``python -m benchmarks --device cuda``.

Measures, side by side in one run, the time of one MNIST epoch (60 000 x 784,
float32, a 784-256-10 logistic network, Nesterov SGD, minibatches of 100 and
of 1000) for the contenders of ``contenders.GPU``:

* ours on PyTorch CUDA tensors and on CuPy arrays (``BackpropMLPClassifier``
  under scikit-learn's ``array_api_dispatch``; one ``partial_fit`` per epoch);
* the plain CuPy port of the NumPy minibatch loop (what a user would write by
  hand, the issue's first anchor);
* PyTorch eager with the same model, loss and update (the second anchor);
* the floor: the five matrix products of each minibatch step alone;

and how long ``fit`` with the default hyperparameters takes on PyTorch CUDA
tensors, with its test accuracy (4 seeds).

``--device cpu`` runs the same code with PyTorch on the CPU and the plain loop
on NumPy (into ``gpu-on-cpu.json`` and ``gpu-on-cpu.md``); with ``--quick``, on
3 000 rows: a dry run that checks the code on a machine without a GPU (the
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

from benchmarks.contenders import GPU, Library
from benchmarks.data import MNIST

BATCH_SIZES = (100, 1000)
CONTENDERS = {entry.key: entry for entry in GPU}

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


def libraries(device):
    """The libraries of a run: PyTorch on ``device``; CuPy on CUDA, NumPy
    (standing in for CuPy in the plain loop) on the CPU."""
    found = {"torch": Library("torch", device)}
    found["plain"] = Library("cupy" if device == "cuda" else "numpy", None)
    return found


# ----------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------
def _timed_epoch(contender, data):
    contender.library.synchronize()
    start = time.perf_counter()
    contender.epoch(data)
    contender.library.synchronize()
    return time.perf_counter() - start


def bench_epochs(X, y, libs, reps):
    """Seconds per epoch, per batch size and contender: one warm-up epoch
    each (kernels compiled, memory pools filled), then ``reps`` epochs,
    interleaved contender by contender and rotated every repetition."""
    results = {}
    for batch_size in BATCH_SIZES:
        contenders, errors = {}, {}
        for name, entry in CONTENDERS.items():
            library = libs[entry.library]
            if library.missing:
                errors[name] = library.missing
                continue
            try:
                contender = entry.build(
                    X.shape[1], batch_size=batch_size, library=library
                )
                data = contender.prepare(X, y)
                _timed_epoch(contender, data)  # warm-up
            except Exception as exc:  # a broken contender loses only its row
                errors[name] = f"{type(exc).__name__}: {exc}"
                continue
            contenders[name] = contender, data
        times = {name: [] for name in contenders}
        names = list(contenders)
        for rep in range(reps):
            shift = rep % max(len(names), 1)
            for name in names[shift:] + names[:shift]:
                times[name].append(_timed_epoch(*contenders[name]))
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
        for peer, target, name in (
            ("plain_loop", TARGET_VS_PLAIN_LOOP_B100, "the plain CuPy loop"),
            ("torch_eager", TARGET_VS_TORCH_EAGER_B100, "PyTorch eager"),
        ):
            if peer in b100:
                speedup = b100[peer] / ours
                add(f">= {target}x faster than {name}", speedup, speedup >= target)
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
    for name, entry in CONTENDERS.items():
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
            f"| {entry.label.format(**libs)} | {cells[0]} | {cells[1]} | {relation} |"
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
    X, X_test, y, y_test = data if data is not None else MNIST.load()
    if cfg["rows"]:
        X, y = X[: cfg["rows"]], y[: cfg["rows"]]
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
