"""The command line: ``python -m benchmarks [options]`` from the checkout's
root (``python benchmarks/run.py [options]`` from anywhere).

Measures the targets of issue 4 side by side in one process (and, with
``--only``, the other sections), prints the Markdown report, and writes it
with every measurement to the output directory; ``--device`` runs the GPU
benchmark instead. Exits with status 1 when a section raised (the others still
run and are written). See benchmarks/README.md.
"""

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from benchmarks import REPO, RESULTS
from benchmarks.machine import BUSY_LOAD


def parse_args(argv=None):
    invoked_as_module = Path(sys.argv[0]).name == "__main__.py"
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks" if invoked_as_module else None,
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
        default=RESULTS,
        help="directory for latest.json, latest.md and scaling.png, or "
        "regression.json and regression.md (default: benchmarks/results)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated targets to run, among 1,2,3,4,5 (1 and 3 run "
        "together), 'regression', 'out-of-core', 'search', 'time-to-98' and "
        "'across-data'; the README is "
        "then left alone. '--only regression' writes regression.json and "
        "regression.md instead of latest.json and latest.md, '--only "
        "out-of-core' out-of-core.json and out-of-core.md, '--only search' "
        "search.json and search.md, '--only time-to-98' time-to-98.json and "
        "time-to-98.md, '--only across-data' across-data.json and across-data.md, "
        "'--only 2' defaults.json and defaults.md",
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
    # The sections' subprocesses: one contender each, its spec as JSON.
    parser.add_argument("--memory-worker", default=None, help=argparse.SUPPRESS)
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
        from benchmarks import memory

        memory.worker(json.loads(args.memory_worker))
        return 0
    if args.out_of_core_worker:
        from benchmarks import out_of_core

        out_of_core.worker(json.loads(args.out_of_core_worker))
        return 0

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    mode = "quick" if args.quick else "full"
    if args.device:
        from benchmarks import gpu

        results = gpu.run(args.device, mode, args.output)
        return 1 if results["errors"] else 0  # a contender did not run

    from benchmarks import machine, runner
    from benchmarks.contenders import Lineup

    only = runner.parse_only(args.only)
    if args.wait_idle:
        machine.wait_for_idle(args.wait_idle)
    results = runner.run(
        only, mode, Lineup(no_torch=args.no_torch), max_size=args.max_size
    )
    print(runner.write(results, args.output, readme=not args.no_readme))
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
