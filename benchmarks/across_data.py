"""Defaults across data sets (issue 21): every contender of
``contenders.TABULAR`` with the defaults a new user gets, on small and large,
easy and hard, classification and regression data sets that ship offline
(scikit-learn's loaders and generators, MNIST subsets), by 5-fold
cross-validation with seed 0: mean accuracy or R², fit time summed over the
folds, and ``ConvergenceWarning``\\ s counted. ``--only across-data`` runs it
alone, into ``across-data.json`` and ``across-data.md``.

Each contender sits in a pipeline behind a ``StandardScaler``, as a user
tries it; images are first divided by their largest value (16 or 255).
"""

import importlib.util
import statistics
import warnings

import numpy as np

from benchmarks.contenders.tabular import TABULAR
from benchmarks.data import MNIST
from benchmarks.report import fmt, make_target
from benchmarks.timing import log

SEED = 0
N_FOLDS = 5
# RealMLP-TD's accuracies in issue 21's table (pytabkit 1.7.3, same protocol).
REALMLP_ISSUE_21 = {
    "iris": 0.967,
    "wine": 0.983,
    "breast_cancer": 0.974,
    "digits": 0.984,
}
# Issue 21's targets.
TARGET_VS_SKLEARN = -0.005  # ours' defaults minus scikit-learn's, per data set
TARGET_MEAN_VS_SKLEARN = 0.005  # the same, averaged over the section
TARGET_VS_REALMLP = -0.01
TARGET_SOLVER_VS_SKLEARN = -0.005  # solver='adam' / 'lbfgs', per data set
TARGET_R2_VS_BEST = -0.03  # vs max(MLPRegressor(), RidgeCV())
TARGET_FRIEDMAN1_R2 = 0.93
TARGET_TIME_RATIO = 1.0  # ours' default fit time over scikit-learn's, per set
TARGET_TOTAL_TIME_RATIO = 0.5  # the same, summed over the section


def _mnist(n_rows):
    """MNIST's first ``n_rows`` training images / 255 (float64) and labels."""
    X_train, _, y_train, _ = MNIST.images()
    return X_train[:n_rows] / 255.0, y_train[:n_rows]


def _classification():
    from sklearn import datasets as d

    def digits():
        X, y = d.load_digits(return_X_y=True)
        return X / 16.0, y

    return {
        "iris": (
            "`load_iris()`, 150 x 4, 3 classes",
            lambda: d.load_iris(return_X_y=True),
        ),
        "wine": (
            "`load_wine()`, 178 x 13, 3 classes",
            lambda: d.load_wine(return_X_y=True),
        ),
        "breast_cancer": (
            "`load_breast_cancer()`, 569 x 30, 2 classes",
            lambda: d.load_breast_cancer(return_X_y=True),
        ),
        "digits": ("`load_digits()` / 16, 1797 x 64, 10 classes", digits),
        "moons_1000": (
            "`make_moons(1000, noise=0.3, random_state=0)`, 2 features",
            lambda: d.make_moons(1000, noise=0.3, random_state=0),
        ),
        "classification_2000": (
            "`make_classification(2000, 20, n_informative=10, n_classes=3, "
            "random_state=0)`",
            lambda: d.make_classification(
                2000, 20, n_informative=10, n_classes=3, random_state=0
            ),
        ),
        "classification_5000": (
            "`make_classification(5000, 40, n_informative=15, n_redundant=5, "
            "flip_y=0.05, random_state=1)`, 2 classes",
            lambda: d.make_classification(
                5000, 40, n_informative=15, n_redundant=5, flip_y=0.05, random_state=1
            ),
        ),
        "mnist_1000": (
            "MNIST's first 1 000 training images / 255",
            lambda: _mnist(1000),
        ),
        "mnist_5000": (
            "MNIST's first 5 000 training images / 255",
            lambda: _mnist(5000),
        ),
    }


def _regression():
    from sklearn import datasets as d

    return {
        "diabetes": (
            "`load_diabetes()`, 442 x 10, raw targets (25 to 346)",
            lambda: d.load_diabetes(return_X_y=True),
        ),
        "friedman1_2000": (
            "`make_friedman1(2000, noise=1.0, random_state=0)`",
            lambda: d.make_friedman1(2000, noise=1.0, random_state=0),
        ),
        "friedman2_1000": (
            "`make_friedman2(1000, noise=10.0, random_state=0)`, targets up to 1 700",
            lambda: d.make_friedman2(1000, noise=10.0, random_state=0),
        ),
        "regression_1000": (
            "`make_regression(1000, 20, n_informative=10, noise=10.0, random_state=0)`",
            lambda: d.make_regression(
                1000, 20, n_informative=10, noise=10.0, random_state=0
            ),
        ),
    }


SCORES = {"classification": "accuracy", "regression": "R²"}
SLOW_IMAGES = ("mnist_1000", "mnist_5000")
MODES = {
    "full": dict(across_data_sets=None),
    "quick": dict(across_data_sets=("iris", "breast_cancer", "diabetes")),
    "dry-run": dict(across_data_sets=("iris", "diabetes")),
}


def data_sets(names=None):
    """task -> name -> (description, loader), restricted to ``names``."""
    tasks = {"classification": _classification(), "regression": _regression()}
    return {
        task: {k: v for k, v in sets.items() if names is None or k in names}
        for task, sets in tasks.items()
    }


def contenders():
    """The contenders whose modules are importable, and the keys of the others."""
    taking_part, missing = [], []
    for contender in TABULAR:
        if all(importlib.util.find_spec(m) for m in contender.needs):
            taking_part.append(contender)
        else:
            missing.append(contender.key)
    return taking_part, missing


def cross_validated(estimator, X, y, task):
    """Mean test score, summed fit time and ConvergenceWarnings of a 5-fold
    cross-validation of ``StandardScaler() + estimator``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = StratifiedKFold if task == "classification" else KFold
    cv = folds(N_FOLDS, shuffle=True, random_state=SEED)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            scores = cross_validate(
                make_pipeline(StandardScaler(), estimator),
                X,
                y,
                cv=cv,
                error_score="raise",
            )
        except Exception as error:  # one contender's failure, not the section's
            return {"error": f"{type(error).__name__}: {error}"}
    return {
        "score": float(np.mean(scores["test_score"])),
        "fold_scores": [float(s) for s in scores["test_score"]],
        "fit_seconds": float(np.sum(scores["fit_time"])),
        "convergence_warnings": sum(
            issubclass(w.category, ConvergenceWarning) for w in caught
        ),
    }


def _same_estimator(estimator, fitted):
    """The key of an estimator of ``fitted`` with the same class and
    parameters, else None."""
    for key, other in fitted.items():
        if type(other) is type(estimator) and repr(other) == repr(estimator):
            return key
    return None


def bench(mode):
    """Every contender on every data set of the mode."""
    taking_part, missing = contenders()
    results = {
        "seed": SEED,
        "folds": N_FOLDS,
        "contenders": {c.key: c.label for c in taking_part},
        "not_run": missing,
        "tasks": {},
    }
    for task, sets in data_sets(MODES[mode]["across_data_sets"]).items():
        results["tasks"][task] = {}
        for name, (description, load) in sets.items():
            X, y = load()
            runs, fitted = {}, {}
            for contender in taking_part:
                if contender.skip_images and name in SLOW_IMAGES:
                    continue
                estimator = contender.build(task, SEED)
                same = _same_estimator(estimator, fitted)
                if same is not None:  # ours with the solver it defaults to
                    runs[contender.key] = {**runs[same], "same_as": same}
                    continue
                log(f"across data sets: {name}, {contender.key}")
                runs[contender.key] = cross_validated(estimator, X, y, task)
                fitted[contender.key] = estimator
            results["tasks"][task][name] = {
                "description": description,
                "n_samples": int(X.shape[0]),
                "n_features": int(X.shape[1]),
                "runs": runs,
            }
    return results


def _score(runs, key):
    """A contender's mean score; None when it did not run or failed."""
    return runs.get(key, {}).get("score")


def _difference(a, b):
    return None if a is None or b is None else a - b


def _seconds(runs, key):
    return runs.get(key, {}).get("fit_seconds")


def targets(results):
    """Issue 21's targets, each with its verdict (n/a where a contender did
    not run or failed)."""
    out = []
    classification = results["tasks"].get("classification", {})
    regression = results["tasks"].get("regression", {})

    def higher(key, label, value, threshold, template="{:+.4f}"):
        out.append(make_target(key, label, value, threshold, template, higher=True))

    gaps = []
    for name, data in classification.items():
        runs = data["runs"]
        gap = _difference(_score(runs, "ours"), _score(runs, "sklearn"))
        gaps.append(gap)
        higher(
            f"{name}/defaults",
            f"{name}: accuracy of ours' defaults minus scikit-learn's",
            gap,
            TARGET_VS_SKLEARN,
        )
        if name in REALMLP_ISSUE_21:
            higher(
                f"{name}/realmlp",
                f"{name}: accuracy of ours' defaults minus RealMLP-TD's "
                f"{REALMLP_ISSUE_21[name]} (issue 21)",
                _difference(_score(runs, "ours"), REALMLP_ISSUE_21[name]),
                TARGET_VS_REALMLP,
            )
        # scikit-learn's default solver is 'adam'.
        for solver, theirs in (("adam", "sklearn"), ("lbfgs", "sklearn_lbfgs")):
            higher(
                f"{name}/{solver}",
                f"{name}: solver='{solver}', ours minus scikit-learn's",
                _difference(_score(runs, f"ours_{solver}"), _score(runs, theirs)),
                TARGET_SOLVER_VS_SKLEARN,
            )
    if gaps:
        higher(
            "classification/mean",
            "mean over the classification sets: ours' defaults minus scikit-learn's",
            None if None in gaps else statistics.fmean(gaps),
            TARGET_MEAN_VS_SKLEARN,
        )
    for name, data in regression.items():
        runs = data["runs"]
        theirs = [_score(runs, "sklearn"), _score(runs, "linear")]
        higher(
            f"{name}/r2",
            f"{name}: R² of ours' defaults minus max(MLPRegressor(), RidgeCV())",
            None if None in theirs else _difference(_score(runs, "ours"), max(theirs)),
            TARGET_R2_VS_BEST,
        )
        if name.startswith("friedman1"):
            higher(
                f"{name}/r2_floor",
                f"{name}: R² of ours' defaults",
                _score(runs, "ours"),
                TARGET_FRIEDMAN1_R2,
                "{:.4f}",
            )
    sets = {**classification, **regression}
    pairs = {
        name: (_seconds(d["runs"], "ours"), _seconds(d["runs"], "sklearn"))
        for name, d in sets.items()
    }
    for name, (ours, theirs) in pairs.items():
        out.append(
            make_target(
                f"{name}/time",
                f"{name}: fit time of ours' defaults over scikit-learn's",
                None if None in (ours, theirs) else ours / theirs,
                TARGET_TIME_RATIO,
                "{:.2f}",
            )
        )
    if pairs:
        complete = all(None not in pair for pair in pairs.values())
        out.append(
            make_target(
                "time/total",
                "fit time of ours' defaults over scikit-learn's, summed over the "
                "section",
                sum(o for o, _ in pairs.values()) / sum(t for _, t in pairs.values())
                if complete
                else None,
                TARGET_TOTAL_TIME_RATIO,
                "{:.2f}",
            )
        )
        ours_runs = [
            run
            for data in sets.values()
            for key, run in data["runs"].items()
            if key.startswith("ours") and "same_as" not in run
        ]
        failed = any("error" in run for run in ours_runs)
        out.append(
            make_target(
                "warnings",
                "ConvergenceWarnings from ours' default fits (every solver)",
                None
                if failed
                else sum(run["convergence_warnings"] for run in ours_runs),
                0,
                "{:d}",
            )
        )
    return out


def cell(run, labels):
    """A contender's cell of a table: its mean score and summed fit time (and
    its ConvergenceWarnings, when any), or why there is none."""
    if run is None:
        return "–"
    if "error" in run:
        return f"failed: {run['error'].split(':')[0]}"
    if "same_as" in run:
        return f"= {labels[run['same_as']]}"
    text = f"{fmt(run['score'])} ({run['fit_seconds']:.1f} s)"
    if run["convergence_warnings"]:
        text += f" {run['convergence_warnings']}w"
    return text


def markdown(results, targets_, *, report=True):
    """The section: one table per task (score, fit seconds, warnings), then
    (``report``) the verdicts."""
    from benchmarks.report import targets_table

    keys = list(results["contenders"])
    lines = [
        "### Defaults across data sets",
        "",
        f"{results['folds']}-fold cross-validation (stratified for "
        f"classification), seed {results['seed']}; every contender with its "
        "defaults behind a `StandardScaler` (images divided by 16 or 255 "
        "first). Each cell: mean test accuracy (R² for regression), the fit "
        "time summed over the folds in seconds, and the number of "
        "ConvergenceWarnings when there were any. HistGradientBoosting is "
        "left out on the MNIST subsets (266 s on MNIST-1000 here)."
        + (
            f" Not run (not installed): {', '.join(results['not_run'])}."
            if results["not_run"]
            else ""
        ),
        "",
    ]
    for task, sets in results["tasks"].items():
        if not sets:
            continue
        lines += [
            f"{task.capitalize()} ({SCORES[task]}):",
            "",
            "| data set | n | "
            + " | ".join(results["contenders"][k] for k in keys)
            + " |",
            "|---|---:|" + "---|" * len(keys),
        ]
        for name, data in sets.items():
            cells = []
            for key in keys:
                cells.append(cell(data["runs"].get(key), results["contenders"]))
            lines.append(
                f"| {name} | {data['n_samples']} | " + " | ".join(cells) + " |"
            )
        lines.append("")
    lines += [
        "Data sets: "
        + "; ".join(
            f"{name}: {data['description']}"
            for sets in results["tasks"].values()
            for name, data in sets.items()
        )
        + ".",
        "",
    ]
    if report and targets_:
        lines += ["#### Targets (issue 21)", "", *targets_table(targets_)]
    return lines
