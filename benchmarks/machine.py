"""The machine a run measures on: CPU, memory, versions, thread pools, git
commit; the load that other processes put on it; and this process's memory."""

import contextlib
import importlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

from benchmarks import REPO
from benchmarks.report import fmt
from benchmarks.timing import log

# A 1-minute load average above this many processes per CPU delays --wait-idle;
# other processes using more than BUSY_CPUS CPUs on average mark a busy section.
BUSY_LOAD = 0.75
BUSY_CPUS = 0.25
# The library versions every report names; a contender adds the modules it needs.
VERSIONS = {
    "numpy": "numpy",
    "scipy": "scipy",
    "scikit-learn": "sklearn",
    "sklearn_backprop": "sklearn_backprop",
}
# Environment variables that change how BLAS, OpenMP or the package behave.
ENVIRONMENT_PREFIXES = (
    "OPENBLAS_",
    "OMP_",
    "MKL_",
    "GOTO",
    "BLIS_",
    "SKLEARN_BACKPROP",
)


# ----------------------------------------------------------------------
# Load: the CPU that other processes use
# ----------------------------------------------------------------------
def cpu_snapshot():
    """(wall seconds, CPU seconds of the whole machine, of this process + children)."""
    try:
        machine = psutil.cpu_times()
        own = psutil.Process().cpu_times()
    except (OSError, psutil.Error):
        return None
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    # Guest time is already counted in user time (as in /proc/stat).
    busy -= getattr(machine, "guest", 0.0) + getattr(machine, "guest_nice", 0.0)
    mine = own.user + own.system + own.children_user + own.children_system
    return time.monotonic(), busy, mine


def other_cpu(before, after):
    """Average number of CPUs used by other processes (and the hypervisor)."""
    if before is None or after is None or after[0] <= before[0]:
        return None
    busy, own = after[1] - before[1], after[2] - before[2]
    return max(busy - own, 0.0) / (after[0] - before[0])


def idle_cpu_sample(seconds=5.0):
    """CPUs other processes use while this one sleeps: the machine's own load."""
    before = cpu_snapshot()
    time.sleep(seconds)
    return other_cpu(before, cpu_snapshot())


def usable_cpus():
    return len(os.sched_getaffinity(0))


def wait_for_idle(max_seconds):
    """Sleep until the 1-minute load average is low, for at most max_seconds."""
    deadline = time.monotonic() + max_seconds
    while os.getloadavg()[0] > BUSY_LOAD * usable_cpus():
        if time.monotonic() > deadline:
            log(f"load average still {os.getloadavg()[0]:.1f}; starting anyway")
            return
        log(f"waiting for an idle machine (load average {os.getloadavg()[0]:.1f})")
        time.sleep(15)


# ----------------------------------------------------------------------
# A fresh process
# ----------------------------------------------------------------------
def run_worker(option, spec):
    """``python -m benchmarks --<option> <spec as JSON>`` in a fresh process
    from the checkout's root, its output captured: the completed process, whose
    last line of output is the worker's result as JSON."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", f"--{option}", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


# ----------------------------------------------------------------------
# This process's memory
# ----------------------------------------------------------------------
def rss_bytes():
    """This process's resident memory now."""
    return psutil.Process().memory_info().rss


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_bytes():
    """This process's peak-RSS mark (VmHWM), which psutil does not give."""
    with open("/proc/self/status") as status:
        match = re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


# ----------------------------------------------------------------------
# BLAS libraries, versions, the machine
# ----------------------------------------------------------------------
def is_numpys(filepath):
    """Whether a shared library is the one NumPy ships (in numpy.libs or numpy/)."""
    root = Path(np.__file__).resolve().parent
    path = Path(filepath).resolve()
    return path.parent.name.startswith("numpy") and (
        path.parent.parent == root.parent or root in path.parents
    )


def _git():
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
    return git


def _cpu_model():
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read(), re.MULTILINE)
        if match:
            return match.group(1).strip()
    return platform.processor() or "unknown"


def machine_info(modules=()):
    """The machine, the versions of the libraries (those of ``VERSIONS``, then
    ``modules``: the optional ones the run's contenders import), thread pools,
    environment variables and git commit."""
    from threadpoolctl import threadpool_info

    versions = {"python": platform.python_version()}
    for name, module in VERSIONS.items():  # sklearn_backprop's: the working tree's
        versions[name] = importlib.import_module(module).__version__
    for module in modules:  # without importing them (Keras needs its backend set)
        versions[module] = importlib.metadata.version(module)
    pool_keys = (
        "user_api",
        "internal_api",
        "prefix",
        "version",
        "num_threads",
        "threading_layer",
        "architecture",
    )
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "versions": versions,
        "threadpools": [
            {key: pool.get(key) for key in pool_keys if pool.get(key) is not None}
            | {"library": Path(pool["filepath"]).name}
            for pool in threadpool_info()
        ],
        "environment": {
            k: v
            for k, v in sorted(os.environ.items())
            if k.startswith(ENVIRONMENT_PREFIXES)
        },
        "git": _git(),
    }


def markdown(results, *, report=True):
    """The report's first lines: the run, the machine and its load, versions,
    thread pools and environment (``report``: with the git commit and the
    variables that name files)."""
    info = results["machine"]
    environment = {
        k: v
        for k, v in info["environment"].items()
        if report or not os.path.isabs(os.path.expanduser(v))
    }
    other = results["other_cpu_by_section"]
    only = results.get("only")
    memory = info["memory_bytes"] and info["memory_bytes"] / 2**30
    git = info["git"]
    return [
        f"Run of {results['date']} ({results['mode']} mode, "
        f"{results['elapsed_seconds'] / 60:.1f} min"
        f"{', targets ' + ','.join(only) if only else ''}).",
        "",
        f"- Machine: {info['cpu']}, {info['usable_cpus']} usable CPUs, "
        f"{fmt(memory, '{:.0f}')} GiB; load average "
        f"{results['load_average_start'][0]:.2f} at start, "
        f"{results['load_average_end'][0]:.2f} at end; other processes used "
        + ", ".join(f"{cpus:.2f} ({name})" for name, cpus in other.items())
        + " CPUs on average"
        + (
            " (**busy machine: timings unreliable**)"
            if max(other.values(), default=0) > BUSY_CPUS
            else ""
        )
        + ".",
        "- Versions: "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + (
            f"; git {git.get('commit')}"
            + (" + uncommitted package changes" * git.get("package_modified"))
            if report and git.get("commit")
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
