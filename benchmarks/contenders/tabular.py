"""The contenders of the "defaults across data sets" section: each estimator
with the defaults a new user gets, as a factory of ``task`` ('classification'
or 'regression') and ``random_state``.

Ours and scikit-learn's MLPs run once per solver; the linear model
(LogisticRegression, RidgeCV) and HistGradientBoosting are the references a
tabular user compares with; RealMLP-TD (pytabkit's tuned defaults, NeurIPS
2024) joins when ``pytabkit`` is importable.
"""

import dataclasses
from collections.abc import Callable

from benchmarks.contenders.estimators import (
    ours_classifier,
    ours_regressor,
    sklearn_classifier,
    sklearn_regressor,
)


@dataclasses.dataclass(frozen=True)
class Tabular:
    """A contender: its key (in the JSON), label (in the report), factory
    ``build(task, random_state)``, the modules it needs, and whether it is
    left out of the MNIST subsets (too slow there for a benchmark run)."""

    key: str
    label: str
    build: Callable
    needs: tuple = ()
    skip_images: bool = False


def _mlp(classifier, regressor, solver=None):
    """A factory of ``classifier(...)`` or ``regressor(...)`` (the estimators'
    factories of ``contenders.estimators``) with their defaults, but
    ``solver`` when given."""

    def build(task, random_state):
        factory = classifier if task == "classification" else regressor
        return factory(
            random_state=random_state, **({"solver": solver} if solver else {})
        )

    return build


def _ours(solver=None):
    return _mlp(ours_classifier, ours_regressor, solver)


def _sklearn(solver=None):
    return _mlp(sklearn_classifier, sklearn_regressor, solver)


def _linear(task, random_state):
    from sklearn.linear_model import LogisticRegression, RidgeCV

    if task == "classification":
        return LogisticRegression(max_iter=1000)  # 100 leaves digits unconverged
    return RidgeCV()


def _boosting(task, random_state):
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    if task == "classification":
        return HistGradientBoostingClassifier(random_state=random_state)
    return HistGradientBoostingRegressor(random_state=random_state)


def _realmlp(task, random_state):
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    cls = RealMLP_TD_Classifier if task == "classification" else RealMLP_TD_Regressor
    return cls(random_state=random_state, device="cpu", n_threads=2)


# The column order of the report. 'ours' is ours' defaults (the solver each
# head defaults to: 'sgd' for the classifier, 'adam' for the regressor).
TABULAR = [
    Tabular("ours", "ours, defaults", _ours()),
    Tabular("ours_sgd", "ours, solver='sgd'", _ours("sgd")),
    Tabular("ours_adam", "ours, solver='adam'", _ours("adam")),
    Tabular("ours_lbfgs", "ours, solver='lbfgs'", _ours("lbfgs")),
    Tabular("sklearn", "scikit-learn MLP, defaults ('adam')", _sklearn()),
    Tabular("sklearn_sgd", "scikit-learn MLP, solver='sgd'", _sklearn("sgd")),
    Tabular("sklearn_lbfgs", "scikit-learn MLP, solver='lbfgs'", _sklearn("lbfgs")),
    Tabular("linear", "LogisticRegression / RidgeCV", _linear),
    Tabular(
        "hgb", "HistGradientBoosting", _boosting, skip_images=True
    ),  # 266 s on MNIST-1000 here
    Tabular("realmlp", "RealMLP-TD (pytabkit)", _realmlp, needs=("pytabkit",)),
]
