"""The deep-learning frameworks: PyTorch eager, and Keras 3 (on JAX unless
``KERAS_BACKEND`` names another backend)."""

import importlib
import os
import time

import numpy as np

from benchmarks.contenders.base import (
    BATCH_SIZE,
    KERAS_BACKEND,
    LEARNING_RATE,
    MOMENTUM,
    N_CLASSES,
    N_FEATURES,
    N_HIDDEN,
    Contender,
    init_bound,
)


class TorchEager(Contender):
    """PyTorch eager: Linear-Sigmoid-Linear, ``BCEWithLogitsLoss(reduction='sum')``
    divided by the batch size on one-hot targets (this package's loss),
    ``torch.optim.SGD(lr=0.1, momentum=0.9, nesterov=True)``, no L2 penalty.
    Each epoch shuffles with ``torch.randperm`` and gathers minibatches by
    index from the prepared tensors (zero-copy views of NumPy's on the CPU).
    On the host, ``torch.set_num_threads(threads)``. With ``steps`` (an
    :class:`OursDefaultSteps`), each minibatch takes ours' step."""

    def __init__(
        self,
        n_features=N_FEATURES,
        *,
        batch_size=None,
        seed=0,
        library=None,
        steps=None,
        threads=2,
    ):
        import torch

        self.torch = torch
        self.device = library.device if library is not None else "cpu"
        if library is None:
            torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(n_features, N_HIDDEN),
            torch.nn.Sigmoid(),
            torch.nn.Linear(N_HIDDEN, N_CLASSES),
        ).to(self.device)
        self.criterion = torch.nn.BCEWithLogitsLoss(reduction="sum")
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, nesterov=True
        )
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.batch_size = batch_size or BATCH_SIZE
        self.steps, self.epochs_done = steps, 0
        if library is not None:
            self.library = library

    def prepare(self, X, y):
        torch = self.torch
        Xt = torch.as_tensor(np.ascontiguousarray(X, np.float32), device=self.device)
        labels = torch.as_tensor(np.asarray(y, np.int64), device=self.device)
        Yt = torch.nn.functional.one_hot(labels, N_CLASSES).to(torch.float32)
        return Xt, Yt

    def epoch(self, data):
        Xt, Yt = data
        torch, model, optimizer = self.torch, self.model, self.optimizer
        n, b = Xt.shape[0], self.batch_size
        steps = self.steps.epochs[self.epochs_done] if self.steps else None
        order = torch.randperm(n, generator=self.generator, device=self.device)
        for batch, start in enumerate(range(0, n, b)):
            if steps is not None:
                for group in optimizer.param_groups:
                    group["lr"] = steps[batch]
            rows = order[start : start + b]
            Xb, Yb = Xt[rows], Yt[rows]
            optimizer.zero_grad(set_to_none=True)
            loss = self.criterion(model(Xb), Yb) / Xb.shape[0]
            loss.backward()
            optimizer.step()
        self.epochs_done += 1

    def predict_proba(self, X):
        torch = self.torch
        with torch.no_grad():
            proba = torch.sigmoid(self.model(torch.as_tensor(X, device=self.device)))
            proba /= proba.sum(dim=1, keepdim=True)
        return proba.cpu().numpy()


class Keras(Contender):
    """Keras 3 on the backend that ``KERAS_BACKEND`` names (JAX unless set):
    ``Sequential([Dense(256, 'sigmoid'), Dense(10)])`` with sigmoid outputs
    and binary cross-entropy summed over the classes (10 x Keras's, a mean
    over them) taken from the logits, ``from_logits=True``: the output delta
    a - y of ours and PyTorch's ``BCEWithLogitsLoss``. (From the sigmoid's
    probabilities, Keras clips them to [1e-7, 1 - 1e-7], where a saturated
    output gets no gradient: at a constant step of 0.1 a class's unit then
    stays off and training stalls.) Weights uniform in +-4 sqrt(6 / (fan_in
    + fan_out)) as ours, biases 0, ``SGD(0.1, momentum=0.9, nesterov=True)``,
    no L2 penalty, float32. An epoch is one ``fit(X, Y, batch_size,
    epochs=1, shuffle=True)``; ``compile`` times the first step (tracing and
    XLA compilation), then puts the weights and the optimiser's state back.
    With ``steps``, a ``LearningRateSchedule`` hands out ours' step of each
    minibatch from the optimiser's step count."""

    def __init__(self, n_features=N_FEATURES, *, batch_size=None, seed=0, steps=None):
        keras = self.keras = import_keras()
        bounds = init_bound(n_features, N_HIDDEN), init_bound(N_HIDDEN, N_CLASSES)
        self.model = keras.Sequential(
            [
                keras.Input((n_features,)),
                keras.layers.Dense(
                    N_HIDDEN,
                    activation="sigmoid",
                    kernel_initializer=keras.initializers.RandomUniform(
                        -bounds[0], bounds[0], seed=seed
                    ),
                ),
                # The output units' sigmoid is in the loss (and in predict_proba).
                keras.layers.Dense(
                    N_CLASSES,
                    kernel_initializer=keras.initializers.RandomUniform(
                        -bounds[1], bounds[1], seed=seed + 1
                    ),
                ),
            ]
        )
        rate = LEARNING_RATE if steps is None else _keras_steps(keras, steps)

        def summed_binary_crossentropy(y_true, logits):  # Keras's is a mean
            return N_CLASSES * keras.losses.binary_crossentropy(
                y_true, logits, from_logits=True
            )

        self.model.compile(
            optimizer=keras.optimizers.SGD(rate, momentum=MOMENTUM, nesterov=True),
            loss=summed_binary_crossentropy,
        )
        self.batch_size = batch_size or BATCH_SIZE

    def prepare(self, X, y):
        Y = np.eye(N_CLASSES, dtype=np.float32)[np.asarray(y)]
        return np.ascontiguousarray(X, np.float32), Y

    def compile(self, data):
        X, Y = (part[: self.batch_size] for part in data)
        model, variables = self.model, self.model.optimizer.variables
        weights = model.get_weights()
        state = [self.keras.ops.convert_to_numpy(v) for v in variables]
        start = time.perf_counter()
        model.fit(X, Y, batch_size=len(X), epochs=1, verbose=0, shuffle=False)
        seconds = time.perf_counter() - start
        model.set_weights(weights)
        for variable, value in zip(variables, state, strict=True):
            variable.assign(value)
        return seconds

    def epoch(self, data):
        X, Y = data
        self.model.fit(X, Y, batch_size=self.batch_size, epochs=1, verbose=0)

    def predict_proba(self, X):
        proba = 1 / (1 + np.exp(-np.asarray(self.model.predict_on_batch(X))))
        return proba / proba.sum(axis=1, keepdims=True)


def import_keras():
    """Keras, on JAX unless ``KERAS_BACKEND`` names another backend."""
    os.environ.setdefault("KERAS_BACKEND", KERAS_BACKEND)
    return importlib.import_module("keras")


def _keras_steps(keras, steps):
    """A ``LearningRateSchedule`` giving step ``i`` of ``steps`` (flattened)."""
    table = np.concatenate([np.asarray(s, np.float32) for s in steps.epochs])

    class OursSteps(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            ops = keras.ops
            index = ops.minimum(ops.cast(step, "int32"), len(table) - 1)
            return ops.take(ops.convert_to_tensor(table), index)

    return OursSteps()
