"""What the 'auto' training parameters mean: resolved once per training call.

``batch_size``, ``learning_rate_init`` and ``max_iter`` default to 'auto',
which :func:`resolve` turns into numbers from the solver, the step schedule
and the number of training samples. The estimator records them as
``batch_size_``, ``learning_rate_init_`` and ``max_iter_``, so a user can see
what ran. Everything else reads the resolved :class:`Settings`, never the
'auto' parameters.

Why these numbers (measured by the benchmark's section "Defaults across
data sets", ``benchmarks/results/across-data.md``): a one-cycle fit of 8
epochs of 100 samples, tuned on MNIST, makes 16 updates on iris's 120
training rows. A one-cycle fit therefore gets at least
``ONE_CYCLE_UPDATES`` minibatch updates, in batches of an eighth of the data
(32 to 100 samples), and never fewer than 8 epochs: on MNIST that is today's
8 epochs of 100, the same model. The other schedules, and 'lbfgs', keep
scikit-learn's numbers (a step of 0.001, 200 epochs or iterations, batches
of ``min(200, n_samples)``), so that scikit-learn's hyperparameters give
scikit-learn's model.
"""

import math
from typing import NamedTuple

from sklearn.base import is_classifier

# Peak step of the 'one_cycle' schedule. 'sgd': 0.6 for sigmoid hidden units
# (the notebook's network, tuned on MNIST), 0.05 for the others, whose
# gradients no saturating unit damps (0.6 diverges with ReLU units). 'adam',
# per head: the classifier's pairs with its beta_2=0.95 (at 0.999 Adam reaches
# 0.80-0.87 on make_classification and make_moons, scikit-learn 0.90); the
# regressor's 0.01 (0.03 loses 0.07 R² on diabetes).
SGD_PEAK = {"logistic": 0.6}
SGD_PEAK_OTHERS = 0.05
ADAM_PEAK = {"classifier": 0.05, "regressor": 0.01}
# Fewest minibatch updates of a one-cycle fit with max_iter='auto'.
ONE_CYCLE_UPDATES = 350
# Fewest epochs of a one-cycle fit with max_iter='auto' (MNIST's 8).
ONE_CYCLE_MIN_EPOCHS = 8
# A one-cycle batch is this fraction of the training samples, clipped to
# [ONE_CYCLE_MIN_BATCH, ONE_CYCLE_MAX_BATCH].
ONE_CYCLE_BATCH_FRACTION = 1 / 8
ONE_CYCLE_MIN_BATCH = 32
ONE_CYCLE_MAX_BATCH = 100
# scikit-learn's MLP defaults.
SKLEARN_STEP = 0.001
SKLEARN_MAX_ITER = 200
SKLEARN_MAX_BATCH = 200


class Settings(NamedTuple):
    """The training parameters of one call, with every 'auto' resolved."""

    batch_size: int | None  # None for 'lbfgs' (the whole training set)
    learning_rate_init: float
    max_iter: int


def one_cycle(estimator):
    """Whether the estimator's stochastic solver follows the 'one_cycle'
    schedule (both 'sgd' and 'adam' do; 'lbfgs' has no schedule)."""
    return estimator.solver != "lbfgs" and estimator.learning_rate == "one_cycle"


def resolve(estimator, n_samples):
    """The :class:`Settings` of a training call on ``n_samples`` training rows
    (after the early-stopping split).

    Parameters left at a number are taken as they are (a batch is still
    clipped to ``n_samples``).
    """
    cycle = one_cycle(estimator)
    batch_size = None
    if estimator.solver != "lbfgs":
        batch_size = estimator.batch_size
        if batch_size == "auto" and cycle:
            batch_size = int(n_samples * ONE_CYCLE_BATCH_FRACTION)
            batch_size = min(max(batch_size, ONE_CYCLE_MIN_BATCH), ONE_CYCLE_MAX_BATCH)
        elif batch_size == "auto":
            batch_size = SKLEARN_MAX_BATCH
        batch_size = max(1, min(batch_size, n_samples))
    step = estimator.learning_rate_init
    if step == "auto":
        step = _one_cycle_peak(estimator) if cycle else SKLEARN_STEP
    max_iter = estimator.max_iter
    if max_iter == "auto" and cycle:
        updates_per_epoch = math.ceil(n_samples / batch_size)
        epochs = math.ceil(ONE_CYCLE_UPDATES / updates_per_epoch)
        max_iter = max(ONE_CYCLE_MIN_EPOCHS, epochs)
    elif max_iter == "auto":
        max_iter = SKLEARN_MAX_ITER
    return Settings(batch_size, float(step), int(max_iter))


def _one_cycle_peak(estimator):
    """The 'auto' peak step of a one-cycle fit."""
    if estimator.solver == "sgd":
        return SGD_PEAK.get(estimator.activation, SGD_PEAK_OTHERS)
    return ADAM_PEAK["classifier" if is_classifier(estimator) else "regressor"]
