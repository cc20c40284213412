"""The data the sections train on: MNIST (60 000 + 10 000 images of 784
pixels), or made-up images of the same shape for dry runs, and synthetic rows
for the scaling section.

A :class:`Source` names the data rather than holding it, so that a section can
hand it to the subprocesses it starts (as JSON) and each loads its own copy.
"""

import dataclasses

import numpy as np

N_PIXELS = 784  # MNIST's 28 x 28, and the width of every synthetic row
N_LABELS = 10


@dataclasses.dataclass(frozen=True)
class Source:
    """MNIST (``synthetic_rows=None``, read by ``sklearn_backprop.datasets.load_mnist``
    from the file that ``SKLEARN_BACKPROP_MNIST`` names), or ``synthetic_rows``
    made-up training images and a fifth as many test images: each class lights
    up its own tenth of the pixels above uniform noise, so that every contender
    learns them within an epoch or two. The made-up images serve dry runs of
    the code (the tests), never measurements."""

    synthetic_rows: int | None = None

    def images(self):
        """X_train, X_test (uint8 pixels), y_train, y_test (int labels)."""
        if self.synthetic_rows is None:
            from sklearn_backprop.datasets import load_mnist

            X_train, X_test, y_train, y_test = load_mnist()
            return X_train, X_test, np.asarray(y_train), np.asarray(y_test)
        rows = self.synthetic_rows
        test_rows = max(rows // 5, N_LABELS)
        rng = np.random.default_rng(0)
        y = np.arange(rows + test_rows) % N_LABELS
        lit = y[:, None] == np.arange(N_PIXELS) % N_LABELS
        X = rng.integers(0, 52, (rows + test_rows, N_PIXELS)) + 200 * lit
        X = X.astype(np.uint8)
        return X[:rows], X[rows:], y[:rows], y[rows:]

    def load(self):
        """X_train, X_test (float32 pixels / 255, C-contiguous), y_train, y_test."""
        X_train, X_test, y_train, y_test = self.images()
        return scaled(X_train), scaled(X_test), y_train, y_test

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, spec):
        return cls(**spec)


MNIST = Source()


def scaled(images):
    """uint8 pixels as float32 in [0, 1], C-contiguous."""
    return np.ascontiguousarray(images / np.float32(255), dtype=np.float32)


def random_rows(n_rows, seed=0):
    """``n_rows`` rows of uniform float32 features in [0, 1) and random labels,
    every label among the first 10 rows (so that any slice of 10 or more has
    every class)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n_rows, N_PIXELS), dtype=np.float32)
    y = rng.integers(0, N_LABELS, n_rows)
    y[:N_LABELS] = np.arange(N_LABELS)
    return X, y
