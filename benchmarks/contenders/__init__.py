"""Every contender of the benchmark, defined once, and the rosters that say
which question each one answers.

A contender trains the network of the notebook this project grew from:
784-256-10, logistic hidden units, sigmoid outputs with binary cross-entropy
(summed over the classes, averaged over the minibatch), Nesterov SGD, float32.
Each class knows how to build itself (``__init__``), put the data where it
trains (``prepare``), compile where it compiles (``compile``: seconds, else
None), train one epoch (``epoch``), predict (``predict_proba``), score, and
train from scratch (``fit``, which the memory section measures).

The classes live in this package's modules: ``base`` (the network, the
:class:`~base.Contender` interface, where arrays live), ``estimators`` (ours
and scikit-learn's), ``frameworks`` (PyTorch eager, Keras 3) and ``floors``
(the bare matrix products, the notebook's plain loop).

Adding a contender touches this package only: its class in one of those
modules (or an existing class with other parameters), and one :class:`Entry`
below in each roster it joins: ``EPOCHS`` (its ``joins`` say which of the
questions on MNIST: epoch time, predict_proba, memory, scaling, BLAS threads,
batch 1000), ``TIME_TO_ACCURACY`` and ``GPU``. The sections and their reports
iterate over the rosters; an entry whose ``needs`` are not importable is left
out, and the reports say so.
"""

import dataclasses
import functools
import importlib.util
from collections.abc import Callable

from benchmarks.contenders.base import (
    BATCH_SIZE,
    CLASSES,
    GPU_SGD_CONFIG,
    INSTALL,
    KERAS_BACKEND,
    N_CLASSES,
    N_FEATURES,
    N_HIDDEN,
    OURS_SGD_CONFIG,
    PREVIOUS_DEFAULTS,
    SGD_CONFIG,
    SKLEARN_ADAM_CONFIG,
    Contender,
    Library,
    OursDefaultSteps,
)
from benchmarks.contenders.estimators import (
    Ours,
    ScikitLearn,
    ours_classifier,
    ours_regressor_as_sklearn,
    sklearn_classifier,
    sklearn_regressor,
)
from benchmarks.contenders.floors import MatmulFloor, PlainLoop
from benchmarks.contenders.frameworks import Keras, TorchEager


# ----------------------------------------------------------------------
# Rosters
# ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Entry:
    """A contender in a roster: its key (in the JSON), its label (in the
    reports), how to build it (``build(n_features, batch_size=..., seed=...,
    ...)``), the questions it joins, and the modules it needs."""

    key: str
    label: str
    build: Callable[..., Contender]
    joins: frozenset = frozenset()
    needs: tuple = ()
    floor: bool = False  # a floor: no learning, the reference of ratios
    title: str = ""  # its column in the scaling table
    plot: tuple = ()  # (label, style) of its line in scaling.png
    slow: bool = False  # scaling: only up to the mode's sklearn_max_size
    traced: bool = True  # tracemalloc sees its arrays (NumPy's, not PyTorch's)
    library: str = ""  # GPU: the array library it runs on ('torch' or 'plain')

    def missing(self, no_torch=False):
        """Why it cannot run here, or None."""
        if no_torch and "torch" in self.needs:
            return "--no-torch"
        absent = [m for m in self.needs if importlib.util.find_spec(m) is None]
        if absent:
            install = dict.fromkeys(INSTALL.get(m, f"pip install {m}") for m in absent)
            return f"needs {' and '.join(absent)}: {'; '.join(install)}"
        return None


_KERAS = dict(key=f"keras_{KERAS_BACKEND}", needs=("keras", KERAS_BACKEND), build=Keras)
_EVERY_CPU_QUESTION = frozenset(
    {"epochs", "predict", "memory", "scaling", "threads", "batch_1000"}
)

# Epoch time (batch 100 and 1000), predict_proba, memory, scaling, BLAS threads.
EPOCHS = [
    Entry(
        "ours",
        "sklearn_backprop `BackpropMLPClassifier` (partial_fit)",
        functools.partial(Ours, OURS_SGD_CONFIG),
        _EVERY_CPU_QUESTION,
        title="ours",
        plot=("sklearn_backprop", "o-"),
    ),
    Entry(
        "sklearn",
        "scikit-learn `MLPClassifier` (partial_fit)",
        functools.partial(ScikitLearn, SGD_CONFIG),
        _EVERY_CPU_QUESTION,
        title="scikit-learn",
        plot=("scikit-learn MLPClassifier", "s--"),
        slow=True,
    ),
    Entry(
        "torch",
        "PyTorch eager CPU",
        TorchEager,
        _EVERY_CPU_QUESTION - {"threads"},
        needs=("torch",),
        traced=False,
        title="PyTorch",
        plot=("PyTorch eager CPU", "^:"),
    ),
    Entry(
        label=f"Keras 3 ({KERAS_BACKEND} backend, `fit` per epoch)",
        joins=frozenset({"epochs", "predict", "batch_1000"}),
        **_KERAS,
    ),
    Entry(
        "floor_first",
        "floor: 784x256 layer's 2 matmuls",
        functools.partial(MatmulFloor, layers="first"),
        frozenset({"epochs"}),
        floor=True,
    ),
    Entry(
        "floor_all",
        "floor: all 5 matmuls",
        MatmulFloor,
        _EVERY_CPU_QUESTION - {"memory"},
        floor=True,
        title="floor (all matmuls)",
        plot=("floor: all matmuls", "d-."),
    ),
    Entry(
        "floor_all_gather",
        "floor: all 5 matmuls + row gather",
        functools.partial(MatmulFloor, gather=True),
        frozenset({"epochs"}),
        floor=True,
    ),
]

# Time to 98 %: ``build(n_features, seed=..., steps=...)``, ``steps`` the
# minibatch steps of ours' defaults (OursDefaultSteps) for those that follow them.
TIME_TO_ACCURACY = [
    Entry(
        "ours",
        "ours, defaults (one-cycle, peak 0.6)",
        lambda n_features, seed, steps: Ours({}, seed=seed),
    ),
    Entry(
        "ours_previous",
        "ours, the previous defaults (constant step 0.1)",
        lambda n_features, seed, steps: Ours(PREVIOUS_DEFAULTS, seed=seed),
    ),
    Entry(
        "sklearn_sgd",
        "scikit-learn MLPClassifier, ours' previous configuration (SGD 0.1, "
        "Nesterov, batch 100)",
        lambda n_features, seed, steps: ScikitLearn(OURS_SGD_CONFIG, seed=seed),
    ),
    Entry(
        "sklearn_adam",
        "scikit-learn MLPClassifier, its defaults (Adam 0.001, batch 200)",
        lambda n_features, seed, steps: ScikitLearn(SKLEARN_ADAM_CONFIG, seed=seed),
    ),
    Entry(
        "torch",
        "PyTorch eager (CPU), ours' defaults",
        lambda n_features, seed, steps: TorchEager(n_features, seed=seed, steps=steps),
        needs=("torch",),
    ),
    Entry(label=f"Keras 3 ({KERAS_BACKEND}), ours' defaults", **_KERAS),
]

# The GPU benchmark: ``build(batch_size=..., library=...)`` on the library its
# ``library`` names; its label a template of the libraries' labels.
GPU = [
    Entry(
        "ours_torch",
        "ours, {torch} tensors",
        functools.partial(Ours, GPU_SGD_CONFIG),
        library="torch",
    ),
    Entry(
        "ours_plain",
        "ours, {plain} arrays",
        functools.partial(Ours, GPU_SGD_CONFIG),
        library="plain",
    ),
    Entry("plain_loop", "plain {plain} loop", PlainLoop, library="plain"),
    Entry("torch_eager", "PyTorch eager ({torch})", TorchEager, library="torch"),
    Entry(
        "floor",
        "matrix products alone ({torch})",
        MatmulFloor,
        floor=True,
        library="torch",
    ),
]

# The regression comparison: key -> (label, factory). Its target compares
# "ours" with "sklearn"; with the same random_state both start from the same
# weights.
REGRESSORS = {
    # scikit-learn's defaults for both, and ours' standardize_target=False.
    "ours": ("sklearn_backprop `BackpropMLPRegressor`", ours_regressor_as_sklearn),
    "sklearn": ("scikit-learn `MLPRegressor`", sklearn_regressor),
}


class Lineup:
    """Which contenders of the rosters take part in a run: all but those whose
    modules are missing (and PyTorch's with ``no_torch``); ``skipped`` says
    why each other one does not."""

    def __init__(self, *, no_torch=False):
        self.skipped = {}
        for entry in [*EPOCHS, *TIME_TO_ACCURACY]:
            reason = entry.missing(no_torch)
            if reason:
                self.skipped[entry.key] = reason

    def select(self, roster, question=None):
        """The entries of ``roster`` that run (and join ``question``)."""
        return [
            entry
            for entry in roster
            if entry.key not in self.skipped
            and (question is None or question in entry.joins)
        ]

    def left_out(self, roster, question=None):
        """Label -> reason, for the entries of ``roster`` (joining ``question``)
        that do not run."""
        return {
            entry.label: self.skipped[entry.key]
            for entry in roster
            if entry.key in self.skipped
            and (question is None or question in entry.joins)
        }

    def includes(self, key):
        return key not in self.skipped

    def modules(self):
        """The optional modules that the contenders taking part import."""
        entries = self.select([*EPOCHS, *TIME_TO_ACCURACY])
        return list(dict.fromkeys(m for entry in entries for m in entry.needs))


__all__ = [
    "BATCH_SIZE",
    "CLASSES",
    "EPOCHS",
    "GPU",
    "N_CLASSES",
    "N_FEATURES",
    "N_HIDDEN",
    "OURS_SGD_CONFIG",
    "PREVIOUS_DEFAULTS",
    "REGRESSORS",
    "SGD_CONFIG",
    "SKLEARN_ADAM_CONFIG",
    "TIME_TO_ACCURACY",
    "Contender",
    "Entry",
    "Library",
    "Lineup",
    "OursDefaultSteps",
    "ours_classifier",
    "sklearn_classifier",
]
