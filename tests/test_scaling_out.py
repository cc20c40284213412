"""Hyperparameter searches on a Dask cluster and on Ray (the dask and ray extras).

Each search (``GridSearchCV``, ``RandomizedSearchCV`` and successive halving
over ``max_iter``, each over a pipeline that ends in one of our estimators)
runs once with ``n_jobs=1`` in this process and once through joblib's Dask or
Ray backend on two worker *processes*, started here on the loopback interface;
every fit is seeded, so the two runs must agree exactly: every entry of
``cv_results_`` but the times, ``best_params_`` and ``best_score_``. A step of
each pipeline logs the process of every fit, which shows that the fits ran on
the workers. The last test kills a Dask worker process in the middle of a
search: the nanny restarts it, the scheduler runs the lost fit again, and the
search ends with the results of an undisturbed run.

Nothing here may hang: every test and every cluster start and stop runs under
a time limit, past which the session ends with the traceback of where it
waited (a failure, never a stall). No test asserts a duration.
"""

import contextlib
import faulthandler
import itertools
import logging
import os
import signal
import sys
import threading
from collections import Counter
from pathlib import Path

import joblib
import numpy as np
import pytest
from _helpers import digits, optional_backend
from scipy.stats import loguniform
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import make_regression
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor

# The extras (pip install "sklearn-backprop[dask,ray]"). CI installs both in
# every stage that runs the suite, and requires them: there a missing one
# fails these tests instead of skipping them.
distributed = optional_backend("distributed")
import dask  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Past this many seconds, a cluster start, a test or a cluster stop ends the
# session (time_limit). Each takes a few seconds.
TIME_LIMIT = 300
N_WORKERS = 2
LOOPBACK = "127.0.0.1"


@contextlib.contextmanager
def time_limit(seconds=TIME_LIMIT):
    """Bound the block. Past ``seconds``, SIGINT this process: pytest reports a
    KeyboardInterrupt where the block was waiting and ends the session (exit
    status 2). Should that not end it within 60 s more, faulthandler prints
    every thread's traceback and exits (status 1)."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.daemon = True
    timer.start()
    faulthandler.dump_traceback_later(seconds + 60, exit=True)
    try:
        yield
    finally:
        timer.cancel()
        faulthandler.cancel_dump_traceback_later()


@contextlib.contextmanager
def environ_restored():
    """Put os.environ back as it was: a Dask nanny leaves its worker settings
    (OMP_NUM_THREADS=1 and others) in the environment of the process that
    started it, where later tests' subprocesses would inherit them."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ----------------------------------------------------------------------
# Data, searches and the step that logs where each fit ran
# ----------------------------------------------------------------------
def _regression():
    return make_regression(n_samples=200, n_features=10, noise=10.0, random_state=0)


class FitLog(TransformerMixin, BaseEstimator):
    """Pipeline step that passes X through and appends the fitting process's id
    to the file ``path`` (no file: logs nothing)."""

    def __init__(self, path=None):
        self.path = path

    def fit(self, X, y=None):
        if self.path is not None:
            with open(self.path, "a") as log:  # one short append: atomic
                log.write(f"{os.getpid()}\n")
        return self

    def transform(self, X):
        return X


def _classifier_pipeline(log):
    return make_pipeline(
        FitLog(log),
        MinMaxScaler(),
        BackpropMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
    )


def grid_search(log=None):
    search = GridSearchCV(
        _classifier_pipeline(log),
        {
            "backpropmlpclassifier__alpha": [1e-4, 1e-2],
            "backpropmlpclassifier__learning_rate_init": [0.05, 0.2],
        },
        cv=3,
        error_score="raise",
    )
    return search, digits(300, scale=1)


def randomized_search(log=None):
    pipeline = make_pipeline(
        FitLog(log),
        StandardScaler(),
        BackpropMLPRegressor(hidden_layer_sizes=(8,), max_iter=10, random_state=0),
    )
    search = RandomizedSearchCV(
        pipeline,
        {
            "backpropmlpregressor__alpha": loguniform(1e-5, 1e-1),
            "backpropmlpregressor__learning_rate_init": loguniform(1e-3, 1e-1),
        },
        n_iter=4,
        cv=3,
        random_state=0,
        error_score="raise",
    )
    return search, _regression()


def halving_search(log=None):
    """Successive halving with epochs as the resource: 4 candidates with 2
    epochs, the best 2 with 4, the best with 8 (21 fits)."""
    search = HalvingRandomSearchCV(
        _classifier_pipeline(log),
        {
            "backpropmlpclassifier__alpha": loguniform(1e-5, 1e-1),
            "backpropmlpclassifier__learning_rate_init": loguniform(1e-2, 0.5),
        },
        resource="backpropmlpclassifier__max_iter",
        min_resources=2,
        max_resources=8,
        factor=2,
        n_candidates=4,
        cv=3,
        random_state=0,
        error_score="raise",
    )
    return search, digits(300, scale=1)


SEARCHES = {
    "grid": grid_search,
    "randomized": randomized_search,
    "halving": halving_search,
}


def reference_run(make_search):
    """The search with n_jobs=1 in this process."""
    search, (X, y) = make_search()
    return search.set_params(n_jobs=1).fit(X, y)


def assert_same_search(search, reference):
    """Everything but the times, exactly: the fits are seeded."""
    assert search.best_params_ == reference.best_params_
    assert search.best_score_ == reference.best_score_
    assert search.cv_results_.keys() == reference.cv_results_.keys()
    for key, expected in reference.cv_results_.items():
        if key.endswith("_time"):
            continue
        got = search.cv_results_[key]
        # tolist: masked parameter columns compare as None; float scores
        # compare exactly (error_score="raise": no NaN).
        assert list(np.ma.asarray(got).tolist()) == list(
            np.ma.asarray(expected).tolist()
        ), key


def fits_by_process(log):
    return Counter(int(line) for line in Path(log).read_text().split())


def assert_fitted_elsewhere(search, log, worker_pids=None):
    """Every fit of the search ran in another process (among ``worker_pids``,
    when known), only the refit here; the fits per process."""
    counts = fits_by_process(log)
    n_fits = len(search.cv_results_["params"]) * search.n_splits_
    assert counts.pop(os.getpid()) == 1  # refit=True: the best, on all of X
    assert sum(counts.values()) == n_fits
    if worker_pids is not None:
        assert set(counts) <= set(worker_pids)
    return counts


def search_on_backend(make_search, backend, log):
    """The search with n_jobs=1 here, and the same on joblib's ``backend``
    with n_jobs=-1, its fits logged to ``log``: (reference, search)."""
    reference = reference_run(make_search)
    search, (X, y) = make_search(log)
    with joblib.parallel_backend(backend):
        search.set_params(n_jobs=-1).fit(X, y)
    return reference, search


# ----------------------------------------------------------------------
# Dask: a LocalCluster of worker processes on the loopback interface
# ----------------------------------------------------------------------
def local_cluster():
    return distributed.LocalCluster(
        n_workers=N_WORKERS,
        threads_per_worker=1,
        processes=True,
        host=LOOPBACK,
        dashboard_address=None,  # no dashboard; the scheduler's HTTP server
        # (health and metrics) on a free port, not on 8787, which another
        # cluster of this session may hold
        scheduler_kwargs={"dashboard_address": f"{LOOPBACK}:0"},
    )


@pytest.fixture(scope="module")
def dask_client():
    with environ_restored():
        with time_limit():
            cluster = local_cluster()
            client = distributed.Client(cluster)
        try:
            yield client
        finally:
            with time_limit():
                client.close()
                cluster.close()


def worker_pids(client):
    return client.run(os.getpid)


@pytest.mark.parametrize("name", SEARCHES)
def test_search_on_dask_equals_n_jobs_1(name, dask_client, tmp_path):
    log = tmp_path / "fits"
    with time_limit():
        pids = worker_pids(dask_client)
        assert all(address.startswith(f"tcp://{LOOPBACK}:") for address in pids)
        reference, search = search_on_backend(SEARCHES[name], "dask", log)
    assert_same_search(search, reference)
    counts = assert_fitted_elsewhere(search, log, pids.values())
    assert len(counts) == N_WORKERS  # both workers fitted


# ----------------------------------------------------------------------
# A Dask worker process killed in the middle of a search
# ----------------------------------------------------------------------
class KillWorkerOnce(TransformerMixin, BaseEstimator):
    """Pipeline step that kills its Dask worker process (SIGKILL, as the kernel's
    OOM killer would) when the ``kill_at``-th fit on any worker starts, once.

    Fits are counted in the file ``path``; the first to reach ``kill_at``
    creates ``path + ".killed"`` (exclusively, with its process id) and kills its
    process. Outside a Dask worker, and after that, it only passes X through.
    """

    def __init__(self, path=None, kill_at=4):
        self.path = path
        self.kill_at = kill_at

    def fit(self, X, y=None):
        try:
            distributed.get_worker()
        except ValueError:  # not in a worker: the reference run, the refit
            return self
        with open(self.path, "a") as log:
            log.write(f"{os.getpid()}\n")
        if len(Path(self.path).read_text().split()) >= self.kill_at:
            try:
                flag = os.open(
                    f"{self.path}.killed", os.O_CREAT | os.O_EXCL | os.O_WRONLY
                )
            except FileExistsError:
                return self
            os.write(flag, str(os.getpid()).encode())
            os.close(flag)
            os.kill(os.getpid(), signal.SIGKILL)
        return self

    def transform(self, X):
        return X


@contextlib.contextmanager
def distributed_log_records(level=logging.INFO):
    """The records of Dask's distributed loggers (they do not propagate)."""
    records = []
    handler = logging.Handler(level)
    handler.emit = records.append
    logger = logging.getLogger("distributed")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def test_search_survives_a_killed_dask_worker(tmp_path):
    """The 4th fit kills its worker; the search still returns the results of an
    undisturbed run. X, y and the folds' indices go to every worker up front
    (joblib's ``scatter``), and stay there (the active memory manager stopped):
    otherwise joblib's Dask backend sends each to one worker, and data on a
    dead worker cannot be recovered."""
    X, y = digits(300, scale=1)
    splits = list(StratifiedKFold(3).split(X, y))
    search = GridSearchCV(
        make_pipeline(
            KillWorkerOnce(str(tmp_path / "fits")),
            MinMaxScaler(),
            BackpropMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
        ),
        {
            "backpropmlpclassifier__alpha": [1e-4, 1e-2],
            "backpropmlpclassifier__learning_rate_init": [0.05, 0.2],
        },
        cv=splits,
        error_score="raise",
    )
    killed_flag = tmp_path / "fits.killed"
    with time_limit(), environ_restored():
        reference = GridSearchCV(**search.get_params(deep=False)).fit(X, y)
        assert not killed_flag.exists()  # no kill outside a worker
        # A task may be running on at most this many workers that die before it
        # fails the search with KilledWorker (Dask's default, stated here).
        with (
            dask.config.set({"distributed.scheduler.allowed-failures": 3}),
            distributed_log_records() as records,
            local_cluster() as cluster,
            distributed.Client(cluster) as client,
        ):
            before = worker_pids(client)
            # Keep every copy: the active memory manager would otherwise drop
            # all but one of each within seconds (its ReduceReplicas policy).
            client.amm.stop()
            scatter = [X, y, *itertools.chain.from_iterable(splits)]
            with joblib.parallel_backend("dask", scatter=scatter):
                search.set_params(n_jobs=-1).fit(X, y)
            client.wait_for_workers(N_WORKERS, timeout=60)
            after = worker_pids(client)
    killed = int(killed_flag.read_text())
    assert killed in before.values()
    assert killed not in after.values()  # restarted: a new process
    assert len(after) == N_WORKERS
    messages = [record.getMessage() for record in records]
    assert f"Worker process {killed} was killed by signal 9" in messages
    assert any(message.startswith("Restarting worker") for message in messages)
    assert_same_search(search, reference)
    fits = len(reference.cv_results_["params"]) * len(splits)
    # Every fit ran on a worker, the killed one (at least) twice: what the dead
    # worker ran or held is run again.
    assert sum(fits_by_process(tmp_path / "fits").values()) >= fits + 1


# ----------------------------------------------------------------------
# Ray, started locally on the loopback interface
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_workers():
    """A local Ray instance with 2 CPUs and joblib's "ray" backend registered."""
    if "ray" in sys.modules:
        pytest.fail("ray was imported before its loopback setting could be made")
    with pytest.MonkeyPatch.context() as env:
        # Read when ray is imported, and by the processes it starts: every
        # address is then 127.0.0.1 (by default Ray binds to and connects
        # through the machine's outward address). No usage statistics are sent.
        env.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray = optional_backend("ray")
        from ray import cloudpickle
        from ray.util.joblib import register_ray

        with time_limit():
            ray.init(
                address="local",
                num_cpus=N_WORKERS,
                include_dashboard=False,
                log_to_driver=False,
            )
        # Ray's workers do not get this process's sys.path: they receive this
        # module's classes (the FitLog step) by value.
        module = sys.modules[__name__]
        cloudpickle.register_pickle_by_value(module)
        try:
            assert ray.get_runtime_context().gcs_address.startswith(f"{LOOPBACK}:")
            register_ray()
            yield ray
        finally:
            cloudpickle.unregister_pickle_by_value(module)
            with time_limit():
                ray.shutdown()


@pytest.mark.parametrize("name", SEARCHES)
def test_search_on_ray_equals_n_jobs_1(name, ray_workers, tmp_path):
    log = tmp_path / "fits"
    with time_limit():
        reference, search = search_on_backend(SEARCHES[name], "ray", log)
    assert_same_search(search, reference)
    counts = assert_fitted_elsewhere(search, log)
    assert 1 <= len(counts) <= N_WORKERS
