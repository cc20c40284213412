"""Out-of-core training (``sklearn_backprop.dask.fit_out_of_core``).

The data are lazy Dask arrays whose blocks are generated on demand and logged
as they are computed, so the tests see which blocks were made, in which order,
and how much memory training held at its peak (traced by tracemalloc, which
counts NumPy's buffers): a few blocks, never the array.
"""

import subprocess
import sys
import threading
import tracemalloc

import _steps
import numpy as np
import pytest
from _helpers import optional_backend
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.utils import check_random_state

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor

# The dask extra (pip install "sklearn-backprop[dask]"). CI installs it: there
# a missing Dask fails these tests instead of skipping them.
dask = optional_backend("dask")
import dask.array as da  # noqa: E402

import sklearn_backprop.dask as dask_module  # noqa: E402
from sklearn_backprop.dask import fit_out_of_core  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_BLOCKS, ROWS, N_FEATURES = 50, 2000, 784
BLOCK_NBYTES = ROWS * N_FEATURES * 4  # float32: 6.3 MB, the array 314 MB


def _block(index, rows, n_features, log):
    """Block ``index`` of the lazy data: uniform pixels, the argmax of 10 as y."""
    if log is not None:
        log.append(index)
    X = np.random.default_rng(index).random((rows, n_features), dtype=np.float32)
    return X, X[:, :10].argmax(axis=1)


def lazy_data(n_blocks=N_BLOCKS, rows=ROWS, n_features=N_FEATURES, log=None):
    """X (n_blocks * rows, n_features) float32 and y, made block by block on demand.

    X's and y's blocks come from one task per block, which computing both in
    one ``dask.compute`` runs once; ``log`` gets the block's index each time.
    """
    X_blocks, y_blocks = [], []
    for index in range(n_blocks):
        block = dask.delayed(_block, pure=False)(index, rows, n_features, log)
        X_blocks.append(da.from_delayed(block[0], (rows, n_features), np.float32))
        y_blocks.append(da.from_delayed(block[1], (rows,), np.int64))
    return da.concatenate(X_blocks), da.concatenate(y_blocks)


def small_classifier(**params):
    return BackpropMLPClassifier(hidden_layer_sizes=(16,), random_state=0, **params)


def by_epoch(log, n_blocks=N_BLOCKS):
    return [log[start : start + n_blocks] for start in range(0, len(log), n_blocks)]


@pytest.mark.parametrize("prefetch", [0, 1, 2, "auto"])
def test_memory_stays_bounded_and_every_row_is_trained_once_per_epoch(prefetch):
    # The first call imports modules and fills caches (Dask's, scikit-learn's)
    # that tracemalloc would count; they do not grow with the data.
    X, y = lazy_data(n_blocks=2, rows=20, n_features=5)
    fit_out_of_core(small_classifier(), X, y, classes=range(10), prefetch=prefetch)
    log = []
    X, y = lazy_data(log=log)
    clf = small_classifier()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        fit_out_of_core(
            clf, X, y, epochs=2, classes=range(10), random_state=0, prefetch=prefetch
        )
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    # The block that trains, those computed ahead, and a block's worth of
    # everything else (the network, its minibatch buffers, Dask's graph): of
    # 50 blocks, never more than prefetch + 2.
    ahead = 1 if prefetch == "auto" else prefetch  # auto: at most one
    assert peak < (ahead + 2) * BLOCK_NBYTES, peak / BLOCK_NBYTES
    assert clf.t_ == 2 * N_BLOCKS * ROWS  # one partial_fit per block, per epoch
    assert len(clf.loss_curve_) == 2 * N_BLOCKS
    assert [sorted(epoch) for epoch in by_epoch(log)] == [list(range(N_BLOCKS))] * 2


def test_each_epoch_has_its_own_block_order_and_random_state_repeats_it():
    def block_orders(**params):
        log = []
        X, y = lazy_data(n_blocks=8, rows=50, n_features=12, log=log)
        fit_out_of_core(small_classifier(), X, y, epochs=3, classes=range(10), **params)
        return by_epoch(log, 8)

    orders = block_orders(random_state=0)
    assert [sorted(order) for order in orders] == [list(range(8))] * 3
    assert len({tuple(order) for order in orders}) == 3  # a new order per epoch
    rng = check_random_state(0)
    assert orders == [list(rng.permutation(8)) for _ in range(3)]
    assert block_orders(random_state=0) == orders
    assert block_orders(random_state=1) != orders
    assert block_orders(shuffle_blocks=False) == [list(range(8))] * 3


@pytest.mark.parametrize("prefetch", [0, 2])
def test_same_model_as_partial_fit_block_by_block(prefetch):
    # The helper adds nothing to the training: the same partial_fit calls, on
    # the same blocks in the same order, give the same weights to the bit.
    X, y = lazy_data(n_blocks=6, rows=300, n_features=20)
    clf = fit_out_of_core(
        small_classifier(),
        X,
        y,
        epochs=3,
        classes=range(10),
        random_state=7,
        prefetch=prefetch,
    )
    rng = check_random_state(7)
    # The one-cycle schedule of a new estimator spans all 18 calls.
    reference = small_classifier(max_iter=18)
    for _ in range(3):
        for index in rng.permutation(6):
            X_block, y_block = _block(index, 300, 20, None)
            reference.partial_fit(X_block, y_block, classes=range(10))
    for got, expected in zip(
        clf.coefs_ + clf.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert_array_equal(got, expected)
    assert clf.loss_curve_ == reference.loss_curve_
    assert clf.max_iter == "auto"  # left as it was
    assert clf.max_iter_ == 18  # the cycle's length


@pytest.fixture
def recorded_steps(monkeypatch):
    """The step of every minibatch update of this package's SGD, in order."""
    with _steps.recorded_steps(monkeypatch) as steps:
        yield steps


def _one_cycle_steps(n_steps):
    """The defaults' steps over a cycle of ``n_steps`` single-minibatch calls."""
    return _steps.expected_steps(0.6, n_steps, 0.1, 1, range(n_steps))


def test_one_cycle_spans_the_whole_training(recorded_steps):
    steps = recorded_steps
    X, y = lazy_data(n_blocks=5, rows=200, n_features=20)
    clf = fit_out_of_core(
        small_classifier(batch_size=100), X, y, epochs=4, classes=range(10)
    )
    # 4 epochs of 5 blocks of 2 minibatches: one rise and one fall over the
    # 40 updates, not a cycle of max_iter blocks started again and again.
    assert steps == pytest.approx(_one_cycle_steps(40), rel=1e-12)
    assert clf.max_iter == "auto"
    # An estimator at the end of its cycle runs a new one over the new calls.
    steps.clear()
    fit_out_of_core(clf, X, y, epochs=1)
    assert steps == pytest.approx(_one_cycle_steps(10), rel=1e-12)
    # So does one fitted by fit (its cycle of max_iter=8 epochs has ended).
    X_np, y_np = dask.compute(X, y)
    fitted = small_classifier(batch_size=100).fit(X_np, y_np)
    steps.clear()
    fit_out_of_core(fitted, X, y, epochs=2)
    assert steps == pytest.approx(_one_cycle_steps(20), rel=1e-12)


def test_one_cycle_stopped_mid_cycle_by_the_caller_continues(recorded_steps):
    X, y = lazy_data(n_blocks=5, rows=200, n_features=20)
    X_np, y_np = dask.compute(X, y)
    clf = small_classifier(batch_size=100, max_iter=4)
    clf.partial_fit(X_np[:400], y_np[:400], classes=range(10))  # epoch 1 of 4
    recorded_steps.clear()
    fit_out_of_core(clf, X, y, epochs=1, shuffle_blocks=False)
    # Each block is one call, one epoch of the caller's cycle of 4: epochs 2,
    # 3 and 4, then epochs 1 and 2 of the next cycle, 2 minibatches each.
    expected = _steps.expected_steps(0.6, 4, 0.1, 2, (1, 2, 3, 0, 1))
    assert recorded_steps == pytest.approx(expected, rel=1e-12)


def test_one_cycle_of_a_fit_stopped_early_continues(recorded_steps):
    # A fit that early stopping ended after 4 of its 12 epochs left its cycle
    # in the middle: fit_out_of_core continues that cycle (documented).
    X, y = lazy_data(n_blocks=5, rows=200, n_features=20)
    X_np, y_np = dask.compute(X, y)
    clf = small_classifier(
        batch_size=200, max_iter=12, tol=1e3, n_iter_no_change=2, early_stopping=True
    )
    clf.fit(X_np, y_np)
    assert clf.n_iter_ == 4
    clf.set_params(early_stopping=False)  # partial_fit refuses it
    recorded_steps.clear()
    fit_out_of_core(clf, X, y, epochs=1, shuffle_blocks=False)
    # Blocks of 200 rows: one minibatch each, epochs 5 to 9 of the cycle of 12.
    expected = _steps.expected_steps(0.6, 12, 0.1, 1, range(4, 9))
    assert recorded_steps == pytest.approx(expected, rel=1e-12)


def test_a_failed_first_call_leaves_the_cycle_as_it_was():
    X, y = lazy_data(n_blocks=3, rows=100, n_features=12)
    clf = fit_out_of_core(small_classifier(), X, y, classes=range(10))
    cycle = (clf._schedule.n_epochs, clf._schedule.epochs_done)
    bad_y = da.from_array(np.full(300, 99), chunks=100)  # a class never seen
    with pytest.raises(ValueError):
        fit_out_of_core(clf, X, bad_y)
    assert (clf._schedule.n_epochs, clf._schedule.epochs_done) == cycle
    assert clf.max_iter == "auto"


def test_targets_and_weights_in_memory_or_lazy_and_chunked_differently():
    X, y = lazy_data(n_blocks=5, rows=200, n_features=20)
    X_np, y_np = dask.compute(X, y)
    weights = np.random.default_rng(0).uniform(0.5, 2, len(y_np))
    params = dict(epochs=2, classes=range(10), random_state=0)
    reference = fit_out_of_core(
        small_classifier(), X, y, sample_weight=da.from_array(weights, 200), **params
    )
    variants = [
        (X, y_np, weights),  # y and sample_weight in memory
        (X.rechunk((200, 7)), y.rechunk(350), da.from_array(weights, 150)),
    ]
    for X_v, y_v, w_v in variants:
        clf = fit_out_of_core(small_classifier(), X_v, y_v, sample_weight=w_v, **params)
        assert_array_equal(clf.coefs_[0], reference.coefs_[0])


def test_regressors_and_scikit_learn_estimators():
    X, y = lazy_data(n_blocks=4, rows=250, n_features=20)
    target = X[:, 0] - 2 * X[:, 1]
    reg = fit_out_of_core(
        BackpropMLPRegressor(hidden_layer_sizes=(8,), random_state=0), X, target
    )
    assert reg.t_ == 1000 and len(reg.loss_curve_) == 4
    sgd = fit_out_of_core(SGDRegressor(random_state=0), X, target, epochs=2)
    assert sgd.t_ == 2001  # scikit-learn's t_ starts at 1
    # SGDClassifier raises unless its first partial_fit call gets classes.
    clf = fit_out_of_core(SGDClassifier(random_state=0), X, y, classes=range(10))
    assert_array_equal(clf.classes_, range(10))


def test_a_fitted_estimator_continues():
    X, y = lazy_data(n_blocks=3, rows=100, n_features=12)
    clf = fit_out_of_core(small_classifier(), X, y, classes=range(10))
    coefs = clf.coefs_[0].copy()
    fit_out_of_core(clf, X, y)  # classes known: not needed again
    assert clf.t_ == 600 and len(clf.loss_curve_) == 6
    assert not np.array_equal(clf.coefs_[0], coefs)


def test_empty_blocks_are_skipped():
    X = da.from_array(np.random.default_rng(0).random((40, 5)), chunks=((10, 0, 30), 5))
    y = np.arange(40) % 2
    clf = fit_out_of_core(small_classifier(), X, y, epochs=2)
    assert len(clf.loss_curve_) == 4 and clf.t_ == 80


class TimelineRecorder(BaseEstimator):
    """Records, in ``events``, when each block's training starts and ends; a
    block is named by the first value of its X. With ``wait_for_next`` (a
    dict of threading.Event by block), training a block waits until the next
    block's load has started: training and the prefetch overlap by
    construction, not by the machine's speed."""

    def __init__(self, events, wait_for_next=None):
        self.events = events
        self.wait_for_next = wait_for_next

    def partial_fit(self, X, y=None, classes=None):
        block = int(X[0, 0])
        self.events.append(("fit", block))
        started = (self.wait_for_next or {}).get(block + 1)
        if started is not None:
            # A guard against a hang, never reached when prefetching works.
            assert started.wait(timeout=60), f"block {block + 1} never loaded"
        self.events.append(("fitted", block))
        return self


def timeline_data(events, load, n_blocks=6):
    """A lazy (n_blocks * 4, 2) array whose block i is filled with i; making a
    block logs ("load", i, the loading thread's name), then runs
    ``load(i)``."""

    def make(index):
        events.append(("load", index, threading.current_thread().name))
        load(index)
        return np.full((4, 2), float(index))

    blocks = [
        da.from_delayed(dask.delayed(make)(index), (4, 2), float)
        for index in range(n_blocks)
    ]
    return da.concatenate(blocks), np.zeros(4 * n_blocks)


def prefetched(events):
    """The blocks loaded by the background thread of ``prefetch``."""
    return [
        event[1]
        for event in events
        if event[0] == "load" and event[2].startswith("sklearn_backprop-prefetch")
    ]


class FakeClock:
    """A clock whose time passes only when a fake load says so: ``wall`` and
    ``cpu`` seconds per load (``load`` below), whatever the machine does."""

    def __init__(self, wall_per_load, cpu_per_load):
        self.per_load = wall_per_load, cpu_per_load
        self.now = [0.0, 0.0]  # wall, this thread's CPU

    def wall(self):
        return self.now[0]

    def cpu(self):
        return self.now[1]

    def load(self, index):
        self.now = [now + step for now, step in zip(self.now, self.per_load)]


@pytest.mark.parametrize(
    "wall, cpu, expected",
    [
        # Loading waits (storage, network): 90 % of each load's wall time off
        # the CPU. After two such loads, timed in this thread, prefetching
        # starts: blocks 2 to 5 are computed in the background.
        (0.05, 0.005, [2, 3, 4, 5]),
        # Loading computes: every block is loaded in this thread.
        (0.05, 0.05, []),
        # Half of the time waiting is not enough (the rule: less than half
        # of the wall time on the CPU).
        (0.05, 0.025, []),
    ],
    ids=["waiting", "computing", "half-waiting"],
)
def test_auto_prefetches_only_when_loading_waits(
    monkeypatch, wall, cpu, expected, capsys
):
    clock = FakeClock(wall, cpu)
    monkeypatch.setattr(dask_module, "_CLOCK", clock)
    events = []
    X, y = timeline_data(events, clock.load)
    fit_out_of_core(TimelineRecorder(events), X, y, shuffle_blocks=False, verbose=1)
    assert [event[1] for event in events if event[0] == "fitted"] == list(range(6))
    assert prefetched(events) == expected
    decisions = [
        line for line in capsys.readouterr().out.splitlines() if "auto" in line
    ]
    if expected:  # block 2 of the run was the second to wait
        assert decisions == [
            "prefetch='auto': block 2 of the run waited for 90% of its 0.05 s "
            "of loading; prefetching one block from here on"
        ]
    else:
        assert decisions == []
    assert not _prefetch_threads()


def test_prefetch_1_loads_the_next_block_while_one_trains():
    events, started = [], {index: threading.Event() for index in range(6)}
    X, y = timeline_data(events, lambda index: started[index].set())
    recorder = TimelineRecorder(events, wait_for_next=started)
    fit_out_of_core(recorder, X, y, shuffle_blocks=False, prefetch=1)
    assert prefetched(events) == list(range(6))
    # Each block's training waited for the next block's load, which started
    # in the background before the training ended (the order of the load and
    # the start of the training is the threads' to choose).
    position = {event[:2]: n for n, event in enumerate(events)}
    for block in range(5):
        assert position["load", block + 1] < position["fitted", block]
    events.clear()
    fit_out_of_core(TimelineRecorder(events), X, y, shuffle_blocks=False, prefetch=0)
    assert prefetched(events) == []


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name.startswith("sklearn_backprop")]


@pytest.mark.parametrize("prefetch", [0, 1, 3])
def test_an_error_in_training_stops_the_prefetching(prefetch):
    log = []
    X, y = lazy_data(n_blocks=10, rows=50, n_features=12, log=log)
    y = da.where(da.arange(500) == 260, 11, y)  # class 11 in block 5
    clf = small_classifier()
    with pytest.raises(ValueError, match="11"):
        fit_out_of_core(
            clf, X, y, classes=range(10), shuffle_blocks=False, prefetch=prefetch
        )
    assert not _prefetch_threads()
    # Blocks 0-5 were made and trained up to the error in block 5; of the
    # `prefetch` blocks submitted after it, those not yet started are cancelled.
    assert log[:6] == list(range(6))
    assert log[6:] == list(range(6, len(log))) and len(log) <= 6 + prefetch
    assert clf.t_ == 250


def test_ctrl_c_caught_by_partial_fit_stops_the_training(monkeypatch):
    # The estimators catch KeyboardInterrupt in partial_fit, warn and return
    # with the weights from before the call; the helper must not go on.
    import sklearn_backprop._base

    calls = []
    train_epoch = sklearn_backprop._base.train_epoch

    def interrupted_third_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return train_epoch(*args, **kwargs)

    monkeypatch.setattr(sklearn_backprop._base, "train_epoch", interrupted_third_time)
    X, y = lazy_data(n_blocks=6, rows=50, n_features=12)
    clf = small_classifier()
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            fit_out_of_core(clf, X, y, classes=range(10), epochs=2)
    assert not _prefetch_threads()
    assert clf.t_ == 100 and len(clf.loss_curve_) == 2  # the first two blocks


def test_an_error_in_a_block_propagates():
    def broken(index):
        if index == 2:
            raise OSError("block 2 unreadable")
        return np.ones((10, 3))

    X = da.concatenate(
        [da.from_delayed(dask.delayed(broken)(i), (10, 3), float) for i in range(4)]
    )
    with pytest.raises(OSError, match="block 2 unreadable"):
        fit_out_of_core(small_classifier(), X, np.arange(40) % 2, shuffle_blocks=False)
    assert not _prefetch_threads()


def test_verbose_prints_a_line_per_epoch(capsys):
    X, y = lazy_data(n_blocks=3, rows=100, n_features=12)
    # prefetch=0: 'auto' prints its decision too when loading waits.
    clf = fit_out_of_core(small_classifier(), X, y, epochs=2, verbose=1, prefetch=0)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("Epoch 2/2: 300 rows in ")
    mean = np.mean(clf.loss_curve_[3:])  # blocks of equal rows
    assert lines[1].endswith(f"mean training loss {mean:.5f}")


def test_invalid_arguments():
    X, y = lazy_data(n_blocks=2, rows=10, n_features=3)
    clf = small_classifier()
    with pytest.raises(TypeError, match="dask.array.Array"):
        fit_out_of_core(clf, X.compute(), y)
    with pytest.raises(TypeError, match="no partial_fit"):
        fit_out_of_core(object(), X, y)
    with pytest.raises(ValueError, match="2-D"):
        fit_out_of_core(clf, X[:, 0], y)
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        fit_out_of_core(clf, X[X[:, 0] > 0.5], y)
    for name in ("y", "sample_weight"):
        with pytest.raises(ValueError, match=f"{name} has 19 rows but X has 20"):
            fit_out_of_core(clf, X, **{"y": y, name: np.ones(19)})
        with pytest.raises(ValueError, match=f"{name} has 21 rows but X has 20"):
            fit_out_of_core(clf, X, **{"y": y, name: da.ones(21)})
    for name, value in [
        ("epochs", 0),
        ("epochs", 1.5),
        ("prefetch", -1),
        ("prefetch", True),
        ("prefetch", "always"),
    ]:
        with pytest.raises(ValueError, match=f"{name} must be an int"):
            fit_out_of_core(clf, X, y, **{name: value})
    assert not hasattr(clf, "coefs_")


def test_importing_the_package_or_the_module_does_not_import_dask():
    code = (
        "import sys, sklearn_backprop, sklearn_backprop.dask; "
        "assert 'dask' not in sys.modules, 'dask imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
