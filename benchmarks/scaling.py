"""Target 5: how the time of an epoch scales with the number of samples, on
synthetic rows (784 uniform float32 features, 10 random classes), for the
contenders of ``contenders.EPOCHS`` that join 'scaling'; and ``scaling.png``.

Every size trains on the first rows of one array (views, no copy); each
contender's epochs at a size are interleaved with the others', and the table
keeps the fastest of them.
"""

import numpy as np

from benchmarks.contenders import EPOCHS
from benchmarks.data import N_PIXELS, random_rows
from benchmarks.report import figure, fmt, make_target, save_png
from benchmarks.timing import interleaved, log, median, ratio

MODES = {
    "quick": dict(
        sizes=(10_000, 30_000, 100_000, 300_000),
        scaling_reps_small=2,
        scaling_reps_large=1,
        sklearn_max_size=30_000,
    ),
    "full": dict(
        sizes=(10_000, 30_000, 100_000, 300_000, 1_000_000),
        scaling_reps_small=3,
        scaling_reps_large=2,
        sklearn_max_size=100_000,
    ),
    "dry-run": dict(
        sizes=(300, 1_000),
        scaling_reps_small=1,
        scaling_reps_large=1,
        sklearn_max_size=300,
    ),
}
SCALING_LARGE = 300_000  # sizes from here on get scaling_reps_large repetitions
WARM_UP_ROWS = 2000
# "Flat per sample": the slowest size's time per sample over the fastest's.
TARGET_SCALING_FLATNESS = 1.3
# Ours' time per sample over the faster of scikit-learn's and PyTorch eager's.
TARGET_AHEAD = 1.0


def _epoch_of(contender, data):
    return lambda: contender.epoch(data)


def bench(mode, lineup, max_size=None):
    cfg = MODES[mode]
    sizes = [n for n in cfg["sizes"] if max_size is None or n <= max_size]
    n_max = max(sizes)
    log(f"target 5: generating {n_max} x {N_PIXELS} float32 rows")
    X, y = random_rows(n_max)
    entries = lineup.select(EPOCHS, "scaling")
    contenders, prepared = {}, {}
    for entry in entries:
        contender = contenders[entry.key] = entry.build(X.shape[1], seed=0)
        prepared[entry.key] = contender.prepare(X, y)  # shares X's memory
        contender.compile(prepared[entry.key])
        contender.epoch(contender.rows(prepared[entry.key], WARM_UP_ROWS))

    rows = []
    for n in sizes:
        large = n >= SCALING_LARGE
        reps = cfg["scaling_reps_large"] if large else cfg["scaling_reps_small"]
        runs = {
            e.key: _epoch_of(
                contenders[e.key], contenders[e.key].rows(prepared[e.key], n)
            )
            for e in entries
            if not e.slow or n <= cfg["sklearn_max_size"]
        }
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
    del X, prepared

    result = {"sizes": sizes, "rows": rows}
    for entry in entries:
        name = entry.key
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


def targets(results):
    """Targets 5 and 5b: flat time per sample, and ahead at every size."""
    scaling = results.get("scaling") or {}
    ours = scaling.get("ours") or {}
    sizes = scaling.get("sizes") or []
    span = f"{min(sizes):,}-{max(sizes):,} rows" if sizes else ""
    ahead_by_size = [
        ratio(
            row["ours"]["us_per_sample"],
            min(row[n]["us_per_sample"] for n in ("sklearn", "torch") if n in row),
        )
        for row in scaling.get("rows") or []
        if "ours" in row and ("sklearn" in row or "torch" in row)
    ]
    return [
        make_target(
            "5",
            f"scaling: max/min time per sample, {span}".rstrip(", "),
            ours.get("max_over_min_us_per_sample"),
            TARGET_SCALING_FLATNESS,
            "{:.2f}",
            note=(
                f"log-log slope {ours['loglog_slope']:.3f}"
                if "loglog_slope" in ours
                else ""
            ),
        ),
        make_target(
            "5b",
            "scaling: time per sample / the faster of scikit-learn's and PyTorch "
            "eager's, worst size",
            max(ahead_by_size, default=None),
            TARGET_AHEAD,
            "{:.2f}x",
        ),
    ]


def markdown(scaling, *, report=True):
    if not scaling.get("rows"):
        return []
    entries = [
        e
        for e in EPOCHS
        if "scaling" in e.joins and any(e.key in r for r in scaling["rows"])
    ]
    lines = [
        "### "
        + ("Target 5: scaling" if report else "Scaling")
        + " with the number of samples (synthetic 784 float32 features, "
        "10 classes)",
        "",
        "| samples | ours s/epoch | "
        + " | ".join(f"{e.title} µs/sample" for e in entries)
        + " | ours / floor |",
        "|---" * (3 + len(entries)) + "|",
    ]
    for r in scaling["rows"]:
        cells = [
            fmt(r[e.key]["us_per_sample"], "{:.2f}") if e.key in r else "–"
            for e in entries
        ]
        floor = r.get("floor_all", {}).get("seconds_per_epoch")
        lines.append(
            f"| {r['n_samples']:,} | {r['ours']['seconds_per_epoch']:.3f} | "
            + " | ".join(cells)
            + f" | {fmt(ratio(r['ours']['seconds_per_epoch'], floor), '{:.2f}x')}"
            + " |"
        )
    summaries = [
        f"{e.title} {scaling[e.key]['max_over_min_us_per_sample']:.2f} "
        f"(slope {scaling[e.key]['loglog_slope']:.3f})"
        for e in entries
        if e.key in scaling
    ]
    lines += [
        "",
        "Fastest of the repetitions per size. Max/min time per sample "
        "(log-log slope of time against samples): " + ", ".join(summaries) + ".",
        "",
    ]
    return lines


def plot(scaling, path):
    """Seconds per epoch and microseconds per sample against the samples."""
    fig, (left, right) = figure(1, 2, figsize=(11, 4.5))
    for entry in EPOCHS:
        rows = [r for r in scaling["rows"] if entry.key in r]
        if not rows or not entry.plot:
            continue
        label, style = entry.plot
        ns = [r["n_samples"] for r in rows]
        seconds = [r[entry.key]["seconds_per_epoch"] for r in rows]
        left.plot(ns, seconds, style, label=label)
        per_sample = [r[entry.key]["us_per_sample"] for r in rows]
        right.plot(ns, per_sample, style, label=label)
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
    save_png(fig, path)
