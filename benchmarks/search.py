"""Searches on the machine's cores (issue 13): one ``GridSearchCV`` over a
pipeline with the classifier, timed with ``n_jobs=1``, joblib's loky, a Dask
``LocalCluster`` and Ray, interleaved, each checked to give the results of
``n_jobs=1``. ``--only search`` runs it alone, into ``search.json`` and
``search.md``.
"""

import contextlib
import os
import time

import numpy as np

from benchmarks import REPO
from benchmarks.machine import idle_cpu_sample, is_numpys
from benchmarks.report import fmt
from benchmarks.timing import interleaved, log, median, ratio, summary

MODES = {
    "quick": dict(rows=6_000, max_iter=3, reps=1),
    "full": dict(rows=20_000, max_iter=10, reps=3),
    "dry-run": dict(rows=300, max_iter=1, reps=1, idle_seconds=0.5),
}
SEARCH_HIDDEN = (128,)
SEARCH_GRID = {
    "backpropmlpclassifier__alpha": [1e-4, 1e-3, 1e-2],
    "backpropmlpclassifier__learning_rate_init": [0.05, 0.1],
}
SEARCH_CV = 3
SEARCH_WORKERS = 2
SEARCH_BACKENDS = {
    "n_jobs=1": "`n_jobs=1`: every fit in this process, one after the other",
    "loky": "joblib's default backend, loky: `n_jobs=2` worker processes",
    "dask": "Dask `LocalCluster(n_workers=2, threads_per_worker=1)`, worker "
    "processes, `parallel_backend('dask')`",
    "ray": "Ray started locally, `ray.init(num_cpus=2)`, `parallel_backend('ray')`",
}
# Read when ray is imported and by the processes it starts: every Ray address
# on 127.0.0.1 (by default Ray uses the machine's outward address), and no
# usage statistics sent.
SEARCH_RAY_ENVIRON = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def _probe(_):
    """(process id, NumPy's BLAS threads, where sklearn_backprop comes from)."""
    from threadpoolctl import threadpool_info

    import sklearn_backprop

    threads = [
        pool["num_threads"]
        for pool in threadpool_info()
        if pool["user_api"] == "blas" and is_numpys(pool["filepath"])
    ]
    return os.getpid(), max(threads, default=None), sklearn_backprop.__file__


def _probe_backend(backend, n_jobs):
    """What 2 x SEARCH_WORKERS tasks of ``backend`` report: BLAS threads per
    process, and the package's location."""
    import joblib

    with joblib.parallel_backend(backend):
        probes = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_probe)(i) for i in range(2 * SEARCH_WORKERS)
        )
    return {
        "blas_threads": sorted({threads for _, threads, _ in probes}, key=str),
        "package": sorted({path for _, _, path in probes}),
    }


def _start_dask(stack):
    """A Dask cluster of worker processes on the loopback interface, no
    dashboard, and its client: the seconds it took."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = stack.enter_context(
        LocalCluster(
            n_workers=SEARCH_WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )
    )
    stack.enter_context(Client(cluster))
    return time.perf_counter() - start


def _start_ray(stack):
    """A new local Ray instance on the loopback interface, its workers
    importing the working tree's package as this process does: the seconds
    it took."""
    os.environ.update(SEARCH_RAY_ENVIRON)
    import ray
    from ray.util.joblib import register_ray

    start = time.perf_counter()
    ray.init(
        address="local",
        num_cpus=SEARCH_WORKERS,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
    )
    stack.callback(ray.shutdown)
    seconds = time.perf_counter() - start
    gcs = ray.get_runtime_context().gcs_address
    if not gcs.startswith("127.0.0.1:"):
        raise RuntimeError(f"Ray listens on {gcs}, not on the loopback interface")
    register_ray()
    return seconds


def bench(mode, source):
    """Wall time of one GridSearchCV with n_jobs=1, loky, Dask and Ray.

    The search (a MinMaxScaler and a 784-128-10 BackpropMLPClassifier, 6
    candidates x 3 folds on the first MNIST training rows) runs once per
    repetition under each backend, the order rotated between repetitions; the
    Dask cluster and Ray are started once, beforehand (their start-up times
    are reported apart). Every run must give the results of n_jobs=1.
    """
    import joblib
    from joblib.externals.loky import get_reusable_executor
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    from sklearn_backprop import BackpropMLPClassifier

    cfg = MODES[mode]
    results = {
        "rows": cfg["rows"],
        "n_features": 784,
        "hidden_layer_sizes": list(SEARCH_HIDDEN),
        "max_iter": cfg["max_iter"],
        "grid": SEARCH_GRID,
        "cv": SEARCH_CV,
        "n_fits": SEARCH_CV * int(np.prod([len(v) for v in SEARCH_GRID.values()])),
        "workers": SEARCH_WORKERS,
        "reps": cfg["reps"],
        "backends": {name: {"label": label} for name, label in SEARCH_BACKENDS.items()},
        "load_average_before": list(os.getloadavg()),
    }
    log("search: the machine's own load (idle sample)")
    results["other_cpu_idle_before"] = idle_cpu_sample(cfg.get("idle_seconds", 5.0))
    X, _, y, _ = source.load()
    X, y = np.ascontiguousarray(X[: cfg["rows"]]), y[: cfg["rows"]]
    estimator = make_pipeline(
        MinMaxScaler(),
        BackpropMLPClassifier(
            hidden_layer_sizes=SEARCH_HIDDEN, max_iter=cfg["max_iter"], random_state=0
        ),
    )
    searches = {name: [] for name in SEARCH_BACKENDS}

    def run(name, backend, n_jobs):
        def fit():
            search = GridSearchCV(
                estimator, SEARCH_GRID, cv=SEARCH_CV, n_jobs=n_jobs, error_score="raise"
            )
            with joblib.parallel_backend(backend):
                searches[name].append(search.fit(X, y))

        return fit

    environ = dict(os.environ)
    with contextlib.ExitStack() as stack:
        dask_start = _start_dask(stack)
        # The nanny leaves OMP_NUM_THREADS=1 (and the like) in this process's
        # environment, where Ray's processes would inherit them.
        os.environ.clear()
        os.environ.update(environ)
        ray_start = _start_ray(stack)
        results["startup_seconds"] = {"dask": dask_start, "ray": ray_start}
        log(f"search: Dask cluster up in {dask_start:.1f} s, Ray in {ray_start:.1f} s")

        backends = {
            "n_jobs=1": ("sequential", 1),
            "loky": ("loky", SEARCH_WORKERS),
            "dask": ("dask", -1),
            "ray": ("ray", -1),
        }
        for name, (backend, n_jobs) in backends.items():
            results["backends"][name].update(_probe_backend(backend, n_jobs))
        log(
            f"search: {results['n_fits']} fits per search, {cfg['reps']} "
            f"repetition(s) of {', '.join(backends)}"
        )
        times = interleaved(
            {name: run(name, *spec) for name, spec in backends.items()}, cfg["reps"]
        )
    os.environ.clear()
    os.environ.update(environ)
    get_reusable_executor().shutdown(wait=True)

    reference = searches["n_jobs=1"][0]
    for name, runs in searches.items():
        same = all(
            s.best_params_ == reference.best_params_
            and s.best_score_ == reference.best_score_
            and np.array_equal(
                s.cv_results_["mean_test_score"],
                reference.cv_results_["mean_test_score"],
            )
            for s in runs
        )
        results["backends"][name].update(
            seconds=summary(times[name]),
            same_results_as_n_jobs_1=bool(same),
            best_score=float(runs[0].best_score_),
            speedup_vs_n_jobs_1=ratio(median(times["n_jobs=1"]), median(times[name])),
        )
        log(
            f"  {name}: {median(times[name]):.2f} s"
            + ("" if same else " (results differ from n_jobs=1!)")
        )
    results["best_params"] = reference.best_params_
    return results


def markdown(search):
    """The search section: wall time per backend, BLAS threads, start-up."""
    grid = " x ".join(
        f"{name.split('__')[1]} {values}" for name, values in search["grid"].items()
    )
    lines = [
        "### Searches: `GridSearchCV` with n_jobs=1, loky, Dask and Ray",
        "",
        f"`GridSearchCV(make_pipeline(MinMaxScaler(), BackpropMLPClassifier("
        f"hidden_layer_sizes={tuple(search['hidden_layer_sizes'])}, "
        f"max_iter={search['max_iter']}, random_state=0)), cv={search['cv']})` "
        f"over {grid}: {search['n_fits']} fits on the first {search['rows']:,} "
        f"MNIST training images (784 float32 pixels), then the refit; "
        f"{search['reps']} repetition(s), backends interleaved. The Dask cluster "
        "and Ray run on this machine, started once before the repetitions "
        f"(start-up: Dask {search['startup_seconds']['dask']:.1f} s, Ray "
        f"{search['startup_seconds']['ray']:.1f} s, not in the times below). "
        "Load before the section: load average "
        f"{search['load_average_before'][0]:.2f}, other processes "
        f"{fmt(search['other_cpu_idle_before'], '{:.2f}')} CPUs (an idle "
        "sample; during the section, the workers count as other processes).",
        "",
        "| backend | NumPy's BLAS threads per process | search s median (min) "
        "| n_jobs=1 / this | same results as n_jobs=1 |",
        "|---|---|---|---|---|",
    ]
    for run in search["backends"].values():
        seconds = run["seconds"]
        threads = ", ".join(str(t) for t in run["blas_threads"])
        lines.append(
            f"| {run['label']} | {threads} | {seconds['median']:.2f} "
            f"({seconds['min']:.2f}) | {fmt(run['speedup_vs_n_jobs_1'], '{:.2f}')}x "
            f"| {'yes' if run['same_results_as_n_jobs_1'] else '**no**'} |"
        )
    lines += [
        "",
        "The BLAS threads are what each backend's processes report (threadpoolctl) "
        "inside the backend: joblib limits loky's workers to cpu_count // n_jobs "
        "threads, Dask's nanny starts its workers with `OMP_NUM_THREADS`, "
        "`OPENBLAS_NUM_THREADS` and `MKL_NUM_THREADS` set to 1, Ray its workers "
        "with `OMP_NUM_THREADS` set to their CPUs (1). So n_jobs=1 runs one fit "
        "at a time on every core's BLAS thread, the others two fits at a time "
        "on one thread each: their ratio to n_jobs=1 is what a second BLAS "
        "thread fails to gain within one fit (small products, the per-minibatch "
        "Python and element-wise work), less the backend's own costs (loky "
        "memory-maps X for its workers, Dask and Ray copy it to theirs).",
        "",
    ]
    return lines
