"""The search behind the classifier's one-cycle defaults (issue 11).

Fits each candidate ``BackpropMLPClassifier(random_state=seed, **candidate)``
on MNIST (pixels / 255, float32) for seeds 0-3 and prints one JSON line per
candidate: the test accuracy of each seed, the worst and the median, and the
median fit time. Every candidate is a complete fit: with
``learning_rate='one_cycle'`` the schedule spans ``max_iter``, so a shorter
budget is another candidate, not an earlier epoch of a longer one. Results:
the issue-11 section of benchmarks/defaults_search.md.

    python benchmarks/search_schedule.py            # every candidate
    python benchmarks/search_schedule.py 0 3        # candidates 0 and 3
"""

import json
import statistics
import sys
import time
import warnings

import numpy as np

from sklearn_backprop import BackpropMLPClassifier
from sklearn_backprop.datasets import load_mnist

SEEDS = (0, 1, 2, 3)
PREVIOUS = dict(learning_rate="constant", learning_rate_init=0.1)
CANDIDATES = [
    # The previous defaults, cut at 8, 10 and 12 epochs.
    dict(PREVIOUS, max_iter=8),
    dict(PREVIOUS, max_iter=10),
    dict(PREVIOUS, max_iter=12),
    # One cycle without a warm-up: the step only falls.
    dict(learning_rate_init=0.1, warmup_fraction=0.0, max_iter=8),
    dict(learning_rate_init=0.2, warmup_fraction=0.0, max_iter=8),
    # With a warm-up, peaks from 0.2 to 0.8.
    dict(learning_rate_init=0.2, max_iter=8),
    dict(learning_rate_init=0.4, max_iter=8),
    dict(learning_rate_init=0.6, max_iter=8),  # the defaults
    dict(learning_rate_init=0.8, max_iter=8),
    # Warm-up length, and shorter cycles.
    dict(learning_rate_init=0.6, warmup_fraction=0.05, max_iter=8),
    dict(learning_rate_init=0.6, warmup_fraction=0.25, max_iter=8),
    dict(learning_rate_init=0.6, max_iter=6),
    dict(learning_rate_init=0.6, max_iter=7),
]


def main(indices):
    X, X_test, y, y_test = load_mnist(scale=True)
    X = np.ascontiguousarray(X, dtype=np.float32)
    X_test = np.ascontiguousarray(X_test, dtype=np.float32)
    for index in indices:
        candidate = CANDIDATES[index]
        accuracies, seconds = [], []
        for seed in SEEDS:
            clf = BackpropMLPClassifier(random_state=seed, **candidate)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                clf.fit(X, y)
                seconds.append(time.perf_counter() - start)
            accuracies.append(round(100 * clf.score(X_test, y_test), 2))
        record = dict(
            index=index,
            candidate=candidate,
            accuracies=accuracies,
            worst=min(accuracies),
            median=round(statistics.median(accuracies), 3),
            median_fit_seconds=round(statistics.median(seconds), 2),
        )
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main([int(i) for i in sys.argv[1:]] or range(len(CANDIDATES)))
