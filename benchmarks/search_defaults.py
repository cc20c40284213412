"""The search behind BackpropMLPClassifier's default hyperparameters.

Trains each candidate for 30 epochs on MNIST (pixels / 255, float32), with the
test set as X_val so that the accuracy after every epoch is recorded, and
prints one JSON line per candidate. Results: benchmarks/defaults_search.md.

    python benchmarks/search_defaults.py
"""

import json
import time
import warnings

import numpy as np

from sklearn_backprop import BackpropMLPClassifier
from sklearn_backprop.datasets import load_mnist

warnings.simplefilter("ignore")
X, Xt, y, yt = load_mnist(scale=True)
configs = [
    dict(learning_rate_init=0.1, momentum=0.9, batch_size=100),
    dict(learning_rate_init=0.05, momentum=0.9, batch_size=100),
    dict(learning_rate_init=0.2, momentum=0.9, batch_size=100),
    dict(learning_rate_init=0.1, momentum=0.9, batch_size=200),
    dict(solver="adam", learning_rate_init=0.001, batch_size=100),
    dict(solver="adam", learning_rate_init=0.002, batch_size=200),
    dict(
        learning_rate_init=0.1,
        momentum=0.9,
        batch_size=100,
        output_activation="softmax",
    ),
    dict(
        learning_rate_init=0.1,
        momentum=0.9,
        batch_size=100,
        learning_rate="invscaling",
        power_t=0.25,
    ),
]
for cfg in configs:
    # A constant step unless the candidate names a schedule: this search
    # predates the 'one_cycle' default (see search_schedule.py for that one).
    clf = BackpropMLPClassifier(
        max_iter=30,
        random_state=0,
        tol=0.0,
        n_iter_no_change=100,
        **{"learning_rate": "constant", **cfg},
    )
    start = time.perf_counter()
    clf.fit(X, y, X_val=Xt, y_val=yt)
    seconds = time.perf_counter() - start
    scores = clf.validation_scores_
    record = dict(
        cfg=cfg,
        time=round(seconds, 1),
        best=max(scores),
        best_epoch=int(np.argmax(scores)) + 1,
        curve=[round(v, 4) for v in scores],
    )
    print(json.dumps(record), flush=True)
