"""The steps of the 'one_cycle' schedule, for its tests: those an SGD
optimiser is given, recorded minibatch by minibatch, and those the formula
gives."""

import contextlib

from sklearn_backprop._optimizers import AdamOptimizer, SGDOptimizer
from sklearn_backprop._schedules import one_cycle_learning_rate


@contextlib.contextmanager
def recorded_steps(monkeypatch, solver="sgd"):
    """The step size of every minibatch update of SGD (or Adam), in order."""
    steps = []
    optimizer = {"sgd": SGDOptimizer, "adam": AdamOptimizer}[solver]
    original = optimizer.update_params

    def update_params(self, params, grads, learning_rate, scratch=None):
        steps.append(learning_rate)
        return original(self, params, grads, learning_rate, scratch)

    monkeypatch.setattr(optimizer, "update_params", update_params)
    yield steps
    monkeypatch.undo()


def expected_steps(peak, n_epochs, warmup_fraction, n_batches, epochs):
    """The steps of ``epochs`` (their indices in a cycle of ``n_epochs``),
    ``n_batches`` minibatches each, from the formula."""
    return [
        one_cycle_learning_rate(
            peak, (epoch + (batch + 0.5) / n_batches) / n_epochs, warmup_fraction
        )
        for epoch in epochs
        for batch in range(n_batches)
    ]
