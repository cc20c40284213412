"""Hand-written loops: the floor of bare matrix products, and the notebook's
plain minibatch loop ported to another array library."""

import numpy as np

from benchmarks.contenders.base import (
    BATCH_SIZE,
    HOST,
    LEARNING_RATE,
    MOMENTUM,
    N_CLASSES,
    N_FEATURES,
    N_HIDDEN,
    Contender,
    init_bound,
)


class MatmulFloor(Contender):
    """The bare matrix products of one epoch, written into preallocated buffers.

    Per minibatch of ``batch_size`` contiguous rows ``Xb`` of X:

    * ``layers='first'``: ``Xb @ W1`` (forward) and ``Xb.T @ D1`` (gradient of
      W1), the two products with the 784 x 256 layer, the bulk of the work;
    * ``layers='all'``: also ``A1 @ W2`` (forward), ``A1.T @ D2`` (gradient of
      W2) and ``D2 @ W2.T`` (delta of the hidden layer): every product an
      epoch must do.

    With ``gather=True`` (NumPy only) each minibatch is first gathered from
    shuffled rows of X into a buffer (``np.take(..., out=...)``), as a
    shuffled epoch must. Buffers hold finite, realistic values (weights of the
    initialisation's scale, deltas of 1e-3): NaN, infinities or denormals make
    BLAS much slower and would distort the floor. No activation, loss or
    update is computed. ``predict_proba`` is a prediction's two forward
    products, one call each.
    """

    def __init__(
        self,
        n_features=N_FEATURES,
        *,
        batch_size=None,
        seed=0,
        library=None,
        layers="all",
        gather=False,
    ):
        self.library = library or HOST
        self.batch_size = b = batch_size or BATCH_SIZE
        rng = np.random.default_rng(seed)
        f32 = np.float32
        bound1, bound2 = init_bound(n_features, N_HIDDEN), init_bound(N_HIDDEN, 10)
        buffers = dict(
            W1=rng.uniform(-bound1, bound1, (n_features, N_HIDDEN)).astype(f32),
            W2=rng.uniform(-bound2, bound2, (N_HIDDEN, N_CLASSES)).astype(f32),
            A1=rng.random((b, N_HIDDEN), dtype=f32),
            A2=np.zeros((b, N_CLASSES), f32),
            D1=(1e-3 * rng.standard_normal((b, N_HIDDEN))).astype(f32),
            D2=(1e-2 * rng.standard_normal((b, N_CLASSES))).astype(f32),
            G1=np.empty((n_features, N_HIDDEN), f32),
            G2=np.empty((N_HIDDEN, N_CLASSES), f32),
            Xb=np.empty((b, n_features), f32),
        )
        for name, values in buffers.items():
            setattr(self, name, self.library.asarray(values))
        self.all_layers = layers == "all"
        self.gather = gather
        self.rng = rng

    def prepare(self, X, y):
        return (self.library.asarray(X),)

    def epoch(self, data):
        (X,) = data
        matmul = self.library.module.matmul
        n, b = X.shape[0], self.batch_size
        order = self.rng.permutation(n) if self.gather else None
        W1, W2, A1, A2, D1, D2 = self.W1, self.W2, self.A1, self.A2, self.D1, self.D2
        for start in range(0, n, b):
            if order is None:
                Xb = X[start : start + b]
            else:
                rows = order[start : start + b]
                Xb = np.take(X, rows, axis=0, out=self.Xb[: len(rows)])
            m = Xb.shape[0]
            matmul(Xb, W1, out=A1[:m])
            if self.all_layers:
                matmul(A1[:m], W2, out=A2[:m])
                matmul(A1[:m].T, D2[:m], out=self.G2)
                matmul(D2[:m], W2.T, out=D1[:m])
            matmul(Xb.T, D1[:m], out=self.G1)

    def predict_proba(self, X):
        return self.library.module.matmul(X, self.W1) @ self.W2

    def score(self, X, y):
        return None


class PlainLoop(Contender):
    """The NumPy minibatch loop of the teaching notebook, ported line by line
    to another array library (CuPy on CUDA): sigmoid units, sigmoid outputs
    with binary cross-entropy (output delta a - y), Nesterov momentum, batch
    order shuffled on the device."""

    def __init__(self, n_features=N_FEATURES, *, batch_size=None, seed=0, library):
        self.library, self.xp = library, library.module
        self.batch_size = batch_size or BATCH_SIZE
        rng = np.random.default_rng(seed)
        shapes = [(n_features, N_HIDDEN), (N_HIDDEN,), (N_HIDDEN, N_CLASSES), (10,)]
        bounds = [init_bound(n_features, N_HIDDEN), 0, init_bound(N_HIDDEN, 10), 0]
        self.params = [
            library.asarray(rng.uniform(-b, b, s).astype(np.float32))
            for s, b in zip(shapes, bounds)
        ]
        self.velocity = [self.xp.zeros_like(p) for p in self.params]

    def prepare(self, X, y):
        Y = np.eye(N_CLASSES, dtype=np.float32)[y]
        return self.library.asarray(X), self.library.asarray(Y)

    def epoch(self, data):
        xp, (X, Y) = self.xp, data
        n = X.shape[0]
        order = xp.random.permutation(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            Xb, Yb = X[rows], Y[rows]
            m = Xb.shape[0]
            # Nesterov: the gradient at the look-ahead point theta + mu v.
            ahead = [p + MOMENTUM * v for p, v in zip(self.params, self.velocity)]
            A1 = 1 / (1 + xp.exp(-(Xb @ ahead[0] + ahead[1])))
            A2 = 1 / (1 + xp.exp(-(A1 @ ahead[2] + ahead[3])))
            D2 = (A2 - Yb) / m  # delta_out = a - y (sigmoid with cross-entropy)
            D1 = (D2 @ ahead[2].T) * A1 * (1 - A1)
            grads = [Xb.T @ D1, D1.sum(axis=0), A1.T @ D2, D2.sum(axis=0)]
            for p, v, g in zip(self.params, self.velocity, grads):
                v *= MOMENTUM
                v -= LEARNING_RATE * g
                p += v
