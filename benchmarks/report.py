"""Reporting: numbers formatted for Markdown, targets and their verdicts, the
files a run writes (atomically), the README's results section, and figures."""

import os

from benchmarks import BENCH_DIR

README = BENCH_DIR / "README.md"
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"


def fmt(value, template="{:.3f}"):
    return "–" if value is None else template.format(value)


def ms(seconds):
    return fmt(None if seconds is None else 1e3 * seconds, "{:.1f}")


def mb(n_bytes):
    return fmt(None if n_bytes is None else n_bytes / 2**20, "{:.1f}")


# ----------------------------------------------------------------------
# Targets and verdicts
# ----------------------------------------------------------------------
def verdict(value, threshold, *, higher_is_better=False):
    if value is None:
        return "n/a"
    ok = value >= threshold if higher_is_better else value <= threshold
    return "PASS" if ok else "FAIL"


def make_target(key, label, value, threshold, template, *, higher=False, note=""):
    """One row of a targets table: the measured value, the threshold, the verdict."""
    return {
        "id": key,
        "target": label,
        "value": value,
        "threshold": threshold,
        "comparison": ">=" if higher else "<=",
        "format": template,
        "status": verdict(value, threshold, higher_is_better=higher),
        "note": note,
    }


def targets_table(targets):
    """Markdown lines of a targets table, a blank line last."""
    lines = [
        "| # | target | measured | required | status |",
        "|---|---|---|---|---|",
    ]
    for t in targets:
        value = fmt(t["value"], t["format"])
        if t["note"]:
            value += f" ({t['note']})"
        required = f"{t['comparison']} {t['format'].format(t['threshold'])}"
        lines.append(
            f"| {t['id']} | {t['target']} | {value} | {required} | **{t['status']}** |"
        )
    return [*lines, ""]


def not_run(skipped):
    """Lines naming the contenders a section left out, and why (none: none)."""
    if not skipped:
        return []
    return [
        "Not run: "
        + "; ".join(f"{label} ({reason})" for label, reason in skipped.items())
        + ".",
        "",
    ]


# ----------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------
def write_atomic(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def update_readme(markdown, readme=README):
    """Replace the README's section between the results markers; False (and
    the README untouched) where it has no markers."""
    text = readme.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    section = f"{README_START}\n\n{markdown.strip()}\n\n{README_END}"
    write_atomic(readme, text[:start] + section + text[end + len(README_END) :])
    return True


def figure(*args, **kwargs):
    """A new Matplotlib figure and its axes (``plt.subplots``), drawn off screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save_png(fig, path):
    """Write ``fig`` as a PNG at ``path``, atomically, and close it."""
    import matplotlib.pyplot as plt

    tmp = path.with_suffix(".png.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
