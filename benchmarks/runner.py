"""A run: the sections asked for, each measured apart (a section that raises
loses only its own results), the targets evaluated, and the reports written.

``--only`` names sections by the numbers of issue 4's targets (1 and 3 share
their models and always run together) or by name. A run of one named section
(or of target 2) alone writes its own files, so that it never replaces the
report of a run of issue 4's targets (``latest.json``, ``latest.md``).
"""

import datetime
import json
import os
import time
import traceback

from benchmarks import (
    RESULTS,
    across_data,
    defaults,
    epochs,
    machine,
    memory,
    out_of_core,
    regression,
    scaling,
    search,
    time_to_accuracy,
)
from benchmarks.data import MNIST
from benchmarks.report import README, targets_table, update_readme, write_atomic
from benchmarks.timing import log

ISSUE_4_TARGETS = ("1", "2", "3", "4", "5")  # what --only takes besides names
NAMED_SECTIONS = (
    "regression",
    "out-of-core",
    "search",
    "time-to-98",
    "across-data",
)
# The runs of one section alone that write their own files, and their stems.
OWN_FILES = {("2",): "defaults", **{(name,): name for name in NAMED_SECTIONS}}
# Sections whose work runs in other processes (the search's loky, Dask and Ray
# workers): the machine's own load is their idle sample before they start.
WORKERS_ELSEWHERE = ("search",)
PLOT_LINK = "\n![Time per epoch against samples]({})\n"


def parse_only(only):
    """The sorted sections of ``--only``'s comma-separated list (None: all)."""
    if not only:
        return None
    sections = sorted(set(only.replace(" ", "").split(",")))
    if not set(sections) <= {*ISSUE_4_TARGETS, *NAMED_SECTIONS}:
        raise SystemExit(
            "--only takes targets among 1,2,3,4,5, 'regression', 'out-of-core', "
            f"'search', 'time-to-98' and 'across-data'; got {only!r}"
        )
    return sections


def stem(only):
    """The name of a run's files: ``latest`` unless it ran one section alone."""
    return OWN_FILES.get(tuple(only or ()), "latest")


def config(mode):
    """The configuration of issue 4's sections in ``mode`` (the JSON's)."""
    merged = {}
    for section in (epochs, defaults, scaling, memory, regression, across_data):
        merged.update(section.MODES[mode])
    return {k: list(v) if isinstance(v, tuple) else v for k, v in merged.items()}


def run(only, mode, lineup, *, source=MNIST, max_size=None):
    """Measure the sections of ``only`` (None: every one); the results."""

    def wanted(*sections):
        return only is None or any(s in only for s in sections)

    started = time.perf_counter()
    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": mode,
        "only": only,
        "config": config(mode),
        "torch": lineup.includes("torch"),
        "skipped": lineup.skipped,
        "load_average_start": list(os.getloadavg()),
        "other_cpu_by_section": {},
        "errors": {},
    }
    log(f"{mode} run; not run: {lineup.skipped or 'none'}")

    def section(name, fn, *fn_args):
        before = machine.cpu_snapshot()
        try:
            results[name] = fn(*fn_args)
        except Exception:  # a broken contender must not lose the other results
            results["errors"][name] = traceback.format_exc()
            log(f"{name} failed:\n{results['errors'][name]}")
        other = machine.other_cpu(before, machine.cpu_snapshot())
        if name in WORKERS_ELSEWHERE:  # its own workers are the other processes
            other = (results.get(name) or {}).get("other_cpu_idle_before")
        if other is not None:
            results["other_cpu_by_section"][name] = other
            if other > machine.BUSY_CPUS:
                log(
                    f"busy machine: other processes used {other:.2f} of "
                    f"{machine.usable_cpus()} CPUs during {name}; its timings "
                    "are unreliable"
                )

    data = None
    if wanted("1", "2", "3", "time-to-98"):
        log("loading the data")
        data = source.load()
    if wanted("time-to-98"):
        log("time to 98 %")
        section("time_to_98", time_to_accuracy.bench, data, mode, lineup, log)
    if wanted("1", "3"):
        section("epochs", epochs.bench, data, mode, lineup)
    if wanted("2"):
        section("defaults", defaults.bench, data, mode)
    data = None
    if wanted("4"):
        section("memory", memory.bench, mode, lineup, source)
    if wanted("5"):
        section("scaling", scaling.bench, mode, lineup, max_size)
    if wanted("regression"):
        section("regression", regression.bench, mode)
    if wanted("out-of-core"):
        section("out_of_core", out_of_core.bench, mode, source)
    if wanted("search"):
        section("search", search.bench, mode, source)
    if wanted("across-data"):
        section("across_data", across_data.bench, mode)

    results["machine"] = machine.machine_info(lineup.modules())
    results["load_average_end"] = list(os.getloadavg())
    results["elapsed_seconds"] = time.perf_counter() - started
    results["targets"] = issue_4_targets(results) if wanted(*ISSUE_4_TARGETS) else []
    if results.get("regression"):
        results["regression_targets"] = regression.targets(results["regression"])
    if results.get("out_of_core"):
        results["out_of_core_targets"] = out_of_core.targets(results["out_of_core"])
    if results.get("across_data"):
        results["across_data_targets"] = across_data.targets(results["across_data"])
    return results


def issue_4_targets(results):
    """The targets of issue 4 (re-based on the floor by issue 11), in order."""
    return [
        *epochs.epoch_targets(results),
        *defaults.targets(results),
        *epochs.predict_targets(results),
        *memory.targets(results),
        *scaling.targets(results),
    ]


def render_markdown(results, *, report=True):
    """The results as Markdown.

    ``report`` (``latest.md``, the benchmark's own report) adds the targets with
    their verdicts, the git commit and the environment variables that name
    files; the section written into the README, for readers of the results,
    has none of them.
    """
    lines = machine.markdown(results, report=report)
    if results.get("time_to_98"):  # the headline: what a user waits for
        lines += [
            "### Time to 98 %",
            "",
            time_to_accuracy.markdown(results["time_to_98"]),
        ]
    epoch_results = results.get("epochs") or {}
    memory_results = results.get("memory") or {}
    if epoch_results or memory_results:
        lines += epochs.markdown(epoch_results, memory_results)
    if report and results.get("targets"):
        lines += [
            "### Targets (issue 4, re-based on the floor by issue 11)",
            "",
            *targets_table(results["targets"]),
        ]
    lines += defaults.markdown(results.get("defaults") or {}, report=report)
    lines += scaling.markdown(results.get("scaling") or {}, report=report)
    lines += epochs.threads_markdown(epoch_results)
    if results.get("regression"):
        lines += regression.markdown(
            results["regression"],
            results.get("regression_targets") or [],
            report=report,
        )
    if results.get("out_of_core"):
        lines += out_of_core.markdown(
            results["out_of_core"],
            results.get("out_of_core_targets") or [],
            report=report,
        )
    if results.get("search"):
        lines += search.markdown(results["search"])
    if results.get("across_data"):
        lines += across_data.markdown(
            results["across_data"],
            results.get("across_data_targets") or [],
            report=report,
        )
    if results.get("errors"):
        lines += ["### Errors", ""]
        for name, message in results["errors"].items():
            lines.append(f"- {name}: `{message.splitlines()[-1]}`")
        lines.append("")
    return "\n".join(lines)


def write(results, output, *, readme=True):
    """Write the run's JSON, its report and (scaling) its plot into ``output``;
    after a complete full run into benchmarks/results, also the README's
    results section (unless ``readme`` is false). The report's Markdown."""
    name = stem(results["only"])
    output.mkdir(parents=True, exist_ok=True)
    if results.get("scaling"):
        scaling.plot(results["scaling"], output / "scaling.png")
        results["scaling_plot"] = "scaling.png"
    markdown = render_markdown(results)
    write_atomic(
        output / f"{name}.json", json.dumps(results, indent=2, default=str) + "\n"
    )
    write_atomic(
        output / f"{name}.md",
        f"## {name.capitalize()} results\n\n"
        + markdown
        + (PLOT_LINK.format("scaling.png") if results.get("scaling_plot") else ""),
    )
    complete = (
        results["mode"] == "full" and results["only"] is None and not results["errors"]
    )
    if not readme:
        pass
    elif complete and output.resolve() == RESULTS.resolve():
        section = render_markdown(results, report=False)
        if update_readme(section + PLOT_LINK.format("results/scaling.png")):
            log(f"updated the results section of {README}")
        else:
            log(f"{README} has no results markers; not updated")
    else:
        log("README left alone (only a complete full run into benchmarks/results)")
    log(f"wrote {output}/{name}.json, {name}.md")
    return markdown
