"""Hidden-layer activations as features: ``transform``, ``transform_layer``,
feature names, pipelines and ``set_output``, for both estimators."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_DIGITS = X_DIGITS / 16.0
X_TRAIN, Y_TRAIN = X_DIGITS[:1200], Y_DIGITS[:1200]
X_TEST, Y_TEST = X_DIGITS[1200:], Y_DIGITS[1200:]
X_REG, Y_REG = make_friedman1(n_samples=300, random_state=0)

ACTIVATION_FUNCTIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}


@pytest.mark.parametrize("activation", list(ACTIVATION_FUNCTIONS))
@pytest.mark.parametrize("layer", [0, 1, -1, -2])
def test_transform_is_the_hidden_layer_activation(activation, layer):
    """a_1 = f(X W_1 + b_1) and a_2 = f(a_1 W_2 + b_2), written out here."""
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(12, 7),
        activation=activation,
        learning_rate_init=0.01,  # a linear network diverges at larger steps
        max_iter=3,
        random_state=0,
        transform_layer=layer,
    ).fit(X_TRAIN, Y_TRAIN)
    f = ACTIVATION_FUNCTIONS[activation]
    a1 = f(X_TEST @ clf.coefs_[0] + clf.intercepts_[0])
    a2 = f(a1 @ clf.coefs_[1] + clf.intercepts_[1])
    expected = a1 if layer in (0, -2) else a2
    assert_allclose(clf.transform(X_TEST), expected, rtol=1e-12, atol=1e-12)
    assert clf.get_feature_names_out().shape == (expected.shape[1],)


def test_default_is_the_last_hidden_layer_and_names_follow_it():
    reg = BackpropMLPRegressor(hidden_layer_sizes=(9, 4), max_iter=5, random_state=0)
    reg.fit(X_REG, Y_REG)
    assert reg.transform(X_REG).shape == (len(X_REG), 4)
    assert_array_equal(
        reg.get_feature_names_out(), [f"backpropmlpregressor{i}" for i in range(4)]
    )
    reg.set_params(transform_layer=0)  # a transform-time choice: no refit needed
    assert reg.transform(X_REG).shape == (len(X_REG), 9)
    assert len(reg.get_feature_names_out()) == 9


@pytest.mark.parametrize("layer", [2, -3])
def test_out_of_range_layer_is_named(layer):
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(5, 3), max_iter=2, transform_layer=layer, random_state=0
    ).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match=f"transform_layer={layer} is out of range"):
        clf.transform(X_TEST)


def test_no_hidden_layer_has_no_features():
    clf = BackpropMLPClassifier(hidden_layer_sizes=(), max_iter=2, random_state=0)
    clf.fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="no hidden layer"):
        clf.transform(X_TEST)
    with pytest.raises(ValueError, match="no hidden layer"):
        clf.get_feature_names_out()
    assert "transform" in dir(clf)  # dir() and hasattr() work (skl2onnx uses dir)


def test_unfitted_transform_raises_not_fitted():
    with pytest.raises(NotFittedError):
        BackpropMLPClassifier().transform(X_TEST)
    with pytest.raises(NotFittedError):
        BackpropMLPRegressor().get_feature_names_out()


def test_fit_transform_equals_fit_then_transform():
    params = dict(hidden_layer_sizes=(16,), max_iter=4, random_state=0)
    features = BackpropMLPClassifier(**params).fit_transform(X_TRAIN, Y_TRAIN)
    fitted = BackpropMLPClassifier(**params).fit(X_TRAIN, Y_TRAIN)
    assert_array_equal(features, fitted.transform(X_TRAIN))


def test_hidden_features_feed_a_linear_model_in_a_pipeline():
    """The MLP learns its features on the pipeline's y; the logistic regression
    on top then classifies from them as well as the MLP's own output layer."""
    mlp = BackpropMLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0)
    pipe = make_pipeline(mlp, LogisticRegression(max_iter=2000)).fit(X_TRAIN, Y_TRAIN)
    on_features = pipe.score(X_TEST, Y_TEST)
    own = clone(mlp).fit(X_TRAIN, Y_TRAIN).score(X_TEST, Y_TEST)
    raw = LogisticRegression(max_iter=2000).fit(X_TRAIN, Y_TRAIN).score(X_TEST, Y_TEST)
    assert on_features > 0.9
    assert abs(on_features - own) < 0.03
    assert pipe[:-1].get_feature_names_out().shape == (64,)
    # regression: a linear model on the hidden features of a fitted regressor
    reg = BackpropMLPRegressor(solver="lbfgs", max_iter=300, random_state=0)
    reg_pipe = make_pipeline(reg, LinearRegression()).fit(X_REG, Y_REG)
    linear = LinearRegression().fit(X_REG, Y_REG).score(X_REG, Y_REG)
    assert reg_pipe.score(X_REG, Y_REG) > linear + 0.1
    assert raw < 1.0  # the comparison above is not trivially saturated


def test_set_output_pandas():
    X = pd.DataFrame(X_TEST, columns=[f"pixel{i}" for i in range(64)])
    X.index = X.index + 1000
    clf = BackpropMLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    clf.fit(X_TRAIN, Y_TRAIN).set_output(transform="pandas")
    with pytest.warns(UserWarning, match="fitted without feature names"):
        frame = clf.transform(X)  # fitted without names: scikit-learn warns
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(clf.get_feature_names_out())
    assert_array_equal(frame.index, X.index)
    # predictions are unaffected by set_output
    assert isinstance(clf.predict(X_TEST), np.ndarray)


def test_dtype_and_sparse_input():
    X32 = X_TRAIN.astype(np.float32)
    clf = BackpropMLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    clf.fit(X32, Y_TRAIN)
    assert clf.transform(X32).dtype == np.float32
    assert_allclose(
        clf.transform(sp.csr_matrix(X32)), clf.transform(X32), rtol=1e-6, atol=1e-6
    )
