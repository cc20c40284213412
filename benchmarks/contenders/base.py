"""What every contender shares: the network and its training, where arrays
live (:class:`Library`), ours' default steps for those that follow them, and
the :class:`Contender` interface."""

import importlib
import os

import numpy as np

from benchmarks.data import N_LABELS, N_PIXELS

N_FEATURES = N_PIXELS
N_HIDDEN = 256
N_CLASSES = N_LABELS
CLASSES = np.arange(N_CLASSES)
BATCH_SIZE = 100
LEARNING_RATE = 0.1
MOMENTUM = 0.9
SGD_CONFIG = dict(
    solver="sgd",
    activation="logistic",
    hidden_layer_sizes=(N_HIDDEN,),
    batch_size=BATCH_SIZE,
)
# Ours in the sections that time epochs or compare partial_fit loops (1, 3, 4,
# 5, out-of-core): the constant step of 0.1 of the committed reports. The
# one-cycle schedule of today's defaults leaves the work of an epoch as it is,
# but a partial_fit loop of another length than max_iter would cut its cycle
# short or restart it. Target 2 and time-to-98 measure the defaults.
CONSTANT_STEP = dict(learning_rate="constant", learning_rate_init=LEARNING_RATE)
OURS_SGD_CONFIG = dict(SGD_CONFIG, **CONSTANT_STEP)
# The defaults before issue 11: 20 epochs of 100 samples at a constant step of
# 0.1.
PREVIOUS_DEFAULTS = dict(CONSTANT_STEP, max_iter=20, batch_size=BATCH_SIZE)
# scikit-learn's own defaults (Adam at 0.001, minibatches of 200) on this network.
SKLEARN_ADAM_CONFIG = dict(hidden_layer_sizes=(N_HIDDEN,), activation="logistic")
# The GPU benchmark's: no L2 penalty, as the other contenders have none, so
# that all do the same work; the batch size is the measurement's.
GPU_SGD_CONFIG = dict(
    {k: v for k, v in SGD_CONFIG.items() if k != "batch_size"},
    alpha=0.0,
    **CONSTANT_STEP,
)
KERAS_BACKEND = os.environ.get("KERAS_BACKEND", "jax")
# How to install what an optional contender needs.
INSTALL = {
    "torch": "pip install torch",
    "keras": 'pip install "sklearn-backprop[benchmark]"',
    "jax": 'pip install "sklearn-backprop[benchmark]"',
}


def init_bound(fan_in, fan_out):
    """Half-width of ours' uniform initialisation of a logistic layer (4 times
    Glorot's), for the contenders that start as ours does."""
    from sklearn_backprop._network import init_bound

    return init_bound(fan_in, fan_out, "logistic")


# ----------------------------------------------------------------------
# Where a contender's arrays live
# ----------------------------------------------------------------------
class Library:
    """An array library on a device: moving NumPy data there, and waiting
    for its queued work (a timer must not stop before the GPU does)."""

    def __init__(self, name="numpy", device=None):
        self.name, self.device = name, device
        try:
            self.module, self.missing = importlib.import_module(name), None
        except ImportError as exc:  # its contenders are reported as not run
            self.module, self.missing = None, f"{name} is not importable ({exc})"

    @property
    def label(self):
        return f"{self.name} {self.device}" if self.device else self.name

    def asarray(self, values):
        if self.name == "torch":
            return self.module.asarray(values, device=self.device)
        return self.module.asarray(values)

    def synchronize(self):
        if self.name == "torch" and self.device.startswith("cuda"):
            self.module.cuda.synchronize()
        elif self.name == "cupy":
            self.module.cuda.get_current_stream().synchronize()


HOST = Library()


class OursDefaultSteps:
    """The step of every minibatch under ours' default schedule (one cycle
    over ``max_iter`` epochs, then the next), for ``n_epochs`` epochs of
    ``n_rows`` rows: ours' schedule object itself hands them out, with the
    'auto' parameters resolved for ``n_rows`` as a fit resolves them."""

    def __init__(self, n_rows, n_epochs):
        from sklearn_backprop import BackpropMLPClassifier
        from sklearn_backprop._defaults import resolve
        from sklearn_backprop._schedules import make_schedule

        defaults = BackpropMLPClassifier()
        settings = resolve(defaults, n_rows)
        schedule = make_schedule(
            defaults, settings.max_iter, settings.learning_rate_init
        )
        n_batches = -(-n_rows // settings.batch_size)
        self.epochs = []
        for _ in range(n_epochs):
            self.epochs.append(list(schedule.epoch_steps(n_batches)))
            schedule.epoch_ends(0)


# ----------------------------------------------------------------------
# Contenders
# ----------------------------------------------------------------------
class Contender:
    """What every contender shares. ``data`` is what ``prepare`` returns: a
    tuple of arrays whose first ``n`` rows ``rows(data, n)`` takes."""

    library = HOST

    def prepare(self, X, y):
        return X, y

    def rows(self, data, n):
        return tuple(part[:n] for part in data)

    def compile(self, data):
        """Compile whatever a first epoch would: its seconds, or None."""
        return None

    def epoch(self, data):
        raise NotImplementedError

    def predict_proba(self, X):
        raise NotImplementedError

    def score(self, X, y):
        """Test accuracy, or None for what does not learn (the floors)."""
        return float(np.mean(np.argmax(self.predict_proba(X), axis=1) == y))

    def fit(self, X, y, epochs):
        data = self.prepare(X, y)
        for _ in range(epochs):
            self.epoch(data)

    @property
    def weights_dtype(self):
        return None
