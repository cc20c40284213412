"""The benchmark of sklearn_backprop: one module per question, one of contenders.

    python -m benchmarks [--quick] [--only 1,2,...]   # from the checkout's root
    python benchmarks/run.py ...                       # the same, from anywhere

Layers, each module importing only those above it in this list
(``tests/test_benchmarks.py`` checks that there is no cycle):

* ``timing`` (timers, interleaving, medians); ``report`` (Markdown, targets
  and verdicts, files, figures); ``machine`` (CPU, versions, thread pools,
  load, memory); ``data`` (MNIST and synthetic images);
* ``contenders/``: every contender defined once (``base``, ``estimators``,
  ``frameworks``, ``floors``) and, in its ``__init__``, the rosters saying
  which question each one answers;
* the questions: ``memory``, ``epochs`` (epoch time at batch 100 and 1000,
  predict_proba, BLAS threads), ``scaling``, ``defaults`` (target 2),
  ``time_to_accuracy``, ``regression``, ``out_of_core``, ``search``, ``gpu``;
* ``runner`` (runs the sections asked for, evaluates the targets, writes the
  reports) and ``__main__`` (the command line; ``run.py`` runs it from
  anywhere).

See benchmarks/README.md for what each section measures and how.
"""

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
