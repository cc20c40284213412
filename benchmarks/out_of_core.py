"""Out-of-core training (issue 13): the classifier trains for several epochs
on a lazily generated Dask array larger than memory with
``sklearn_backprop.dask.fit_out_of_core`` (and dask-ml's ``Incremental`` when
importable), each in a fresh subprocess (``python -m benchmarks
--out-of-core-worker SPEC``), against in-memory ``partial_fit``: rows per
second, peak RSS and test accuracy. ``--only out-of-core`` runs it alone,
into ``out-of-core.json`` and ``out-of-core.md``.
"""

import contextlib
import functools
import gc
import io
import json
import os
import resource
import statistics
import time
import warnings

import numpy as np

from benchmarks.contenders import CLASSES, OURS_SGD_CONFIG, ours_classifier
from benchmarks.data import N_PIXELS, Source, scaled
from benchmarks.machine import (
    cpu_snapshot,
    other_cpu,
    peak_rss_bytes,
    rss_bytes,
    run_worker,
)
from benchmarks.report import fmt, make_target, ms, targets_table
from benchmarks.timing import log, median, summary, timed

MODES = {
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
    "dry-run": dict(
        rows=2_000,
        block_rows=500,
        epochs=1,
        in_memory_reps=1,
        accuracy_rows=1_000,
        accuracy_epochs=1,
        accuracy_seeds=2,
        latency_rows=1_000,
        in_process=True,  # the workers' code without their start-ups
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


# ----------------------------------------------------------------------
# The lazy data
# ----------------------------------------------------------------------
@functools.cache
def _images(source):
    """The source's uint8 images (MNIST's: 47 MB), loaded once per process."""
    return source.images()


def test_set(source):
    """The source's test images scaled to [0, 1] in float32, and their labels."""
    _, X_test, _, y_test = _images(source)
    return scaled(X_test), y_test


@functools.cache
def _noise_bank(seed):
    """The bank of noise rows of ``seed``, drawn once per process."""
    rng = np.random.default_rng([seed, 2**32 - 1])  # not a block's index
    shape = (OUT_OF_CORE_NOISE_BANK, N_PIXELS)
    return rng.integers(0, OUT_OF_CORE_NOISE_LEVELS, shape, dtype=np.uint8)


def block(source, seed, index, rows):
    """Block ``index`` of the lazy data: training images drawn at random
    (with replacement, by a generator seeded with ``(seed, index)``), each plus
    a noise row drawn from the seed's bank, float32 in [0, 1]; and labels."""
    images, _, labels, _ = _images(source)
    noise_bank = _noise_bank(seed)
    rng = np.random.default_rng([seed, index])
    drawn = rng.integers(0, len(images), rows)
    X = images[drawn].astype(np.float32)
    X += noise_bank[rng.integers(0, len(noise_bank), rows)]
    X *= np.float32(1 / (255 + OUT_OF_CORE_NOISE_LEVELS - 1))  # pixel + noise <= 280
    return X, labels[drawn]


def _block_after(latency, source, seed, index, rows):
    """``block``, after waiting ``latency`` seconds, as a read would."""
    time.sleep(latency)
    return block(source, seed, index, rows)


def lazy_data(source, rows, block_rows, seed, latency=0.0):
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
            task = dask.delayed(_block_after, pure=True)(
                latency, source, seed, index, block_rows
            )
        else:
            task = dask.delayed(block, pure=True)(source, seed, index, block_rows)
        X_blocks.append(da.from_delayed(task[0], (block_rows, N_PIXELS), np.float32))
        y_blocks.append(da.from_delayed(task[1], (block_rows,), np.int64))
    return da.concatenate(X_blocks), da.concatenate(y_blocks)


# ----------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------
def worker(spec):
    """Train one contender; print its figures as JSON (in the subprocess).

    A fresh process per contender, so that its peak RSS (VmHWM) is its
    own: the whole process, interpreter, libraries and images included.
    """
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    name, seed, source = spec["contender"], spec["seed"], Source(**spec["data"])
    rows, block_rows, epochs = spec["rows"], spec["block_rows"], spec["epochs"]
    result = dict(spec)
    warm_X, warm_y = block(source, seed + 1, 0, 1000)
    ours_classifier(**OURS_SGD_CONFIG).partial_fit(warm_X, warm_y, classes=CLASSES)
    del warm_X, warm_y
    model = ours_classifier(**OURS_SGD_CONFIG, random_state=seed)
    if name == "in-memory":
        X, _, y, _ = source.load()
        model.partial_fit(X[:1000], y[:1000], classes=CLASSES)
        seconds = [timed(model.partial_fit, X, y) for _ in range(spec["reps"])]
        result["train_rows"] = len(X)
        result["epoch_seconds"] = summary(seconds)
        result["rows_per_second"] = len(X) / median(seconds)
        # What one block costs: generating it, and training on it.
        generate = [timed(block, source, seed, i, block_rows) for i in range(5)]
        X_block, y_block = block(source, seed, 0, block_rows)
        train = [timed(model.partial_fit, X_block, y_block) for _ in range(5)]
        result["block_generate_seconds"] = summary(generate)
        result["block_train_seconds"] = summary(train)
    else:
        import dask

        X, y = lazy_data(source, rows, block_rows, seed, spec.get("latency", 0.0))
        gc.collect()
        result["rss_before_bytes"] = rss_bytes()
        start = time.perf_counter()
        if name == "dask-ml":
            from dask_ml.wrappers import Incremental

            # A RandomState instance, so that each call (epoch) draws a new
            # block order: an int would repeat the same order every epoch.
            incremental = Incremental(model, random_state=np.random.RandomState(seed))
            with dask.config.set(scheduler="sync"):
                for _ in range(epochs):
                    incremental.partial_fit(X, y, classes=CLASSES)
            model = incremental.estimator_
        else:
            from sklearn_backprop.dask import fit_out_of_core

            fit_out_of_core(
                model,
                X,
                y,
                epochs=epochs,
                classes=CLASSES,
                random_state=seed,
                prefetch={"auto": "auto", "prefetch": 1, "no-prefetch": 0}[name],
            )
        seconds = time.perf_counter() - start
        result["seconds"] = seconds
        result["rows_per_second"] = rows * epochs / seconds
        result["rows_trained"] = int(model.t_)
        result["partial_fit_calls"] = len(model.loss_curve_)
    # VmHWM, whose mark a new program starts afresh: ru_maxrss carries the
    # parent's resident memory at the fork over the exec (a full run's parent
    # holds gigabytes by then), which it would report as this worker's peak.
    result["peak_rss_bytes"] = peak_rss_bytes() or (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    X_test, y_test = test_set(source)
    result["test_accuracy"] = float(model.score(X_test, y_test))
    print(json.dumps(result))


def _run_worker(spec, in_process=False):
    """Run ``worker(spec)`` in a subprocess (the dry run: in this process, the
    same code without a process's start-up): its result, with the CPU that
    other processes used meanwhile and the load average after it."""
    before = cpu_snapshot()
    if in_process:
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            worker(spec)
        stdout = printed.getvalue()
    else:
        done = run_worker("out-of-core-worker", spec)
        if done.returncode != 0:
            raise RuntimeError(
                f"out-of-core worker {spec['contender']} failed:\n{done.stderr[-3000:]}"
            )
        stdout = done.stdout
    other = other_cpu(before, cpu_snapshot())
    result = json.loads(stdout.strip().splitlines()[-1])
    result["other_cpu"] = other
    result["load_average_after"] = os.getloadavg()[0]
    return result


def accuracy(cfg, source):
    """Test accuracy after training on the same lazy rows in memory (a new
    permutation of all rows each epoch) and out of core (a new order of the
    blocks each epoch, rows shuffled within blocks), one pair per seed."""
    import dask

    from sklearn_backprop.dask import fit_out_of_core

    X_test, y_test = test_set(source)
    pairs = []
    for seed in range(cfg["accuracy_seeds"]):
        X, y = lazy_data(source, cfg["accuracy_rows"], cfg["block_rows"], seed)
        log(f"out-of-core: accuracy, seed {seed}: in memory, then out of core")
        X_np, y_np = dask.compute(X, y, scheduler="sync")
        in_memory = ours_classifier(**OURS_SGD_CONFIG, random_state=seed)
        for _ in range(cfg["accuracy_epochs"]):
            in_memory.partial_fit(X_np, y_np, classes=CLASSES)
        del X_np, y_np
        out_of_core = ours_classifier(**OURS_SGD_CONFIG, random_state=seed)
        fit_out_of_core(
            out_of_core,
            X,
            y,
            epochs=cfg["accuracy_epochs"],
            classes=CLASSES,
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

    def sd(values):
        return statistics.stdev(values) if n > 1 else None

    difference_sd = sd(differences)
    return {
        "rows": cfg["accuracy_rows"],
        "epochs": cfg["accuracy_epochs"],
        "pairs": pairs,
        "in_memory_mean": statistics.fmean(p["in_memory"] for p in pairs),
        "out_of_core_mean": statistics.fmean(p["out_of_core"] for p in pairs),
        "in_memory_sd": sd([p["in_memory"] for p in pairs]),
        "out_of_core_sd": sd([p["out_of_core"] for p in pairs]),
        "difference_mean": statistics.fmean(differences),
        "difference_se": difference_sd / n**0.5 if difference_sd is not None else None,
    }


def bench(mode, source):
    """Throughput, peak RSS and accuracy of out-of-core training (issue 13).

    Each contender trains in a fresh subprocess, in this order: in-memory
    reference, ``fit_out_of_core`` with its defaults, with and without
    prefetching, dask-ml's ``Incremental`` (when dask-ml is importable),
    in-memory reference again; the in-memory rate is the mean of the two
    references. Then ``fit_out_of_core`` with each prefetch setting on a
    smaller array whose blocks wait ``OUT_OF_CORE_LATENCY`` before they are
    generated (slow storage), and the accuracy comparison in this process.
    """
    cfg = MODES[mode]
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
            "data": source.to_json(),
        }
        log(f"out-of-core: {name}, latency {latency} s, in a subprocess")
        result = _run_worker(spec, in_process=cfg.get("in_process", False))
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
        "accuracy": accuracy(cfg, source),
    }


# ----------------------------------------------------------------------
# Targets and report
# ----------------------------------------------------------------------
def targets(ooc):
    """Issue 13's targets, for fit_out_of_core with its defaults."""
    ours = ooc["runs"].get("auto") or {}
    acc = ooc["accuracy"]
    se = acc["difference_se"]
    in_se = acc["difference_mean"] / se if se else None
    rows = ooc["config"]["rows"]
    return [
        make_target(
            "13/memory",
            "out-of-core peak RSS of the training process, GB",
            ours.get("peak_rss_bytes") and ours["peak_rss_bytes"] / 1e9,
            TARGET_OOC_PEAK_RSS / 1e9,
            "{:.2f}",
            note=f"{rows} x {N_PIXELS} float32 = {rows * N_PIXELS * 4 / 1e9:.1f} GB",
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
            note=f"{acc['difference_mean']:+.4f}, standard error "
            f"{fmt(se, '{:.4f}')}, {len(acc['pairs'])} seeds",
        ),
    ]


def markdown(ooc, targets, *, report=True):
    """The out-of-core section: throughput, memory, accuracy; then the verdicts."""
    cfg = ooc["config"]
    runs = ooc["runs"]
    references = runs["in-memory"]
    first = references[0]
    n_blocks = cfg["rows"] // cfg["block_rows"]
    lines = [
        f"### Out-of-core training: a lazy {cfg['rows']:,} x 784 float32 Dask array",
        "",
        f"The array ({cfg['rows'] * N_PIXELS * 4 / 2**30:.1f} GiB, "
        f"{n_blocks} blocks of {cfg['block_rows']:,} rows) is generated block by "
        "block on demand: MNIST training images drawn at random from a seeded "
        f"generator, each plus a row of integer noise uniform on 0-"
        f"{ooc['noise_levels'] - 1} (one of {ooc['noise_bank']:,} rows drawn once), "
        f"divided by {255 + ooc['noise_levels'] - 1}. "
        f"Generating a block takes {ms(first['block_generate_seconds']['median'])}"
        f" ms, training on it {ms(first['block_train_seconds']['median'])} ms "
        "(medians of 5). Every contender trains the same "
        "`BackpropMLPClassifier` (784-256-10, logistic, SGD, minibatches of 100, "
        f"random_state=0) for {cfg['epochs']} epochs, each in a fresh process "
        "whose peak RSS is its whole footprint (interpreter, libraries and the "
        "47 MB of MNIST images the generator draws from). The in-memory "
        "reference is the median of "
        f"{first['reps']} `partial_fit` calls on MNIST's 60 000 rows "
        "(float32, 188 MB), measured before and after the others.",
        "",
        "| training | rows x epochs | seconds | rows/s | vs in-memory | "
        "peak RSS MB | RSS before training MB | test accuracy | other CPUs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for index, reference in enumerate(references):
        lines.append(
            f"| {OUT_OF_CORE_CONTENDERS['in-memory']} "
            f"({'before' if index == 0 else 'after'}) | "
            f"{reference.get('train_rows', 60_000):,} x "
            f"{reference['reps']} | {reference['epoch_seconds']['median']:.2f} "
            f"per call | {reference['rows_per_second']:,.0f} | "
            f"{reference['rows_per_second'] / ooc['in_memory_rows_per_second']:.2f}"
            f" | {reference['peak_rss_bytes'] / 1e6:.0f} | – | "
            f"{reference['test_accuracy']:.4f} | "
            f"{fmt(reference['other_cpu'], '{:.2f}')} |"
        )
    for name, run in runs.items():
        if name == "in-memory":
            continue
        lines.append(
            f"| {OUT_OF_CORE_CONTENDERS[name]} | {cfg['rows']:,} x {cfg['epochs']} "
            f"| {run['seconds']:.1f} | {run['rows_per_second']:,.0f} | "
            f"{run['vs_in_memory']:.2f} | {run['peak_rss_bytes'] / 1e6:.0f} | "
            f"{run['rss_before_bytes'] / 1e6:.0f} | {run['test_accuracy']:.4f} | "
            f"{fmt(run['other_cpu'], '{:.2f}')} |"
        )
    lines += [
        "",
        'MB are 10^6 bytes. "Other CPUs": the CPUs that other processes used '
        "on average during the run.",
        "",
    ]
    if ooc.get("latency_runs"):
        lines += _latency_markdown(ooc)
    lines += _accuracy_markdown(ooc)
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


def _latency_markdown(ooc):
    cfg = ooc["config"]
    latency_rows = next(iter(ooc["latency_runs"].values()))["rows"]
    block_mb = cfg["block_rows"] * N_PIXELS * 4 / 1e6
    lines = [
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
    return [*lines, ""]


def _accuracy_markdown(ooc):
    cfg, acc = ooc["config"], ooc["accuracy"]
    lines = [
        f"Test accuracy after {acc['epochs']} epochs on the same "
        f"{acc['rows']:,} generated rows (a smaller array, "
        f"{acc['rows'] // cfg['block_rows']} blocks, that also fits in "
        "memory), one pair of models per seed (data, weights and block order "
        "seeded alike): in memory, `partial_fit` on the whole array, a new "
        "permutation of all rows each epoch; out of core, `fit_out_of_core`, a "
        "new order of the blocks each epoch and the rows shuffled within each "
        "block.",
        "",
        "| seed | in memory | out of core | difference |",
        "|---|---|---|---|",
    ]
    for pair in acc["pairs"]:
        lines.append(
            f"| {pair['seed']} | {pair['in_memory']:.4f} | {pair['out_of_core']:.4f}"
            f" | {pair['out_of_core'] - pair['in_memory']:+.4f} |"
        )
    lines += [
        f"| mean (sd) | {acc['in_memory_mean']:.4f} "
        f"({fmt(acc['in_memory_sd'], '{:.4f}')}) | "
        f"{acc['out_of_core_mean']:.4f} "
        f"({fmt(acc['out_of_core_sd'], '{:.4f}')}) | "
        f"{acc['difference_mean']:+.4f} (standard error "
        f"{fmt(acc['difference_se'], '{:.4f}')}) |",
        "",
    ]
    return lines
