"""Record the fits of tests/test_reference_fits.py into reference_fits.npz.

Run it with the package as it should be matched (the recording in the
repository was made at commit bc8ba44, before the trainer's redesign), from
the repository's root::

    git worktree add /tmp/reference bc8ba44
    PYTHONPATH=/tmp/reference:tests python tests/data/make_reference_fits.py

It overwrites tests/data/reference_fits.npz, and names the BLAS that computed
it, so that the test knows where bit-for-bit equality is due.
"""

from pathlib import Path

import numpy as np
import test_reference_fits as reference

import sklearn_backprop


def main():
    arrays = {"blas": np.array(reference.blas())}
    for name in reference.CASES:
        for key, value in reference.reference_fit(name).items():
            arrays[f"{name}/{key}"] = value
    path = Path(__file__).with_name("reference_fits.npz")
    np.savez_compressed(path, **arrays)
    print(f"{path}: {len(reference.CASES)} fits by {sklearn_backprop.__file__}")
    print(arrays["blas"])


if __name__ == "__main__":
    main()
