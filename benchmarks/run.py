"""The benchmark's command line from anywhere: ``python benchmarks/run.py
[options]`` is ``python -m benchmarks [options]`` run from the checkout's root
(see ``benchmarks/__main__.py`` and benchmarks/README.md)."""

import sys
from pathlib import Path

if __name__ == "__main__":
    # The checkout's root instead of this folder: ``benchmarks`` imports as a
    # package, with the working tree's sklearn_backprop, installed or not.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from benchmarks.__main__ import main

    sys.exit(main())
