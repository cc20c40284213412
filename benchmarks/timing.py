"""Timers, interleaved repetitions and their summaries.

The machine is shared and noisy: contenders are timed repetition by repetition,
each repetition running every contender once in an order rotated between
repetitions, and compared by their medians.
"""

import contextlib
import gc
import statistics
import sys
import time


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(fn, *args, **kwargs):
    """Seconds taken by one call of ``fn`` (garbage collected beforehand)."""
    gc.collect()
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


@contextlib.contextmanager
def frozen_heap():
    """Leave the objects alive now out of garbage collections until the block
    ends (``gc.freeze``): with the large heaps of JAX and PyTorch, the
    collection before each timed call then takes milliseconds, not a fifth
    of a second. The timed calls themselves are unchanged."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def interleaved(contenders, reps):
    """Time each contender ``reps`` times, rotating the order every repetition.

    ``contenders`` maps a name to a zero-argument callable; returns name -> list
    of seconds. Rotating the order spreads slow phases of a shared machine
    over all contenders instead of always hitting the same position. The
    objects alive before the first repetition are left out of the collection
    before each call (:func:`frozen_heap`).
    """
    names = list(contenders)
    times = {name: [] for name in names}
    with frozen_heap():
        for rep in range(reps):
            shift = rep % max(len(names), 1)
            for name in names[shift:] + names[:shift]:
                times[name].append(timed(contenders[name]))
    return times


def median(values):
    return float(statistics.median(values)) if values else None


def summary(values):
    """Median, min and all values of a list of seconds, for the JSON."""
    if not values:
        return None
    return {
        "median": median(values),
        "min": float(min(values)),
        "max": float(max(values)),
        "values": [float(v) for v in values],
    }


def ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator) / float(denominator)
