"""Target 4: the peak memory of ``fit``, each contender of
``contenders.EPOCHS`` that joins 'memory' in a fresh subprocess
(``python -m benchmarks --memory-worker SPEC``), so that the peak is its own.

Before the baseline, each worker fits a throw-away model on 1 000 rows
(imports, lazily loaded modules, BLAS/OpenMP thread buffers), so that only
what ``fit`` itself needs is counted: by tracemalloc (Python and NumPy
allocations) and by the kernel's peak-RSS mark, reset where allowed.
"""

import gc
import json
import resource
import time
import tracemalloc
import warnings

from benchmarks.contenders import EPOCHS
from benchmarks.data import Source
from benchmarks.machine import peak_rss_bytes, reset_peak_rss, rss_bytes, run_worker
from benchmarks.report import fmt, make_target, mb
from benchmarks.timing import log

MODES = {
    "quick": dict(memory_epochs=2),
    "full": dict(memory_epochs=2),
    "dry-run": dict(memory_epochs=1),
}
TARGET_MEMORY_X_COPIES = 1.0


def worker(spec):
    """Fit one contender and print its peak extra memory as JSON (in the
    subprocess)."""
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    name, epochs = spec["contender"], spec["epochs"]
    (entry,) = [e for e in EPOCHS if e.key == name and "memory" in e.joins]
    X, _, y, _ = Source.from_json(spec["data"]).load()
    entry.build(X.shape[1], seed=1).fit(X[:1000], y[:1000], 2)  # warm-up
    contender = entry.build(X.shape[1], seed=0)
    gc.collect()
    rss_before = rss_bytes()
    hwm_reset = reset_peak_rss()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    contender.fit(X, y, epochs)
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm = peak_rss_bytes()
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "contender": name,
        "epochs": epochs,
        "fit_seconds": seconds,
        "x_nbytes": int(X.nbytes),
        "x_dtype": str(X.dtype),
        "tracemalloc_peak_bytes": int(traced_peak),
        "rss_before_bytes": rss_before,
        "rss_peak_extra_bytes": hwm - rss_before if hwm_reset and hwm else None,
        "maxrss_growth_bytes": (maxrss_after - maxrss_before) * 1024,
    }
    if contender.weights_dtype is not None:
        result["weights_dtype"] = contender.weights_dtype
    print(json.dumps(result))


def bench(mode, lineup, source):
    """Each contender's fit in a subprocess: its peaks, and their ratios to X."""
    epochs = MODES[mode]["memory_epochs"]
    results = {}
    for entry in lineup.select(EPOCHS, "memory"):
        log(f"target 4: peak memory of fit, {entry.key}, in a subprocess")
        spec = {"contender": entry.key, "epochs": epochs, "data": source.to_json()}
        done = run_worker("memory-worker", spec)
        if done.returncode != 0:
            results[entry.key] = {"error": done.stderr.strip()[-2000:]}
            log(f"  failed: {done.stderr.strip()[-500:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        x_nbytes = result["x_nbytes"]
        result["tracemalloc_ratio"] = result["tracemalloc_peak_bytes"] / x_nbytes
        if result["rss_peak_extra_bytes"] is not None:
            result["rss_ratio"] = result["rss_peak_extra_bytes"] / x_nbytes
        results[entry.key] = result
    return results


def targets(results):
    """Target 4: ours' peak extra memory of fit, in copies of X."""
    memory = (results.get("memory") or {}).get("ours") or {}
    return [
        make_target(
            "4",
            "peak extra memory of fit (tracemalloc) / X.nbytes",
            memory.get("tracemalloc_ratio"),
            TARGET_MEMORY_X_COPIES,
            "{:.3f}x",
        )
    ]


def memory_cell(entry, memory):
    """A contender's cell in the contenders table: traced and RSS peaks (RSS
    alone where tracemalloc does not see its allocations: PyTorch's)."""
    result = memory.get(entry.key) or {}
    if "tracemalloc_ratio" in result and entry.traced:
        return (
            f"{mb(result['tracemalloc_peak_bytes'])} "
            f"({result['tracemalloc_ratio']:.3f}) traced; "
            f"RSS {mb(result.get('rss_peak_extra_bytes'))}"
        )
    if "rss_peak_extra_bytes" in result:
        return (
            f"RSS {mb(result['rss_peak_extra_bytes'])} ({fmt(result.get('rss_ratio'))})"
        )
    if "error" in result:
        return "error"
    return "–"
