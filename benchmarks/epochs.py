"""Targets 1 and 3: the time of an MNIST epoch and of ``predict_proba`` on the
test set, for every contender of ``contenders.EPOCHS``, on the same models;
the same epochs at batch 1000; and the epoch under three BLAS thread settings.

Each contender trains a warm-up epoch (after compiling, for those that
compile: its seconds are reported apart), then ``epoch_reps`` epochs,
interleaved with the other contenders' and rotated between repetitions.
"""

import json
from pathlib import Path

from benchmarks import RESULTS
from benchmarks.contenders import BATCH_SIZE, EPOCHS
from benchmarks.machine import is_numpys
from benchmarks.memory import memory_cell
from benchmarks.report import fmt, make_target, ms, not_run
from benchmarks.timing import interleaved, log, median, ratio, summary, timed

MODES = {
    "quick": dict(epoch_reps=3, thread_reps=2, predict_reps=7),
    "full": dict(epoch_reps=9, thread_reps=5, predict_reps=21),
    "dry-run": dict(epoch_reps=1, thread_reps=1, predict_reps=1),
}
LARGE_BATCH = 1000

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
# same kind of CPU (ratios to the floor differ between CPUs: 1.68x on an AMD
# EPYC machine on 2026-11-28, about 2.6x on an Intel Xeon one, for the same
# code; and between hosts that the CPU's name does not tell apart: 2.50x on
# another AMD EPYC machine on 2026-12-07, where the code of 2026-11-28 ran
# as fast as today's, alternated in one session).
TARGET_NO_REGRESSION = 1.05


# ----------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------
def _trained(entries, data, batch_size, reps):
    """Build, prepare, compile and warm up each entry's contender at
    ``batch_size``, then time ``reps`` interleaved epochs of each."""
    X, _, y, _ = data
    built, prepared, compiled, warmup = {}, {}, {}, {}
    for entry in entries:
        contender = built[entry.key] = entry.build(
            X.shape[1], batch_size=batch_size, seed=0
        )
        prepared[entry.key] = contender.prepare(X, y)
        seconds = contender.compile(prepared[entry.key])
        if seconds is not None:
            compiled[entry.key] = seconds
        warmup[entry.key] = timed(contender.epoch, prepared[entry.key])
    log(f"{reps} interleaved epochs of each contender at batch {batch_size}")
    epochs = {key: _epoch_of(built[key], prepared[key]) for key in built}
    return built, epochs, interleaved(epochs, reps), warmup, compiled


def _epoch_of(contender, data):
    return lambda: contender.epoch(data)


def _thread_settings():
    """The BLAS libraries loaded, and the thread settings to time: the default,
    every BLAS library at 1 thread, and (where SciPy ships its own OpenBLAS,
    say) every library but NumPy's at 1 thread."""
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    blas = [lib for lib in controller.info() if lib["user_api"] == "blas"]
    numpy_blas = [lib for lib in blas if is_numpys(lib["filepath"])]
    other_blas = [lib["filepath"] for lib in blas if lib not in numpy_blas]
    settings = {"default": None, "all_1": controller.select(user_api="blas")}
    if other_blas:
        settings["others_1"] = controller.select(filepath=other_blas)
    libraries = [
        {
            "library": Path(lib["filepath"]).name,
            "version": lib.get("version"),
            "num_threads": lib.get("num_threads"),
            "numpys": lib in numpy_blas,
        }
        for lib in blas
    ]
    return settings, libraries


def _limited(fn, selection):
    def run():
        if selection is None:
            fn()
            return
        with selection.limit(limits=1):
            fn()

    return run


def bench(data, mode, lineup):
    """Targets 1 and 3 on MNIST ``data`` (X_train, X_test, y_train, y_test)."""
    cfg = MODES[mode]
    _, X_test, _, y_test = data
    entries = lineup.select(EPOCHS, "epochs")
    log("target 1: warm-up epochs")
    built, epochs, epoch_times, warmup, compiled = _trained(
        entries, data, BATCH_SIZE, cfg["epoch_reps"]
    )
    paired = [
        o / s for o, s in zip(epoch_times["ours"], epoch_times["sklearn"], strict=True)
    ]
    accuracy = {
        key: score
        for key, contender in built.items()
        if (score := contender.score(X_test, y_test)) is not None
    }
    dtypes = {
        key: contender.weights_dtype
        for key, contender in built.items()
        if contender.weights_dtype is not None
    }

    log(f"target 3: {cfg['predict_reps']} interleaved predict_proba calls")
    predicts = {
        e.key: _predict_of(built[e.key], X_test)
        for e in entries
        if "predict" in e.joins
    }
    for fn in predicts.values():
        fn()  # warm-up (and compilation)
    predict_times = interleaved(predicts, cfg["predict_reps"])
    proba = built["ours"].predict_proba(X_test)

    log(f"BLAS threads: {cfg['thread_reps']} epochs per thread setting")
    settings, libraries = _thread_settings()
    threaded = [e for e in entries if "threads" in e.joins]
    threaded = [e for e in threaded if e.floor] + [e for e in threaded if not e.floor]
    thread_runs = {
        f"{e.key}/{setting}": _limited(epochs[e.key], selection)
        for setting, selection in settings.items()
        for e in threaded
        if not (e.floor and setting == "others_1")  # the floor calls NumPy's only
    }
    thread_times = interleaved(thread_runs, cfg["thread_reps"])
    del built, epochs

    log(f"batch {LARGE_BATCH}: warm-up epochs")
    large = [e for e in entries if "batch_1000" in e.joins]
    _, _, large_times, large_warmup, large_compiled = _trained(
        large, data, LARGE_BATCH, cfg["epoch_reps"]
    )
    return {
        "epoch_seconds": {name: summary(t) for name, t in epoch_times.items()},
        "warmup_seconds": warmup,
        "compile_seconds": compiled,
        "ours_over_sklearn_paired_median": median(paired),
        "epochs_trained": 1 + cfg["epoch_reps"],
        "test_accuracy_after_epochs": accuracy,
        "weights_dtype": dtypes,
        "predict_proba_seconds": {n: summary(t) for n, t in predict_times.items()},
        "predict_proba_dtype": str(proba.dtype),
        "threads_epoch_seconds": {n: summary(t) for n, t in thread_times.items()},
        "blas_libraries": libraries,
        "large_batch": {
            "batch_size": LARGE_BATCH,
            "epoch_seconds": {name: summary(t) for name, t in large_times.items()},
            "warmup_seconds": large_warmup,
            "compile_seconds": large_compiled,
        },
        "not_run": lineup.left_out(EPOCHS, "epochs"),
    }


def _predict_of(contender, X):
    return lambda: contender.predict_proba(X)


# ----------------------------------------------------------------------
# Targets 1 and 3
# ----------------------------------------------------------------------
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


def baseline(results, path=RESULTS / "latest.json"):
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


def _medians(epochs, key):
    return {name: s["median"] for name, s in (epochs.get(key) or {}).items()}


def epoch_targets(results):
    """Targets 1a-1d: ours' epoch against its peers, the floors and the
    committed report."""
    seconds = _medians(results.get("epochs") or {}, "epoch_seconds")
    ahead_of = [seconds.get(n) for n in ("sklearn", "torch") if seconds.get(n)]
    epoch_vs_floor = ratio(seconds.get("ours"), seconds.get("floor_all"))
    base, base_note = baseline(results)
    return [
        make_target(
            "1a",
            "epoch time / the faster of scikit-learn's and PyTorch eager's",
            ratio(seconds.get("ours"), min(ahead_of, default=None)),
            TARGET_AHEAD,
            "{:.2f}x",
            note="ahead of both below 1" if ahead_of else "",
        ),
        make_target(
            "1b",
            "epoch time / floor of the 784x256 layer's matmuls (X.W1, X^T.delta)",
            ratio(seconds.get("ours"), seconds.get("floor_first")),
            TARGET_EPOCH_VS_FLOOR,
            "{:.2f}x",
        ),
        make_target(
            "1c",
            "epoch time / floor of all 5 matmuls of an epoch",
            epoch_vs_floor,
            TARGET_EPOCH_VS_FLOOR,
            "{:.2f}x",
        ),
        make_target(
            "1d",
            "epoch / floor, over the committed report's (same CPU)",
            ratio(epoch_vs_floor, (base or {}).get("epoch")),
            TARGET_NO_REGRESSION,
            "{:.2f}x",
            note=base_note,
        ),
    ]


def predict_targets(results):
    """Targets 3a-3c: ours' predict_proba against the floor, its peers and
    the committed report."""
    predicts = _medians(results.get("epochs") or {}, "predict_proba_seconds")
    predict_vs_floor = ratio(predicts.get("ours"), predicts.get("floor_all"))
    peers = [predicts.get(n) for n in ("sklearn", "torch") if predicts.get(n)]
    base, base_note = baseline(results)
    return [
        make_target(
            "3a",
            "predict_proba (10 000 rows) / floor of its 2 forward matmuls",
            predict_vs_floor,
            TARGET_PREDICT_VS_FLOOR,
            "{:.2f}x",
        ),
        make_target(
            "3b",
            "predict_proba / the faster of scikit-learn's and PyTorch eager's",
            ratio(predicts.get("ours"), min(peers, default=None)),
            TARGET_AHEAD,
            "{:.2f}x",
        ),
        make_target(
            "3c",
            "predict_proba / floor, over the committed report's (same CPU)",
            ratio(predict_vs_floor, (base or {}).get("predict_proba")),
            TARGET_NO_REGRESSION,
            "{:.2f}x",
            note=base_note,
        ),
    ]


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
def markdown(epochs, memory):
    """The contenders table (epochs, predict_proba, the memory section's
    peaks, accuracy), then ours against each at batch 100 and 1000."""
    es = epochs.get("epoch_seconds") or {}
    ps = epochs.get("predict_proba_seconds") or {}
    acc = epochs.get("test_accuracy_after_epochs") or {}
    lines = [
        "### Contenders (MNIST 60 000 x 784 float32, 784-256-10 logistic, batch 100)",
        "",
        "| contender | s/epoch median (min) | predict_proba 10k, ms "
        "| peak extra memory of fit, MiB (x X) | test acc. after "
        f"{epochs.get('epochs_trained') or '–'} epochs |",
        "|---|---|---|---|---|",
    ]
    for entry in EPOCHS:
        key = entry.key
        if key not in es and key not in memory:
            continue
        epoch = es.get(key)
        epoch_text = f"{epoch['median']:.3f} ({epoch['min']:.3f})" if epoch else "–"
        predict = ps.get(key)
        lines.append(
            f"| {entry.label} | {epoch_text} | "
            f"{ms(predict['median']) if predict else '–'} | "
            f"{memory_cell(entry, memory)} | {fmt(acc.get(key), '{:.2%}')} |"
        )
    lines += [
        "",
        "Epochs of the estimators are `partial_fit(X_train, y_train)` calls "
        "(one shuffled epoch each, input validation included); floors run on "
        "contiguous minibatches unless marked 'row gather'. Floor "
        "predict_proba: the two forward matmuls only. Paired median of "
        "ours/scikit-learn per repetition: "
        f"{fmt(epochs.get('ours_over_sklearn_paired_median'), '{:.2f}x')}.",
        "",
        *not_run(epochs.get("not_run")),
    ]
    return lines + _batches_markdown(epochs)


def _batches_markdown(epochs):
    """Ours' epoch over each contender's, at batch 100 and 1000 (reports from
    before the batch-1000 measurement have none)."""
    large = epochs.get("large_batch")
    if not large:
        return []
    columns = [epochs.get("epoch_seconds") or {}, large["epoch_seconds"]]
    compiled = [epochs.get("compile_seconds") or {}, large["compile_seconds"]]
    lines = [
        f"### Ours against each contender, batch {BATCH_SIZE} and "
        f"{large['batch_size']}",
        "",
        f"| contender | batch {BATCH_SIZE}: s/epoch median (min) | ours / this | "
        f"batch {large['batch_size']}: s/epoch median (min) | ours / this | "
        "compile s (batch 100, 1000) |",
        "|---|---|---|---|---|---|",
    ]
    for entry in EPOCHS:
        if not any(entry.key in column for column in columns):
            continue
        cells = []
        for column in columns:
            seconds = column.get(entry.key)
            ours = (column.get("ours") or {}).get("median")
            cells += [
                f"{seconds['median']:.3f} ({seconds['min']:.3f})" if seconds else "–",
                fmt(ratio(ours, seconds and seconds["median"]), "{:.2f}x"),
            ]
        compile_cell = ", ".join(fmt(c.get(entry.key), "{:.2f}") for c in compiled)
        if not any(entry.key in c for c in compiled):
            compile_cell = "–"
        lines.append(f"| {entry.label} | " + " | ".join(cells) + f" | {compile_cell} |")
    lines += [
        "",
        "Below 1, ours is faster. Each contender's first epoch at each batch size "
        "is a warm-up, not timed with the others; a contender that compiles "
        "(Keras) compiles its training step before it, on one minibatch, timed "
        "apart (the compile column).",
        "",
    ]
    return lines


def threads_markdown(epochs):
    """The BLAS threads table: an epoch under three thread settings."""
    threads = epochs.get("threads_epoch_seconds") or {}
    if not threads:
        return []
    libraries = epochs.get("blas_libraries") or []
    numpy_threads = [lib["num_threads"] for lib in libraries if lib["numpys"]]
    default = f"{numpy_threads[0]} threads" if numpy_threads else "default"
    others = [lib["library"] for lib in libraries if not lib["numpys"]]
    lines = [
        "### BLAS threads (threadpoolctl limits), s/epoch median",
        "",
        f"| contender | default ({default}) | every BLAS 1 thread | "
        "NumPy's BLAS default, other BLAS libraries 1 thread |",
        "|---|---|---|---|",
    ]
    rows = [e for e in EPOCHS if "threads" in e.joins]
    for entry in [e for e in rows if e.floor] + [e for e in rows if not e.floor]:
        cells = [
            fmt((threads.get(f"{entry.key}/{setting}") or {}).get("median"))
            for setting in ("default", "all_1", "others_1")
        ]
        label = entry.label if entry.floor else entry.title
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
            f" Other BLAS than NumPy's ({', '.join(others)}) run their own thread pool."
            if others
            else ""
        ),
        "",
    ]
    return lines
