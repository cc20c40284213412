"""Target 2: fitting with the defaults on MNIST. Ours' defaults against the
defaults before issue 11 (20 epochs at a constant step 0.1), seed by seed and
interleaved, and scikit-learn's ``MLPClassifier`` with its own defaults (Adam)
once: fit time, epochs, test accuracy and ConvergenceWarnings.
"""

import warnings

from benchmarks.contenders import (
    PREVIOUS_DEFAULTS,
    SKLEARN_ADAM_CONFIG,
    ours_classifier,
    sklearn_classifier,
)
from benchmarks.report import make_target
from benchmarks.timing import log, median, ratio, timed

MODES = {
    "quick": dict(default_fit_max_iter=3, default_fit_seeds=(0,)),  # n/a verdicts
    "full": dict(default_fit_max_iter=None, default_fit_seeds=(0, 1, 2, 3)),
    "dry-run": dict(default_fit_max_iter=1, default_fit_seeds=(0,)),
}
TARGET_ACCURACY = 0.980
AIM_ACCURACY = 0.982
TARGET_FIT_VS_SKLEARN_ADAM = 0.25
# Issue 11: the defaults' fit, over that of the defaults before it (20 epochs
# at a constant step 0.1), measured in the same run; and no ConvergenceWarning.
TARGET_FIT_VS_PREVIOUS = 0.5


def _fit(model, X, y, X_test, y_test):
    """One timed fit: its seconds, epochs, test accuracy and warnings."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        seconds = timed(model.fit, X, y)
    return {
        "fit_seconds": seconds,
        "n_iter": int(model.n_iter_),
        "seconds_per_epoch": seconds / model.n_iter_,
        "test_accuracy": float(model.score(X_test, y_test)),
        "convergence_warnings": sum(
            issubclass(w.category, ConvergenceWarning) for w in caught
        ),
    }


def _seed_summary(runs):
    """Medians over seeds (the worst accuracy too) of ``_fit`` runs."""
    accuracies = [r["test_accuracy"] for r in runs]
    return {
        "runs": runs,
        "fit_seconds": median([r["fit_seconds"] for r in runs]),
        "n_iter": median([r["n_iter"] for r in runs]),
        "seconds_per_epoch": median([r["seconds_per_epoch"] for r in runs]),
        "test_accuracy": median(accuracies),
        "worst_test_accuracy": min(accuracies),
        "convergence_warnings": sum(r["convergence_warnings"] for r in runs),
    }


def bench(data, mode):
    """Ours' defaults and the previous ones, seed by seed; scikit-learn's once."""
    cfg = MODES[mode]
    X, X_test, y, y_test = data
    cap = cfg["default_fit_max_iter"]
    extra = {} if cap is None else {"max_iter": cap}
    # name -> seed -> model; the names of the report's rows.
    configurations = {"ours": extra, "previous": {**PREVIOUS_DEFAULTS, **extra}}
    runs = {name: [] for name in configurations}
    for seed in cfg["default_fit_seeds"]:
        for name, params in configurations.items():
            log(
                f"target 2: {name} defaults, seed {seed}"
                + f" (max_iter={cap})" * bool(cap)
            )
            run = _fit(
                ours_classifier(random_state=seed, **params), X, y, X_test, y_test
            )
            run["seed"] = seed
            runs[name].append(run)
            log(
                f"  {run['fit_seconds']:.1f} s, {run['n_iter']} epochs, "
                f"accuracy {run['test_accuracy']:.4f}, "
                f"{run['convergence_warnings']} ConvergenceWarning"
            )
    results = {name: _seed_summary(r) for name, r in runs.items()}
    log("target 2: scikit-learn's MLPClassifier, its defaults (adam), seed 0")
    sklearn = sklearn_classifier(**SKLEARN_ADAM_CONFIG, random_state=0, **extra)
    results["sklearn_adam"] = _fit(sklearn, X, y, X_test, y_test)
    results["sklearn_adam"]["seed"] = 0
    results["previous_params"] = PREVIOUS_DEFAULTS
    results["capped_max_iter"] = cap
    return results


def targets(results):
    """Targets 2a-2d (n/a when the fits were capped)."""
    defaults = results.get("defaults") or {}
    capped = defaults.get("capped_max_iter") is not None
    ours = defaults.get("ours") or {}
    previous = defaults.get("previous") or {}
    sk_adam = defaults.get("sklearn_adam") or {}
    note = "capped max_iter: run without --quick" if capped else ""
    n_seeds = len(ours.get("runs") or [])
    return [
        make_target(
            "2a",
            f"defaults: worst test accuracy of {n_seeds} seeds (median "
            f"{ours.get('test_accuracy') or 0:.2%}, aim {AIM_ACCURACY:.1%})",
            None if capped else ours.get("worst_test_accuracy"),
            TARGET_ACCURACY,
            "{:.2%}",
            higher=True,
            note=note,
        ),
        make_target(
            "2b",
            "defaults: fit time / scikit-learn adam fit time",
            None
            if capped
            else ratio(ours.get("fit_seconds"), sk_adam.get("fit_seconds")),
            TARGET_FIT_VS_SKLEARN_ADAM,
            "{:.2f}x",
            note=note,
        ),
        make_target(
            "2c",
            "defaults: fit time / the previous defaults' (20 epochs at step 0.1), "
            "medians over the seeds",
            None
            if capped
            else ratio(ours.get("fit_seconds"), previous.get("fit_seconds")),
            TARGET_FIT_VS_PREVIOUS,
            "{:.2f}x",
            note=note,
        ),
        make_target(
            "2d",
            "defaults: ConvergenceWarnings over the seeds' fits",
            None if capped else ours.get("convergence_warnings"),
            0,
            "{:d}",
            note=note,
        ),
    ]


def markdown(defaults, *, report=True):
    if not defaults:
        return []
    capped = defaults.get("capped_max_iter")
    lines = [
        "### "
        + ("Target 2: full" if report else "Full")
        + " training with defaults"
        + (f" (capped at max_iter={capped})" if capped else ""),
        "",
        "| model | seeds | epochs | fit s | s/epoch | test accuracy "
        "(worst / median) | ConvergenceWarnings |",
        "|---|---|---|---|---|---|---|",
    ]
    previous = ", ".join(
        f"{k}={v!r}" for k, v in (defaults.get("previous_params") or {}).items()
    )
    for key, label in (
        ("ours", "`BackpropMLPClassifier(random_state=seed)`"),
        (
            "previous",
            f"`BackpropMLPClassifier({previous}, random_state=seed)` "
            "(the defaults before issue 11)",
        ),
        (
            "sklearn_adam",
            "`MLPClassifier(hidden_layer_sizes=(256,), activation='logistic', "
            "random_state=0)`",
        ),
    ):
        d = defaults.get(key)
        if d:
            runs = d.get("runs") or [d]
            worst = d.get("worst_test_accuracy", d["test_accuracy"])
            lines.append(
                f"| {label} | {len(runs)} | {d['n_iter']:g} | "
                f"{d['fit_seconds']:.1f} | {d['seconds_per_epoch']:.3f} | "
                f"{worst:.2%} / {d['test_accuracy']:.2%} | "
                f"{d['convergence_warnings']} |"
            )
    lines += [
        "",
        "Medians over the seeds (fitted seed by seed, the two configurations "
        "of ours interleaved).",
        "",
    ]
    return lines
