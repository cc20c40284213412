"""A dry run of every section of the benchmark (``benchmarks/``) on a few
made-up images, so that a change cannot break a section silently: each runs
as ``python -m benchmarks --only SECTION`` would, writes its report under its
usual file names, and the report has its tables and rows. The sections'
``dry-run`` mode measures nothing (the GPU benchmark's dry run is
``tests/test_gpu_benchmark.py``); no assertion reads a duration. Also: the
package has no import cycle and no module over 600 lines, and
``benchmarks/run.py`` keeps its options.

The dry runs run in one fresh interpreter, not in this one: the sections start
Ray and Dask clusters, import Keras and JAX, set PyTorch's threads, all of
which would stay behind for the tests that come after (tests/test_scaling_out.py
needs Ray to be imported after its loopback settings, JAX warns at every fork).
"""

import ast
import graphlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import BACKENDS, backends_required, optional_backend

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "benchmarks"
if importlib.util.find_spec("benchmarks") is None:  # pytest --import-mode=importlib
    sys.path.insert(0, str(ROOT))

from benchmarks import __main__ as cli  # noqa: E402
from benchmarks import runner  # noqa: E402
from benchmarks.contenders import EPOCHS, TIME_TO_ACCURACY, Lineup  # noqa: E402
from benchmarks.contenders.tabular import TABULAR  # noqa: E402
from benchmarks.data import Source  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
KERAS_MISSING = BACKENDS["keras"]  # the reason, as tests/_helpers.py words it
# 1 000 training and 200 test images: seconds per section.
SYNTHETIC_ROWS = 1000
SECTIONS = (
    "1,3",
    "2",
    "4",
    "5",
    "regression",
    "time-to-98",
    "out-of-core",
    "search",
    "across-data",
)
LINEUP = Lineup()  # as the dry runs' interpreter will find it
# The dry runs' interpreter: each section of argv[3:] into its own folder.
DRIVER = """
import sys
from pathlib import Path
from benchmarks import runner
from benchmarks.contenders import Lineup
from benchmarks.data import Source
output, rows = Path(sys.argv[1]), int(sys.argv[2])
for only in sys.argv[3:]:
    sections = runner.parse_only(only)
    results = runner.run(sections, "dry-run", Lineup(), source=Source(rows))
    runner.write(results, output / only, readme=False)
"""


def installed(name):
    """``name`` importable (not imported here), or the test skipped, saying
    so (failed where back-ends are required)."""
    if importlib.util.find_spec(name) is None:
        if backends_required(name):
            pytest.fail(f"{name} is missing: {BACKENDS[name]}")
        pytest.skip(BACKENDS[name])


def keras_backend():
    """Keras (and its backend) importable, or the test skipped, saying so
    (failed where Keras is required: CI's dev stage)."""
    if not LINEUP.includes(_key("Keras", EPOCHS)):
        if backends_required("keras"):
            pytest.fail(f"Keras is missing: {KERAS_MISSING}")
        pytest.skip(KERAS_MISSING)


def _key(prefix, roster):
    (entry,) = [e for e in roster if e.label.startswith(prefix)]
    return entry.key


def _label(key, roster=EPOCHS):
    (entry,) = [e for e in roster if e.key == key]
    return entry.label


@pytest.fixture(scope="module")
def dry_runs(tmp_path_factory):
    """The folder of every section's dry run, run once per module."""
    output = tmp_path_factory.mktemp("benchmarks")
    command = [sys.executable, "-c", DRIVER, str(output), str(SYNTHETIC_ROWS)]
    done = subprocess.run(
        [*command, *SECTIONS], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return output


@pytest.fixture
def dry_run(dry_runs):
    """A section's dry run (``--only``'s words): its results, its report's
    text and the folder of its files; the section ran without an error."""

    def read(only):
        sections = runner.parse_only(only)
        name, folder = runner.stem(sections), dry_runs / only
        results = json.loads((folder / f"{name}.json").read_text())
        assert results["errors"] == {}, "\n".join(results["errors"].values())
        assert results["only"] == sections
        return results, (folder / f"{name}.md").read_text(), folder

    return read


def rows(markdown, header):
    """The first cells of the rows of the table under ``### header...``."""
    lines = markdown.splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith(f"### {header}")]
    table, cells = False, []
    for line in lines[start + 1 :]:
        if line.startswith("### "):
            break
        if line.startswith("|"):
            table = True
            if not line.startswith(("|---", "| ---")):
                cells.append(line.strip("|").split("|")[0].strip())
        elif table:
            break
    return cells[1:]  # without the header row


def targets(markdown):
    """Target id -> status, from every targets table of a report."""
    return {
        cells[0]: cells[-1].strip("* ")
        for line in markdown.splitlines()
        if line.startswith("| ") and line.endswith("** |")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }


# ----------------------------------------------------------------------
# The package's shape and command line
# ----------------------------------------------------------------------
def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path, modules):
    """The package's modules that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: resolved against this module's package
                package = _module_name(path).split(".")
                package = package if path.name == "__init__.py" else package[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + [base])
            if base in modules:
                found.add(base)
            found.update(
                f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules
            )
    return found


def test_the_package_has_no_import_cycle_and_no_long_module():
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(path): path for path in files}
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    # A package's __init__ may import its own modules (contenders/ does): what
    # counts is that no module imports back up into them.
    order = list(graphlib.TopologicalSorter(graph).static_order())  # CycleError
    assert set(order) == set(modules)
    assert graph["benchmarks"] == set()  # the package itself imports nothing
    long = {
        name: n
        for name, p in modules.items()
        if (n := len(p.read_text().splitlines())) > 600
    }
    assert long == {}


def test_the_command_line_keeps_its_options():
    args = cli.parse_args([])
    assert sorted(vars(args)) == sorted(
        "quick no_torch output only max_size no_readme data wait_idle device "
        "memory_worker out_of_core_worker".split()
    )
    assert args.output == PACKAGE / "results"
    # Which files a run writes: its own for one named section (or target 2).
    assert runner.stem(runner.parse_only("3,1")) == "latest"
    assert runner.stem(None) == "latest"
    assert runner.stem(["2"]) == "defaults"
    for name in ("regression", "out-of-core", "search", "time-to-98", "across-data"):
        assert runner.stem(runner.parse_only(name)) == name
    with pytest.raises(SystemExit, match="--only takes targets"):
        runner.parse_only("1,bogus")


def test_run_py_is_the_command_line_from_anywhere(tmp_path):
    done = subprocess.run(
        [sys.executable, str(PACKAGE / "run.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    for option in ("--quick", "--no-torch", "--only", "--max-size", "--device"):
        assert option in done.stdout


# ----------------------------------------------------------------------
# Every section's dry run
# ----------------------------------------------------------------------
def test_epoch_and_predict_section(dry_run):
    results, report, _ = dry_run("1,3")
    epochs = results["epochs"]
    ran = LINEUP.select(EPOCHS, "epochs")
    assert set(epochs["epoch_seconds"]) == {e.key for e in ran}
    assert rows(report, "Contenders") == [e.label for e in ran]
    assert set(epochs["predict_proba_seconds"]) == {
        e.key for e in ran if "predict" in e.joins
    }
    assert set(epochs["large_batch"]["epoch_seconds"]) == {
        e.key for e in ran if "batch_1000" in e.joins
    }
    assert rows(report, "Ours against each contender") == [e.label for e in ran]
    assert rows(report, "BLAS threads") == [
        "floor: all 5 matmuls",
        "ours",
        "scikit-learn",
    ]
    statuses = targets(report)
    assert list(statuses) == "1a 1b 1c 1d 2a 2b 2c 2d 3a 3b 3c 4 5 5b".split()
    for key in ("1a", "1b", "1c", "3a", "3b"):  # measured (PASS or FAIL)
        assert statuses[key] in ("PASS", "FAIL")
    for label, reason in LINEUP.left_out(EPOCHS, "epochs").items():
        assert f"{label} ({reason})" in report  # the report says what did not run


def test_epoch_section_times_pytorch(dry_run):
    optional_backend("torch")
    results, report, _ = dry_run("1,3")
    assert "torch" in results["epochs"]["predict_proba_seconds"]
    assert "torch" in results["epochs"]["large_batch"]["epoch_seconds"]
    assert "PyTorch eager CPU" in rows(report, "Contenders")


def test_epoch_section_times_keras_and_its_compilation_apart(dry_run):
    keras_backend()
    results, report, _ = dry_run("1,3")
    key = _key("Keras", EPOCHS)
    epochs = results["epochs"]
    assert key in epochs["predict_proba_seconds"]
    assert key in epochs["compile_seconds"]
    assert key in epochs["large_batch"]["compile_seconds"]
    assert key in epochs["test_accuracy_after_epochs"]
    assert _label(key) in rows(report, "Ours against each contender")


def test_keras_runs_on_the_backend_that_keras_backend_names(tmp_path):
    # One Keras backend per process: KERAS_BACKEND=torch puts Keras on
    # PyTorch for the whole run, under its own key and label.
    keras_backend()
    optional_backend("torch")
    command = [sys.executable, "-c", DRIVER, str(tmp_path), str(SYNTHETIC_ROWS), "1,3"]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "torch"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    results = json.loads((tmp_path / "1,3" / "latest.json").read_text())
    assert results["errors"] == {}
    assert "keras_torch" in results["epochs"]["compile_seconds"]
    report = (tmp_path / "1,3" / "latest.md").read_text()
    assert "Keras 3 (torch backend, `fit` per epoch)" in rows(report, "Contenders")


def test_defaults_section(dry_run):
    results, report, output = dry_run("2")
    assert sorted(p.name for p in output.iterdir()) == ["defaults.json", "defaults.md"]
    assert [row.split("(")[0] for row in rows(report, "Target 2")] == [
        "`BackpropMLPClassifier",
        "`BackpropMLPClassifier",
        "`MLPClassifier",
    ]
    statuses = targets(report)
    assert [statuses[k] for k in ("2a", "2b", "2c", "2d")] == ["n/a"] * 4  # capped


def test_memory_section_fits_each_contender_in_a_subprocess(dry_run):
    results, report, _ = dry_run("4")
    ran = LINEUP.select(EPOCHS, "memory")
    assert set(results["memory"]) == {e.key for e in ran}
    for entry in ran:
        assert "error" not in results["memory"][entry.key]
    assert rows(report, "Contenders") == [e.label for e in ran]
    assert "traced" in report
    assert targets(report)["4"] in ("PASS", "FAIL")


def test_scaling_section(dry_run):
    results, report, output = dry_run("5")
    assert (output / "scaling.png").stat().st_size > 0
    assert rows(report, "Target 5") == ["300", "1,000"]
    assert "ours" in results["scaling"]  # two sizes: a slope
    assert targets(report)["5"] in ("PASS", "FAIL")


def test_regression_section(dry_run):
    results, report, output = dry_run("regression")
    assert sorted(p.name for p in output.iterdir()) == [
        "regression.json",
        "regression.md",
    ]
    assert rows(report, "Regression") == ["friedman1"] * 6 + ["diabetes"] * 6
    assert len(results["regression_targets"]) == 6


def iris_runs(section):
    return section["tasks"]["classification"]["iris"]["runs"]


def test_across_data_section(dry_run):
    """The dry run cross-validates every contender on iris and diabetes (the
    real data sets, five folds), and evaluates issue 21's targets."""
    results, report, output = dry_run("across-data")
    assert sorted(p.name for p in output.iterdir()) == [
        "across-data.json",
        "across-data.md",
    ]
    section = results["across_data"]
    assert list(section["tasks"]["classification"]) == ["iris"]
    assert list(section["tasks"]["regression"]) == ["diabetes"]
    keys = {c.key for c in TABULAR}
    ran = set(section["contenders"])
    assert ran | set(section["not_run"]) == keys
    found = importlib.util.find_spec
    assert ran == {c.key for c in TABULAR if all(found(m) for m in c.needs)}
    for task in section["tasks"].values():
        for data in task.values():
            assert set(data["runs"]) == ran
            for run in data["runs"].values():
                assert "error" not in run
                assert len(run["fold_scores"]) == 5
    # Ours with the solver a head defaults to is the defaults' run, not another.
    assert iris_runs(section)["ours_sgd"]["same_as"] == "ours"
    assert (
        section["tasks"]["regression"]["diabetes"]["runs"]["ours_adam"]["same_as"]
        == "ours"
    )
    assert "same_as" not in iris_runs(section)["ours_adam"]
    iris = section["tasks"]["classification"]["iris"]["runs"]
    diabetes = section["tasks"]["regression"]["diabetes"]["runs"]
    # Issue 21's headline: ours' defaults on small data, without a warning.
    assert iris["ours"]["score"] > 0.95 and diabetes["ours"]["score"] > 0.4
    assert iris["ours"]["convergence_warnings"] == 0
    assert diabetes["ours"]["convergence_warnings"] == 0
    assert iris["sklearn"]["convergence_warnings"] == 5  # max_iter reached
    verdicts = targets(report)
    assert {"iris/defaults", "iris/realmlp", "iris/adam", "iris/lbfgs"} <= set(verdicts)
    assert {"classification/mean", "diabetes/r2", "time/total"} <= set(verdicts)
    # Every solver's warnings count, 'lbfgs' (200 iterations) among them.
    warned = sum(r["convergence_warnings"] for r in diabetes.values())
    warned_ours = sum(
        r["convergence_warnings"]
        for runs in (iris, diabetes)
        for key, r in runs.items()
        if key.startswith("ours") and "same_as" not in r
    )
    assert warned > 0
    assert verdicts["warnings"] == ("PASS" if warned_ours == 0 else "FAIL")
    assert rows(report, "Defaults across data sets") == ["iris"]


def test_time_to_accuracy_section(dry_run):
    results, report, _ = dry_run("time-to-98")
    assert rows(report, "Time to 98 %") == [
        e.label for e in LINEUP.select(TIME_TO_ACCURACY)
    ]
    assert set(results["time_to_98"]["summary"]) == {
        e.key for e in LINEUP.select(TIME_TO_ACCURACY)
    }


def test_time_to_accuracy_section_trains_keras_with_ours_steps(dry_run):
    keras_backend()
    results, report, _ = dry_run("time-to-98")
    (run,) = results["time_to_98"]["runs"][_key("Keras", TIME_TO_ACCURACY)]
    assert run["compile_seconds"] > 0
    assert "Compiled before the first epoch, not counted" in report


def test_without_keras_the_sections_run_and_say_so(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "keras", None)  # not importable
    lineup = Lineup(no_torch=True)  # and PyTorch left out on purpose
    assert not lineup.includes(_key("Keras", EPOCHS))
    results = runner.run(["time-to-98"], "dry-run", lineup, source=Source(100))
    assert results["errors"] == {}
    report = runner.write(results, tmp_path, readme=False)
    ran = [e.label for e in TIME_TO_ACCURACY if not e.needs]  # scikit-learn's, ours
    assert rows(report, "Time to 98 %") == ran
    assert (
        "Not run: PyTorch eager (CPU), ours' defaults (--no-torch); Keras 3" in report
    )
    assert "needs keras" in report


def test_out_of_core_section(dry_run):
    installed("dask")
    results, report, _ = dry_run("out-of-core")
    labels = rows(report, "Out-of-core training")
    assert labels[:2] == [
        "in-memory `partial_fit` on MNIST's 60 000 training rows (before)",
        "in-memory `partial_fit` on MNIST's 60 000 training rows (after)",
    ]
    assert labels[2:5] == [
        "`fit_out_of_core(...)`, its defaults (`prefetch='auto'`)",
        "`fit_out_of_core(..., prefetch=1)`",
        "`fit_out_of_core(..., prefetch=0)`",
    ]
    assert len(results["out_of_core"]["latency_runs"]) == 3
    assert len(results["out_of_core"]["accuracy"]["pairs"]) == 2
    assert {"13/memory", "13/speed", "13/accuracy"} <= set(targets(report))


def test_out_of_core_worker_runs_in_its_own_process():
    # The dry run trains out-of-core contenders in its own process; a real
    # run starts one process per contender, as here.
    installed("dask")
    spec = dict(contender="auto", seed=0, rows=400, block_rows=200, epochs=1)
    spec.update(reps=1, latency=0.0, data=Source(100).to_json())
    # Started by a parent that holds 1 GiB, as a full run's parent holds the
    # earlier sections' data: the worker's peak is its own, not the parent's.
    parent = (
        "import subprocess, sys, numpy; held = numpy.ones(2**27); "
        "sys.exit(subprocess.run(sys.argv[1:]).returncode)"
    )
    worker = [sys.executable, "-m", "benchmarks", "--out-of-core-worker"]
    done = subprocess.run(
        [sys.executable, "-c", parent, *worker, json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["rows_trained"] == 400
    assert result["peak_rss_bytes"] > result["rss_before_bytes"] > 0
    assert result["peak_rss_bytes"] < 2**30


def test_search_section_on_every_backend(dry_run):
    installed("distributed")
    installed("ray")
    results, report, _ = dry_run("search")
    assert [row.split(":")[0].split(",")[0] for row in rows(report, "Searches")] == [
        "`n_jobs=1`",
        "joblib's default backend",
        "Dask `LocalCluster(n_workers=2",
        "Ray started locally",
    ]
    for backend in results["search"]["backends"].values():
        assert backend["same_results_as_n_jobs_1"]
    # Its workers are not other processes loading the machine: the machine's
    # load in the report is the section's idle sample before they start.
    assert (
        results["other_cpu_by_section"]["search"]
        == results["search"]["other_cpu_idle_before"]
    )
