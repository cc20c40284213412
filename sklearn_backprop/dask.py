"""Out-of-core training on Dask arrays.

:func:`fit_out_of_core` trains an estimator for several epochs on a
:class:`dask.array.Array` that need not fit in memory: each epoch passes the
array's row blocks, in a new random order, one at a time to the estimator's
``partial_fit``, while the next block is computed in a background thread. Only
a few blocks are ever in memory::

    import dask.array as da
    from sklearn_backprop import BackpropMLPClassifier
    from sklearn_backprop.dask import fit_out_of_core

    X = da.from_zarr("pixels.zarr")  # (n_samples, n_features), chunked by rows
    y = da.from_zarr("labels.zarr")
    clf = BackpropMLPClassifier(random_state=0)
    fit_out_of_core(clf, X, y, epochs=3, classes=range(10), random_state=0)

It needs Dask's arrays, ``pip install "sklearn-backprop[dask]"``; ``import
sklearn_backprop`` never imports Dask, and this module imports it only when
:func:`fit_out_of_core` is called.
"""

import collections
import numbers
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["fit_out_of_core"]


def fit_out_of_core(
    estimator,
    X,
    y,
    *,
    epochs=1,
    classes=None,
    sample_weight=None,
    shuffle_blocks=True,
    random_state=None,
    prefetch="auto",
    scheduler="sync",
    verbose=0,
):
    """Train ``estimator`` for ``epochs`` passes over a Dask array, block by block.

    Every epoch visits each row block of ``X`` once, in an order drawn afresh
    from ``random_state`` when ``shuffle_blocks`` is true, and calls
    ``estimator.partial_fit`` on it: one ``partial_fit`` call per block, which
    for :class:`~sklearn_backprop.BackpropMLPClassifier` and
    :class:`~sklearn_backprop.BackpropMLPRegressor` is one shuffled pass of
    minibatch updates over the block's rows. Blocks are computed one at a time
    with Dask's ``scheduler``; with ``prefetch``, the next blocks are computed
    in a background thread while the current one trains, which pays when
    loading a block mostly waits (for a disk, a network, a cluster). At most
    ``prefetch + 1`` blocks (with their parts of ``y`` and ``sample_weight``)
    are held at once, whatever the size of the array.

    Parameters
    ----------
    estimator : estimator with a ``partial_fit`` method
        The model to train, in place: an estimator of this package with the
        'sgd' or 'adam' solver, or any other with ``partial_fit`` (scikit-learn's
        :class:`~sklearn.linear_model.SGDClassifier`, for instance). A fitted
        estimator continues from its current weights.
    X : dask.array.Array of shape (n_samples, n_features)
        Training data, chunked along the rows; each row block is one
        ``partial_fit`` call, so blocks of 10 000 to 100 000 rows keep the
        per-call overhead small. Column chunks are joined (``rechunk``) so that
        a block holds whole rows. Chunk sizes must be known (see
        :meth:`dask.array.Array.compute_chunk_sizes`).
    y : dask.array.Array or array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets. A Dask array is rechunked to the row blocks of ``X`` when its
        chunks differ; an in-memory array is sliced by them.
    epochs : int, default=1
        Number of passes over the data. An estimator of this package with
        ``solver='sgd'`` and ``learning_rate='one_cycle'`` (the classifier's
        defaults) runs its one-cycle schedule once over the ``epochs`` passes,
        whatever its ``max_iter``; see Notes.
    classes : array-like of shape (n_classes,), default=None
        Every class that can appear in ``y``, passed to the first
        ``partial_fit`` call (classifiers only). Needed when the first block
        does not hold every class, unless the estimator is fitted already;
        this package's classifiers otherwise take the classes of the first
        block, scikit-learn's raise.
    sample_weight : dask.array.Array or array-like of shape (n_samples,), default=None
        Weights of the samples, handed to ``partial_fit`` block by block like
        ``y``.
    shuffle_blocks : bool, default=True
        Whether each epoch visits the blocks in a new random order. Within a
        block, the estimator shuffles the rows itself (``shuffle=True``). The
        rows of a block stay together in every epoch, so blocks should each be
        a mix of the data (not, say, one class per block): shuffle the rows
        once when the array is written if they are sorted.
    random_state : int, RandomState instance or None, default=None
        Seeds the order of the blocks, one permutation per epoch. The
        estimator's own ``random_state`` draws its weights and the order of
        rows within blocks; with both set, training is reproducible.
    prefetch : int or 'auto', default='auto'
        Number of blocks computed ahead, in a background thread, while the
        current block trains. 0 computes each block in the calling thread
        just before it trains. 'auto' starts so, timing each load, and
        prefetches one block from the moment two loads in a row have each
        spent less than half of their time on this thread's CPU (the rest
        waited: for storage, the network, a cluster, or Dask's other
        threads). Prefetching a block whose loading keeps a CPU busy only
        competes with training for the cores, unless the machine has cores to
        spare.
    scheduler : str or object, default='sync'
        The Dask scheduler that computes each block (``dask.compute``'s
        ``scheduler``): 'sync' computes a block in one thread, 'threads' the
        tasks of one block in parallel, a :class:`distributed.Client` on a
        cluster (the block then travels to this process, which trains).
        Blocks are requested one at a time whatever the scheduler.
    verbose : int, default=0
        If positive, print a line when ``prefetch='auto'`` starts
        prefetching, and a line after each epoch: its number, rows,
        seconds, rows per second and, when the estimator records
        ``loss_curve_``, the mean of its blocks' training losses weighted by
        their rows.

    Returns
    -------
    estimator : estimator
        The trained ``estimator`` itself.

    Raises
    ------
    ImportError
        If Dask is not installed.
    TypeError
        If ``X`` is not a Dask array or ``estimator`` has no ``partial_fit``.
    ValueError
        If ``X`` is not 2-D or has unknown chunk sizes, if ``y`` or
        ``sample_weight`` does not have ``X``'s number of rows, or if
        ``epochs`` or ``prefetch`` is out of range.
    KeyboardInterrupt
        On Ctrl-C, also when ``partial_fit`` caught it: this package's
        estimators and scikit-learn's MLPs then warn and keep the weights from
        before the interrupted block, which ``fit_out_of_core`` stops at.

    See Also
    --------
    dask_ml.wrappers.Incremental : Dask-ML's wrapper, one pass per call.

    Notes
    -----
    Each ``partial_fit`` call of this package's estimators counts as one
    epoch of its own: afterwards ``n_iter_`` is 1, ``loss_curve_`` holds one
    loss per block trained (``epochs`` times the number of blocks, for a new
    estimator) and ``t_`` counts the rows trained, ``epochs * n_samples`` for
    a new estimator. The learning-rate schedule 'adaptive' counts epochs
    without improvement in blocks, and ``early_stopping`` is not available
    (``partial_fit`` rejects it): evaluate a held-out set between calls
    instead, with ``epochs=1``.

    The 'one_cycle' schedule follows its cycle one ``partial_fit`` call at a
    time, over ``max_iter`` calls. ``fit_out_of_core`` instead runs one cycle
    over every call it makes, ``epochs`` times the number of blocks, so that
    the step rises and falls once over the whole training, as in :meth:`fit`
    with ``max_iter=epochs`` (``max_iter`` itself is left as it was): for a
    new estimator, for one whose cycle has ended (after a :meth:`fit` that
    ran its whole cycle, or a previous ``fit_out_of_core``), and for one whose
    optimiser starts afresh (data of another dtype). An estimator stopped in
    the middle of a cycle continues that cycle: by the caller's own
    ``partial_fit`` calls, or by a :meth:`fit` that stopped before its end
    (by ``tol``, a callback, or Ctrl-C).

    The block order is a coarser shuffle than a permutation of all the rows:
    a minibatch only ever mixes rows of one block. When the blocks are alike
    (the rows were shuffled when the array was made), this trains as well as
    a full shuffle; a block sorted by class does not.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_backprop import BackpropMLPClassifier
    >>> from sklearn_backprop.dask import fit_out_of_core
    >>> X, y = load_digits(return_X_y=True)
    >>> X_blocks = da.from_array(X / 16, chunks=(300, -1))  # 6 blocks of rows
    >>> y_blocks = da.from_array(y, chunks=300)
    >>> clf = BackpropMLPClassifier(random_state=0)
    >>> clf = fit_out_of_core(
    ...     clf, X_blocks, y_blocks, epochs=10, classes=range(10), random_state=0
    ... )
    >>> len(clf.loss_curve_), clf.t_  # 10 epochs of 6 blocks, of 1797 rows
    (60, 17970)
    >>> print(f"{clf.score(X / 16, y):.2f}")
    0.9...
    """
    _, da = _import_dask()  # the ImportError, with its hint, before anything else
    if not hasattr(estimator, "partial_fit"):
        raise TypeError(
            f"{type(estimator).__name__} has no partial_fit method: "
            "fit_out_of_core trains an estimator block by block through it."
        )
    if not isinstance(X, da.Array):
        raise TypeError(
            f"X must be a dask.array.Array, not {type(X).__name__}; wrap "
            "in-memory data with dask.array.from_array(X, chunks=(rows, -1))."
        )
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D, of shape (n_samples, n_features); got {X.ndim}-D."
        )
    if any(np.isnan(size) for size in X.chunks[0]):
        raise ValueError(
            "X has unknown chunk sizes; compute them first with "
            "X.compute_chunk_sizes() (or to_dask_array(lengths=True) for a "
            "Dask DataFrame)."
        )
    epochs = _check_int(epochs, "epochs", minimum=1)
    if not (isinstance(prefetch, str) and prefetch == "auto"):
        prefetch = _check_int(prefetch, "prefetch", minimum=0, auto=True)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    row_chunks = X.chunks[0]
    blocks = _BlockSource(X, {"y": y, "sample_weight": sample_weight}, scheduler)
    nonempty = [index for index, size in enumerate(row_chunks) if size > 0]
    rng = check_random_state(random_state)
    orders = [
        [int(index) for index in rng.permutation(nonempty)]
        if shuffle_blocks
        else list(nonempty)
        for _ in range(epochs)
    ]
    plan = [index for order in orders for index in order]
    # A one-cycle estimator: one cycle over all the calls (see Notes).
    cycle_calls = len(plan) if _runs_one_cycle(estimator) else None

    first_call = True
    with _Prefetcher(blocks.load, plan, prefetch, verbose=verbose) as loaded:
        for epoch, order in enumerate(orders, start=1):
            start = time.perf_counter()
            n_losses = _n_losses(estimator) or 0
            for _ in order:
                X_block, fit_params = loaded.next()
                if first_call and classes is not None:
                    fit_params["classes"] = classes
                calls_before = _n_losses(estimator)
                if first_call and cycle_calls is not None:
                    with estimator._one_cycle_over(cycle_calls):
                        estimator.partial_fit(X_block, **fit_params)
                else:
                    estimator.partial_fit(X_block, **fit_params)
                first_call = False
                calls_after = _n_losses(estimator)
                if calls_after is not None and calls_after == (calls_before or 0):
                    # This package's estimators and scikit-learn's MLPs catch
                    # Ctrl-C in partial_fit, warn, keep the weights from before
                    # the call and return: stop here rather than go on.
                    raise KeyboardInterrupt(
                        "training was interrupted in a partial_fit call; the "
                        "estimator keeps the weights from before that block"
                    )
                del X_block, fit_params  # freed before the next block is taken
            if verbose:
                rows = [row_chunks[index] for index in order]
                seconds = time.perf_counter() - start
                _print_epoch(estimator, epoch, epochs, rows, seconds, n_losses)
    return estimator


def _runs_one_cycle(estimator):
    """Whether ``estimator`` is one of this package's, set for 'one_cycle' SGD."""
    from ._base import BaseBackpropMLP

    return (
        isinstance(estimator, BaseBackpropMLP)
        and estimator.solver == "sgd"
        and estimator.learning_rate == "one_cycle"
    )


def _n_losses(estimator):
    """Length of ``loss_curve_``, which grows by one per completed partial_fit
    of this package's estimators and scikit-learn's MLPs; None without it."""
    losses = getattr(estimator, "loss_curve_", None)
    return None if losses is None else len(losses)


def _import_dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:
        raise ImportError(
            "fit_out_of_core needs Dask's arrays: pip install "
            '"sklearn-backprop[dask]" (or "dask[array]").'
        ) from exc
    return dask, da


def _check_int(value, name, *, minimum, auto=False):
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or value < minimum
    ):
        expected = f"an int >= {minimum}" + (" or 'auto'" if auto else "")
        raise ValueError(f"{name} must be {expected}; got {value!r}.")
    return int(value)


class _BlockSource:
    """The row blocks of X (whole rows), with the matching rows of the other
    ``arrays`` (y and sample_weight), each a Dask array, in memory, or None."""

    def __init__(self, X, arrays, scheduler):
        self._dask, da = _import_dask()
        row_chunks = X.chunks[0]
        self._scheduler = scheduler
        # Unoptimised: X's and y's blocks keep the keys of the tasks they share
        # (one read of a file for both, say), which one compute then runs once.
        self._X = X.to_delayed(optimize_graph=False).ravel()
        self._offsets = np.concatenate([[0], np.cumsum(row_chunks)]).astype(int)
        n_samples = int(self._offsets[-1])
        self._lazy, self._in_memory = {}, {}
        for name, values in arrays.items():
            if values is None:
                continue
            if isinstance(values, da.Array):
                if values.shape[0] != n_samples:
                    raise ValueError(_length_message(name, values.shape[0], n_samples))
                if values.chunks[0] != tuple(row_chunks) or (
                    values.ndim > 1 and len(values.chunks[1]) > 1
                ):
                    values = values.rechunk((row_chunks,) + (-1,) * (values.ndim - 1))
                self._lazy[name] = values.to_delayed(optimize_graph=False).ravel()
            else:
                values = np.asarray(values)
                if values.ndim == 0 or values.shape[0] != n_samples:
                    length = values.shape[0] if values.ndim else "no"
                    raise ValueError(_length_message(name, length, n_samples))
                self._in_memory[name] = values

    def load(self, index):
        """Compute block ``index``: X's rows and partial_fit's other arguments."""
        names = list(self._lazy)
        computed = self._dask.compute(
            self._X[index],
            *(self._lazy[name][index] for name in names),
            scheduler=self._scheduler,
        )
        start, stop = self._offsets[index], self._offsets[index + 1]
        fit_params = dict(zip(names, computed[1:]))
        for name, values in self._in_memory.items():
            fit_params[name] = values[start:stop]
        if "y" not in fit_params:
            fit_params["y"] = None
        return computed[0], fit_params


def _length_message(name, length, n_samples):
    return f"{name} has {length} rows but X has {n_samples}; they must match."


class _Clock:
    """What ``prefetch='auto'`` compares: wall time and this thread's CPU time.

    ``_Prefetcher`` reads them from the module's ``_CLOCK``, so that a test
    can put a clock whose time passes only when its fake loads say so, and
    check the decision whatever else the machine is doing.
    """

    @staticmethod
    def wall():
        return time.perf_counter()

    @staticmethod
    def cpu():
        return time.thread_time()


_CLOCK = _Clock()


class _Prefetcher:
    """The results of ``load(i)`` for ``i`` in ``plan``, computed ahead.

    With ``prefetch`` = 0, ``next`` loads in the calling thread. Otherwise a
    single background thread keeps up to ``prefetch`` loads submitted: the
    next one is submitted when a result is taken, so that ``prefetch`` blocks
    are being computed or waiting while the caller trains on the one it took.

    With 'auto', loads run in the calling thread, timed, until
    ``AUTO_STREAK`` loads in a row have each spent less than half of their
    wall time on this thread's CPU: from then on one block is prefetched.
    They are timed there, with training paused, because a load that runs
    beside training is slowed by it (cores and the GIL shared) and would look
    like waiting; and in a row, so that one stalled read of a source that
    otherwise computes does not switch it on. The first loads also import
    modules and fill caches, which costs CPU: a source that waits is
    recognised once that is over.

    Leaving the ``with`` block, by the end or by an error, cancels the loads
    not yet started and waits for the running one.
    """

    AUTO_STREAK = 2

    def __init__(self, load, plan, prefetch, verbose=0):
        self._load = load
        self._plan = iter(plan)
        self._auto = prefetch == "auto"
        self._prefetch = 0 if self._auto else prefetch
        self._waiting_streak = 0
        self._n_loaded = 0
        self._verbose = verbose
        self._pending = collections.deque()
        self._executor = None

    def __enter__(self):
        if self._prefetch:
            self._start_prefetching()
        return self

    def _start_prefetching(self):
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="sklearn_backprop-prefetch"
        )
        for _ in range(self._prefetch):
            self._submit()

    def _submit(self):
        index = next(self._plan, None)
        if index is not None:
            self._pending.append(self._executor.submit(self._load, index))

    def next(self):
        if self._executor is not None:
            result = self._pending.popleft().result()
            self._submit()
            return result
        if not self._auto:
            return self._load(next(self._plan))
        clock = _CLOCK
        wall, cpu = clock.wall(), clock.cpu()
        result = self._load(next(self._plan))
        wall, cpu = clock.wall() - wall, clock.cpu() - cpu
        self._n_loaded += 1
        self._waiting_streak = self._waiting_streak + 1 if cpu < 0.5 * wall else 0
        if self._waiting_streak == self.AUTO_STREAK:
            # prefetch='auto': loading waits (storage, network, a cluster).
            self._prefetch = 1
            self._start_prefetching()
            if self._verbose:
                print(
                    f"prefetch='auto': block {self._n_loaded} of the run waited "
                    f"for {1 - cpu / wall:.0%} of its {wall:.2f} s of loading; "
                    "prefetching one block from here on",
                    flush=True,
                )
        return result

    def __exit__(self, *exc_info):
        if self._executor is not None:
            for future in self._pending:
                future.cancel()
            self._pending.clear()
            self._executor.shutdown(wait=True)
        return False


def _print_epoch(estimator, epoch, epochs, rows, seconds, n_losses):
    """The verbose line of an epoch whose blocks had ``rows`` rows each."""
    n_rows = sum(rows)
    line = (
        f"Epoch {epoch}/{epochs}: {n_rows} rows in {seconds:.1f} s "
        f"({n_rows / max(seconds, 1e-9):,.0f} rows/s)"
    )
    losses = getattr(estimator, "loss_curve_", None)
    if losses is not None and len(losses) - n_losses == len(rows):
        mean = np.average(losses[n_losses:], weights=rows)
        line += f", mean training loss {mean:.5f}"
    print(line, flush=True)
