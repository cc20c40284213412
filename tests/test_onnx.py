"""ONNX export (``sklearn_backprop.onnx``): the graphs that skl2onnx's
``to_onnx`` makes of both estimators, run by onnxruntime, give the labels of
``predict`` and the values of ``predict_proba`` and ``predict``.

Tolerances are those of the type the graph's outputs have: probabilities in
float (float graphs, and ZipMap's dicts) within ``rtol=1e-4``, below which
ONNX Runtime's and NumPy's float32 sums of products differ in the last bits of
z, and ``atol`` the smallest normal float (a subnormal has no relative
accuracy left); double graphs within ``rtol=1e-10``. Labels are equal, except
for a float32 graph of a float64 model, where rows within rounding of a tie
may differ.
"""

import subprocess
import sys

import numpy as np
import pytest
from _helpers import optional_backend
from numpy.testing import assert_allclose, assert_array_equal

# The onnx extra (pip install "sklearn-backprop[onnx]"); CI installs it, and
# requires it: these never skip there.
optional_backend("skl2onnx")
ort = optional_backend("onnxruntime")

from skl2onnx import to_onnx  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import sklearn_backprop.onnx  # noqa: E402 (registers the converters)
from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
DEPTHS = [(), (6,), (5, 4)]

RNG = np.random.default_rng(0)
X_TRAIN = RNG.normal(size=(120, 5))
X_TEST = RNG.normal(size=(200, 5))
TARGETS = {
    "binary": (X_TRAIN[:, 0] + X_TRAIN[:, 1] > 0).astype(int),
    "multiclass": np.digitize(X_TRAIN[:, 0] + 0.5 * X_TRAIN[:, 2], [-0.5, 0.5]),
    "multilabel": np.c_[
        X_TRAIN[:, 0] > 0, X_TRAIN[:, 1] > 0, X_TRAIN[:, 0] + X_TRAIN[:, 2] > 0
    ].astype(int),
}
# (target, output_activation): every output layer the classifier has.
OUTPUTS = [
    ("binary", "logistic"),
    ("multiclass", "logistic"),
    ("multiclass", "softmax"),
    ("multilabel", "logistic"),
]

FLOAT_TOLERANCE = dict(rtol=1e-4, atol=np.finfo(np.float32).tiny)
DOUBLE_TOLERANCE = dict(rtol=1e-10, atol=np.finfo(np.float64).tiny)


def run_onnx(onx, X):
    """The outputs of the ONNX model ``onx`` on ``X``, by onnxruntime."""
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def zipmap_to_array(rows, classes):
    """ZipMap's list of {class: probability} dicts as an array, in class order."""
    for row in rows:
        assert set(row) == set(classes.tolist())
    return np.array([[row[c] for c in classes.tolist()] for row in rows])


def output_preactivations(model, X):
    """z of the output layer, from the last hidden layer's activations."""
    hidden = X if len(model.coefs_) == 1 else model.transform(X)
    return hidden @ model.coefs_[-1] + model.intercepts_[-1]


def saturate(model, X, z_max):
    """Scale the output layer so that the largest |z| on X is ``z_max``.

    z is linear in the output layer's weights and biases. With |z| beyond 18,
    float sigmoids round to 1 and ONNX Runtime's float Sigmoid returns 0 for
    the other side, so the graph must compute the probabilities as
    predict_proba does, from log sigmoid(z).
    """
    factor = z_max / np.abs(output_preactivations(model, X)).max()
    model.coefs_[-1] *= factor
    model.intercepts_[-1] *= factor


def fit_classifier(target, output_activation, dtype, **params):
    params = {"hidden_layer_sizes": (6,), "max_iter": 10, "random_state": 0, **params}
    clf = BackpropMLPClassifier(output_activation=output_activation, **params)
    return clf.fit(X_TRAIN.astype(dtype), TARGETS[target])


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden_layer_sizes", DEPTHS, ids=str)
@pytest.mark.parametrize("target, output_activation", OUTPUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("z_max", [None, 40.0, 80.0], ids=["fitted", "z40", "z80"])
def test_classifier_default_export(
    activation, hidden_layer_sizes, target, output_activation, dtype, z_max
):
    """``to_onnx(clf, X[:1])`` with skl2onnx's defaults: labels and ZipMap dicts.

    The dicts hold floats, whatever the graph's type. ``z_max`` scales the
    output layer so that the sigmoids saturate.
    """
    clf = fit_classifier(
        target,
        output_activation,
        dtype,
        hidden_layer_sizes=hidden_layer_sizes,
        activation=activation,
    )
    X = X_TEST.astype(dtype)
    if z_max is not None:
        saturate(clf, X, z_max)
    labels, dicts = run_onnx(to_onnx(clf, X[:1]), X)
    assert_array_equal(labels, clf.predict(X))
    expected = clf.predict_proba(X)
    assert_allclose(zipmap_to_array(dicts, clf.classes_), expected, **FLOAT_TOLERANCE)
    if z_max is not None and output_activation == "logistic":
        # Among the probabilities checked are some below sigmoid(-18.4), where
        # ONNX Runtime's float Sigmoid returns 0.
        assert expected.min() < 1e-8


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden_layer_sizes", DEPTHS, ids=str)
@pytest.mark.parametrize("target, output_activation", OUTPUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classifier_tensors_in_the_models_dtype(
    activation, hidden_layer_sizes, target, output_activation, dtype
):
    """``zipmap=False``: the probabilities tensor, in double for float64 input."""
    clf = fit_classifier(
        target,
        output_activation,
        dtype,
        hidden_layer_sizes=hidden_layer_sizes,
        activation=activation,
    )
    X = X_TEST.astype(dtype)
    saturate(clf, X, 60.0)
    labels, proba = run_onnx(to_onnx(clf, X[:1], options={"zipmap": False}), X)
    assert proba.dtype == dtype
    assert labels.dtype == np.int64
    assert_array_equal(labels, clf.predict(X))
    tolerance = DOUBLE_TOLERANCE if dtype == np.float64 else FLOAT_TOLERANCE
    assert_allclose(proba, clf.predict_proba(X), **tolerance)


def test_options_without_hidden_layers():
    """skl2onnx calls dir(model) when options are given: a network without
    hidden layers (no features to name) must let it."""
    clf = fit_classifier("multiclass", "logistic", np.float32, hidden_layer_sizes=())
    X = X_TEST.astype(np.float32)
    labels, proba = run_onnx(to_onnx(clf, X[:1], options={"zipmap": False}), X)
    assert_array_equal(labels, clf.predict(X))
    assert_allclose(proba, clf.predict_proba(X), **FLOAT_TOLERANCE)


@pytest.mark.parametrize("target, output_activation", OUTPUTS)
def test_float64_model_exported_in_float(target, output_activation):
    """float32 input makes a float graph of a float64 model: its weights are
    rounded to float, so labels may differ only for rows near a tie."""
    clf = fit_classifier(target, output_activation, np.float64)
    X = X_TEST.astype(np.float32)
    labels, proba = run_onnx(to_onnx(clf, X[:1], options={"zipmap": False}), X)
    assert proba.dtype == np.float32
    expected = clf.predict_proba(X)
    assert_allclose(proba, expected, **FLOAT_TOLERANCE)
    if target == "multilabel":
        near_tie = np.abs(expected - 0.5) < 1e-4
        assert_array_equal(labels[~near_tie], clf.predict(X)[~near_tie])
    else:
        top_two = np.sort(expected, axis=1)[:, -2:]
        near_tie = top_two[:, 1] - top_two[:, 0] < 1e-4
        assert_array_equal(labels[~near_tie], clf.predict(X)[~near_tie])
    assert near_tie.mean() < 0.05


@pytest.mark.parametrize(
    "labels",
    [
        np.array([-1, 3]),
        np.array([-1, 3, 10]),
        np.array(["no", "yes"]),
        np.array(["cat", "dog", "mouse"]),
        np.array([False, True]),
        np.array([0.0, 1.0, 2.0]),
    ],
    ids=["int-2", "int-3", "str-2", "str-3", "bool", "integral-float"],
)
@pytest.mark.parametrize("output_activation", ["logistic", "softmax"])
def test_class_labels_of_any_type(labels, output_activation):
    y_index = TARGETS["binary" if len(labels) == 2 else "multiclass"]
    clf = BackpropMLPClassifier(
        (6,), output_activation=output_activation, max_iter=10, random_state=0
    ).fit(X_TRAIN, labels[y_index])
    X = X_TEST.astype(np.float32)
    onx = to_onnx(clf, X[:1])
    predicted, dicts = run_onnx(onx, X)
    expected = clf.predict(X)
    assert_array_equal(predicted, expected)
    kind = "O" if labels.dtype.kind == "U" else "i"
    assert predicted.dtype.kind == kind
    assert_allclose(
        zipmap_to_array(dicts, clf.classes_), clf.predict_proba(X), **FLOAT_TOLERANCE
    )


def test_zipmap_columns_nocl_and_class_labels():
    """skl2onnx's other classifier options: 'columns', nocl, output_class_labels."""
    y = np.array(["cat", "dog", "mouse"])[TARGETS["multiclass"]]
    clf = BackpropMLPClassifier((6,), max_iter=10, random_state=0).fit(X_TRAIN, y)
    X = X_TEST.astype(np.float32)
    expected = clf.predict_proba(X)

    labels, *columns = run_onnx(to_onnx(clf, X[:1], options={"zipmap": "columns"}), X)
    assert_array_equal(labels, clf.predict(X))
    assert_allclose(np.column_stack(columns), expected, **FLOAT_TOLERANCE)

    options = {"zipmap": False, "nocl": True}
    indices, proba = run_onnx(to_onnx(clf, X[:1], options=options), X)
    assert_array_equal(indices, np.searchsorted(clf.classes_, clf.predict(X)))
    assert_allclose(proba, expected, **FLOAT_TOLERANCE)

    options = {"zipmap": False, "output_class_labels": True}
    labels, proba, classes = run_onnx(to_onnx(clf, X[:1], options=options), X)
    assert_array_equal(labels, clf.predict(X))
    assert_array_equal(classes, clf.classes_)


@pytest.mark.parametrize("target_opset", [9, 13, None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_older_opsets(target_opset, dtype):
    """Each operator is written in the version the target opset allows."""
    clf = fit_classifier("multiclass", "logistic", dtype)
    X = X_TEST.astype(dtype)
    saturate(clf, X, 60.0)
    onx = to_onnx(clf, X[:1], target_opset=target_opset, options={"zipmap": False})
    labels, proba = run_onnx(onx, X)
    assert_array_equal(labels, clf.predict(X))
    tolerance = DOUBLE_TOLERANCE if dtype == np.float64 else FLOAT_TOLERANCE
    assert_allclose(proba, clf.predict_proba(X), **tolerance)
    reg = BackpropMLPRegressor("poisson", (6,), max_iter=20, random_state=0)
    reg.fit(X_TRAIN.astype(dtype), np.exp(X_TRAIN[:, 0]))
    (predicted,) = run_onnx(to_onnx(reg, X[:1], target_opset=target_opset), X)
    assert_allclose(predicted[:, 0], reg.predict(X), **tolerance)


def test_integer_input_is_cast_to_float():
    clf = fit_classifier("multiclass", "softmax", np.float64)
    X = np.round(3 * X_TEST).astype(np.int64)
    labels, proba = run_onnx(to_onnx(clf, X[:1], options={"zipmap": False}), X)
    assert proba.dtype == np.float32
    assert_array_equal(labels, clf.predict(X))
    assert_allclose(proba, clf.predict_proba(X), **FLOAT_TOLERANCE)


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_pipeline(estimator):
    """The last step of a pipeline, with options named as for skl2onnx's own."""
    if estimator == "classifier":
        model = BackpropMLPClassifier((6,), max_iter=10, random_state=0)
        y = TARGETS["multiclass"]
    else:
        model = BackpropMLPRegressor(
            hidden_layer_sizes=(6,), max_iter=50, random_state=0
        )
        y = X_TRAIN[:, 0] ** 2
    pipe = make_pipeline(StandardScaler(), model).fit(10 * X_TRAIN + 3, y)
    X = (10 * X_TEST + 3).astype(np.float32)
    if estimator == "classifier":
        onx = to_onnx(pipe, X[:1], options={"zipmap": False})
        labels, proba = run_onnx(onx, X)
        assert_array_equal(labels, pipe.predict(X))
        assert_allclose(proba, pipe.predict_proba(X), **FLOAT_TOLERANCE)
    else:
        (predicted,) = run_onnx(to_onnx(pipe, X[:1]), X)
        expected = pipe.predict(X)
        assert_allclose(
            predicted[:, 0], expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max()
        )


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden_layer_sizes", DEPTHS, ids=str)
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regressor(activation, hidden_layer_sizes, loss, n_outputs, dtype):
    """Output ``variable`` of shape (n_samples, n_outputs_) in the input's type.

    Identity outputs are sums of products, compared with an absolute
    tolerance relative to the outputs' scale; exponential outputs are
    compared relatively, as their logarithms are absolutely.
    """
    y = np.c_[
        np.abs(X_TRAIN[:, 0]) + X_TRAIN[:, 1] ** 2,
        np.abs(X_TRAIN[:, 2]),
        np.exp(X_TRAIN[:, 3]),
    ][:, :n_outputs]
    reg = BackpropMLPRegressor(
        loss, hidden_layer_sizes, activation, max_iter=50, random_state=0
    ).fit(X_TRAIN.astype(dtype), y[:, 0] if n_outputs == 1 else y)
    X = (3 * X_TEST).astype(dtype)  # beyond the training range: larger outputs
    (predicted,) = run_onnx(to_onnx(reg, X[:1]), X)
    assert predicted.shape == (len(X), n_outputs)
    assert predicted.dtype == dtype
    expected = reg.predict(X).reshape(len(X), n_outputs)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    if loss == "poisson":
        assert_allclose(predicted, expected, rtol=rtol)
    else:
        atol = rtol / 10 * np.abs(expected).max()
        assert_allclose(predicted, expected, rtol=rtol, atol=atol)


def test_registration_is_idempotent():
    sklearn_backprop.onnx.register_onnx_converters()
    sklearn_backprop.onnx.register_onnx_converters()
    clf = fit_classifier("binary", "logistic", np.float32)
    X = X_TEST.astype(np.float32)
    labels, _ = run_onnx(to_onnx(clf, X[:1]), X)
    assert_array_equal(labels, clf.predict(X))


def test_skl2onnx_is_imported_only_by_the_onnx_module():
    """``import sklearn_backprop`` never imports skl2onnx; without skl2onnx,
    ``sklearn_backprop.onnx`` imports and ``register_onnx_converters`` says
    what to install."""
    code = """
import sys
import sklearn_backprop
assert "skl2onnx" not in sys.modules and "onnx" not in sys.modules
sys.modules["skl2onnx"] = None  # as if it were not installed
import sklearn_backprop.onnx
try:
    sklearn_backprop.onnx.register_onnx_converters()
except ImportError as error:
    assert "sklearn-backprop[onnx]" in str(error), error
else:
    raise AssertionError("no ImportError")
"""
    subprocess.run([sys.executable, "-c", code], check=True)
