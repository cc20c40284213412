"""The scikit-learn estimators: ours (``BackpropMLPClassifier``) and
scikit-learn's ``MLPClassifier``, one ``partial_fit`` an epoch; and factories
of the estimators that the sections fitting ours alone use."""

import contextlib

import numpy as np

from benchmarks.contenders.base import CLASSES, HOST, N_FEATURES, Contender


class Ours(Contender):
    """``BackpropMLPClassifier(**params)``; an epoch is one ``partial_fit``
    (one shuffled pass, input validation included). On another library's
    arrays, under scikit-learn's ``array_api_dispatch``, labels on the host."""

    def __init__(
        self, params, n_features=N_FEATURES, *, batch_size=None, seed=0, library=None
    ):
        params = dict(params, random_state=seed)
        if batch_size is not None:
            params["batch_size"] = batch_size
        self.model = self.estimator(**params)
        self.library = library or HOST

    @staticmethod
    def estimator(**params):
        from sklearn_backprop import BackpropMLPClassifier

        return BackpropMLPClassifier(**params)

    def _dispatch(self):
        if self.library is HOST:
            return contextlib.nullcontext()
        from sklearn import config_context

        return config_context(array_api_dispatch=True)

    def prepare(self, X, y):
        return self.library.asarray(X), y

    def epoch(self, data):
        X, y = data
        first = {} if hasattr(self.model, "classes_") else {"classes": CLASSES}
        with self._dispatch():
            self.model.partial_fit(X, y, **first)

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def score(self, X, y):
        return float(np.mean(self.model.predict(X) == y))

    def fit(self, X, y, epochs):
        self.model.set_params(max_iter=epochs).fit(X, y)

    @property
    def weights_dtype(self):
        return str(self.model.coefs_[0].dtype)


class ScikitLearn(Ours):
    """scikit-learn's ``MLPClassifier(**params)``, one ``partial_fit`` an epoch."""

    @staticmethod
    def estimator(**params):
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(**params)


def ours_classifier(**params):
    """``BackpropMLPClassifier(**params)`` (the sections that fit ours alone)."""
    return Ours.estimator(**params)


def sklearn_classifier(**params):
    return ScikitLearn.estimator(**params)


# scikit-learn's MLPRegressor defaults where ours' differ (issue 21), and
# ours' switch to learn the targets as they are: with them and the same
# random_state, ours trains scikit-learn's model (the regression section's
# "same hyperparameters").
SKLEARN_REGRESSOR_DEFAULTS = dict(
    learning_rate="constant",
    learning_rate_init=0.001,
    max_iter=200,
    standardize_target=False,
)


def ours_regressor(**params):
    from sklearn_backprop import BackpropMLPRegressor

    return BackpropMLPRegressor(**params)


def ours_regressor_as_sklearn(**params):
    """``BackpropMLPRegressor`` with scikit-learn's defaults, ``params`` over
    them."""
    return ours_regressor(**{**SKLEARN_REGRESSOR_DEFAULTS, **params})


def sklearn_regressor(**params):
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(**params)
