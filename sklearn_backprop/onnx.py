"""Export to ONNX: converters for skl2onnx.

Importing this module registers converters for
:class:`~sklearn_backprop.BackpropMLPClassifier` and
:class:`~sklearn_backprop.BackpropMLPRegressor` with `skl2onnx
<https://onnx.ai/sklearn-onnx/>`__, so that :func:`skl2onnx.to_onnx` converts
them, alone or as the last step of a :class:`~sklearn.pipeline.Pipeline`::

    import sklearn_backprop.onnx  # registers the converters
    from skl2onnx import to_onnx

    onx = to_onnx(clf, X[:1], options={"zipmap": False})

It needs the optional dependencies of ``pip install "sklearn-backprop[onnx]"``
(skl2onnx, and onnxruntime to run the graphs); ``import sklearn_backprop``
never imports them. Without skl2onnx this module imports but registers
nothing, and :func:`register_onnx_converters` raises :class:`ImportError`.

The graph computes in the type of the sample given to :func:`~skl2onnx.to_onnx`:
double for float64 input, float otherwise (integer and boolean inputs are cast
to float), whatever the dtype the model was trained in; the weights are cast to
that type. Its outputs are those of skl2onnx's converted classifiers and
regressors:

* classifiers: ``label``, the labels of ``predict`` (int64 for integer, boolean
  and integral float classes, strings for string classes; an int64 indicator
  matrix for multilabel targets), and ``probabilities``, those of
  ``predict_proba``, which the default option ``zipmap=True`` turns into a list
  of ``{class: probability}`` dicts of floats. The options ``zipmap`` (True,
  False, 'columns'), ``nocl`` and ``output_class_labels`` are skl2onnx's.
* regressors: ``variable``, of shape ``(n_samples, n_outputs_)``: a column for
  a single output, as skl2onnx's regressors give.

Probabilities are computed as ``predict_proba`` computes them, in the log
domain, and not with ONNX's ``Sigmoid``: ONNX Runtime's float ``Sigmoid``
returns 0 below z = -18 and loses its relative accuracy well before, where
``exp(log sigmoid(z))`` keeps it. Labels come from the output pre-activations,
as in ``predict``.
"""

import numpy as np

from ._array_api import to_numpy
from ._classifier import BackpropMLPClassifier
from ._coding import (
    BinaryCoding,
    MultilabelCoding,
    SigmoidsCoding,
    SoftmaxCoding,
)
from ._regressor import BackpropMLPRegressor

try:
    from skl2onnx import update_registered_converter
    from skl2onnx.common._apply_operation import (
        apply_argmax,
        apply_cast,
        apply_concat,
        apply_reshape,
        apply_softmax,
    )
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )
    from skl2onnx.common.utils_classifier import get_label_classes
    from skl2onnx.proto import onnx_proto
except ModuleNotFoundError as error:
    # Only a missing skl2onnx (or onnx) is tolerated: pytest's doctest
    # collection and `import sklearn_backprop.onnx` without the extra still
    # work; any other import error is a broken installation and propagates.
    if (error.name or "").split(".")[0] not in ("skl2onnx", "onnx"):
        raise
    _IMPORT_ERROR = error
else:
    _IMPORT_ERROR = None

__all__ = ["register_onnx_converters"]

_CLASSIFIER_ALIAS = "SklearnBackpropMLPClassifier"
_REGRESSOR_ALIAS = "SklearnBackpropMLPRegressor"

# The options of skl2onnx's own classifiers. Declaring 'zipmap' also makes
# skl2onnx parse the model with its classifier parser, which adds the ZipMap.
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
}


def register_onnx_converters():
    """Register the estimators' converters and shape calculators with skl2onnx.

    Importing :mod:`sklearn_backprop.onnx` calls it; calling it again (it is
    idempotent) is only needed to restore the converters after other code has
    replaced them. Afterwards :func:`skl2onnx.to_onnx` and
    :func:`skl2onnx.convert_sklearn` convert
    :class:`~sklearn_backprop.BackpropMLPClassifier` (with the classifier
    options ``zipmap``, ``nocl`` and ``output_class_labels``) and
    :class:`~sklearn_backprop.BackpropMLPRegressor`, alone or as the last step
    of a pipeline.

    Raises
    ------
    ImportError
        If skl2onnx is not installed (``pip install "sklearn-backprop[onnx]"``).
    """
    if _IMPORT_ERROR is not None:
        raise ImportError(
            "ONNX export needs skl2onnx and onnxruntime: "
            'pip install "sklearn-backprop[onnx]"'
        ) from _IMPORT_ERROR
    update_registered_converter(
        BackpropMLPClassifier,
        _CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        BackpropMLPRegressor, _REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor
    )


# ----------------------------------------------------------------------
# Shape calculators: the types and shapes of the operator's outputs
# ----------------------------------------------------------------------
def _check_operator(operator, n_outputs):
    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=n_outputs
    )
    check_input_and_output_types(
        operator,
        good_input_types=[
            FloatTensorType,
            DoubleTensorType,
            Int64TensorType,
            BooleanTensorType,
        ],
    )


def _computes_in_double(operator):
    return isinstance(operator.inputs[0].type, DoubleTensorType)


def _zipmap(operator):
    """Whether skl2onnx's ZipMap follows the operator (option ``zipmap=True``).

    ZipMap takes only float probabilities, so for double input the converter
    casts them to float, rather than produce a graph that ONNX Runtime
    rejects (as skl2onnx's own classifiers do); ZipMap's dicts hold floats in
    any case. ``zipmap='columns'`` keeps double.
    """
    options = operator.scope_inst.get_options(operator.raw_operator, {"zipmap": True})
    zipmap = options["zipmap"]
    return not isinstance(zipmap, str) and bool(zipmap)


def _classifier_shapes(operator):
    _check_operator(operator, 2)
    model = operator.raw_operator
    n_samples = operator.inputs[0].get_first_dimension()
    classes = _onnx_classes(get_label_classes(operator.scope_inst, model))
    if isinstance(model._coding, MultilabelCoding):
        operator.outputs[0].type = Int64TensorType([n_samples, len(classes)])
    elif classes.dtype == object:
        operator.outputs[0].type = StringTensorType([n_samples])
    else:
        operator.outputs[0].type = Int64TensorType([n_samples])
    double = _computes_in_double(operator) and not _zipmap(operator)
    proba_type = DoubleTensorType if double else FloatTensorType
    operator.outputs[1].type = proba_type([n_samples, len(classes)])


def _regressor_shapes(operator):
    _check_operator(operator, 1)
    n_samples = operator.inputs[0].get_first_dimension()
    output_type = DoubleTensorType if _computes_in_double(operator) else FloatTensorType
    operator.outputs[0].type = output_type(
        [n_samples, operator.raw_operator.n_outputs_]
    )


def _onnx_classes(classes):
    """Class labels as an ONNX tensor holds them: int64, or strings (dtype object).

    Booleans and floats become int64, as skl2onnx does for its own
    classifiers: the classifier learns float labels only when they are
    integers (other floats make a 'continuous' target, which it refuses).
    """
    classes = np.asarray(classes)
    if classes.dtype.kind in "OUS" and all(isinstance(c, str) for c in classes):
        return classes.astype(object)
    return classes.astype(np.int64)


# ----------------------------------------------------------------------
# Converters: the graphs
# ----------------------------------------------------------------------
class _GraphBuilder:
    """Adds nodes and constants to a skl2onnx container, returning their names.

    The graph computes in one floating-point type: double for double input,
    float for any other.
    """

    def __init__(self, scope, operator, container):
        self.scope, self.container = scope, container
        if _computes_in_double(operator):
            self.proto, self.dtype = onnx_proto.TensorProto.DOUBLE, np.float64
        else:
            self.proto, self.dtype = onnx_proto.TensorProto.FLOAT, np.float32

    def constant(self, hint, value):
        """An initializer of the graph's floating-point type."""
        value = np.asarray(value, dtype=self.dtype)
        name = self.scope.get_unique_variable_name(hint)
        self.container.add_initializer(
            name, self.proto, list(value.shape), value.ravel()
        )
        return name

    def node(self, op_type, inputs, output=None, **attrs):
        """A node of the default domain, in the newest version the opset allows.

        Returns the name of its output, ``output`` or a new one.
        """
        if output is None:
            output = self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            inputs,
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return output

    def helper(self, apply_function, inputs, output=None, **kwargs):
        """Run a skl2onnx ``apply_*`` helper (for operators whose attributes
        changed between opsets); returns the name of its output."""
        if output is None:
            output = self.scope.get_unique_variable_name(apply_function.__name__[6:])
        apply_function(self.scope, inputs, output, self.container, **kwargs)
        return output


_HIDDEN_OPERATORS = {"logistic": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}


def _output_preactivations(builder, operator, model):
    """z of the output layer, clipped to the finite range as the estimators do.

    ``predict`` and ``predict_proba`` replace an infinite z by the largest
    finite value, so that a saturated network still gives a class and
    probabilities, not NaN from inf - inf in the softmax; so does the graph.
    """
    x = operator.inputs[0].full_name
    if not isinstance(operator.inputs[0].type, (FloatTensorType, DoubleTensorType)):
        x = builder.helper(apply_cast, x, to=builder.proto)
    n_layers = len(model.coefs_)
    for i, (coef, intercept) in enumerate(
        zip(model.coefs_, model.intercepts_, strict=True)
    ):
        product = builder.node("MatMul", [x, builder.constant("coefficient", coef)])
        bias = builder.constant("intercepts", np.reshape(intercept, (1, -1)))
        x = builder.node("Add", [product, bias])
        if i < n_layers - 1 and model.activation != "identity":
            # ONNX's Sigmoid is accurate in absolute terms, which is what the
            # hidden units need (the output layer needs relative accuracy).
            x = builder.node(_HIDDEN_OPERATORS[model.activation], x)
    # Min and Max rather than Clip: ONNX Runtime's Clip takes double only from
    # opset 12 on.
    finite_max = np.finfo(builder.dtype).max
    x = builder.node("Min", [x, builder.constant("finite_max", finite_max)])
    return builder.node("Max", [x, builder.constant("finite_min", -finite_max)])


def _log_sigmoids(builder, z):
    """log sigmoid(z) and log(1 - sigmoid(z)) = log sigmoid(-z), stably.

    log sigmoid(z) = -relu(-z) - log(1 + exp(-|z|)): ``exp`` never overflows,
    and where ``1 + exp(-|z|)`` rounds to 1 the logarithm is off by less than
    one unit in the last place of 1, so the probabilities exp(log sigmoid(z))
    keep their relative accuracy. (ONNX's Softplus would give the same, but
    ONNX Runtime has no double kernel for it.)
    """
    exp_minus_abs = builder.node("Exp", builder.node("Neg", builder.node("Abs", z)))
    log_term = builder.node(
        "Log", builder.node("Add", [exp_minus_abs, builder.constant("one", 1.0)])
    )
    minus_relu_minus_z = builder.node(
        "Neg", builder.node("Relu", builder.node("Neg", z))
    )
    minus_relu_z = builder.node("Neg", builder.node("Relu", z))
    log_sigmoid = builder.node("Sub", [minus_relu_minus_z, log_term])
    log_one_minus_sigmoid = builder.node("Sub", [minus_relu_z, log_term])
    return log_sigmoid, log_one_minus_sigmoid


# What each output coding's predict_proba computes from z, as a graph
# ending in ``output``: the coding's type selects it.
def _softmax_probabilities(builder, z, output):
    builder.helper(apply_softmax, z, output, axis=1)


def _sigmoids_probabilities(builder, z, output):
    # sigmoid(z_k) / sum_j sigmoid(z_j) = softmax_k(log sigmoid(z))
    log_sigmoid, _ = _log_sigmoids(builder, z)
    builder.helper(apply_softmax, log_sigmoid, output, axis=1)


def _binary_probabilities(builder, z, output):
    # [1 - sigmoid(z), sigmoid(z)], each from its own logarithm so that both
    # keep their relative accuracy, as predict_proba does.
    log_sigmoid, log_one_minus_sigmoid = _log_sigmoids(builder, z)
    log_proba = builder.helper(
        apply_concat, [log_one_minus_sigmoid, log_sigmoid], axis=1
    )
    builder.node("Exp", log_proba, output)


def _multilabel_probabilities(builder, z, output):
    log_sigmoid, _ = _log_sigmoids(builder, z)
    builder.node("Exp", log_sigmoid, output)


# The coding's predict, from z: sigmoid(z) > 1/2 exactly when z > 0, and the
# argmax of the probabilities is the argmax of z. Each returns the graph's
# class indices, or None when it has written the labels themselves.
def _argmax_indices(builder, z, label):
    return builder.helper(apply_argmax, z, axis=1, keepdims=0)  # the first maximum


def _binary_indices(builder, z, label):
    positive = builder.node("Greater", [z, builder.constant("zero", 0.0)])
    index = builder.helper(apply_cast, positive, to=onnx_proto.TensorProto.INT64)
    return builder.helper(apply_reshape, index, desired_shape=(-1,))


def _multilabel_indicators(builder, z, label):
    positive = builder.node("Greater", [z, builder.constant("zero", 0.0)])
    builder.helper(apply_cast, positive, label, to=onnx_proto.TensorProto.INT64)
    return None


_CODING_GRAPHS = {  # (probabilities, labels) of each coding
    SoftmaxCoding: (_softmax_probabilities, _argmax_indices),
    SigmoidsCoding: (_sigmoids_probabilities, _argmax_indices),
    BinaryCoding: (_binary_probabilities, _binary_indices),
    MultilabelCoding: (_multilabel_probabilities, _multilabel_indicators),
}


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    builder = _GraphBuilder(scope, operator, container)
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    z = _output_preactivations(builder, operator, model)
    probabilities, labels = _CODING_GRAPHS[type(model._coding)]

    # Probabilities, as predict_proba computes them; cast to float at the end
    # where a ZipMap follows a double graph.
    cast_to_float = builder.dtype == np.float64 and _zipmap(operator)
    proba_computed = scope.get_unique_variable_name("proba") if cast_to_float else proba
    probabilities(builder, z, proba_computed)
    if cast_to_float:
        builder.helper(
            apply_cast, proba_computed, proba, to=onnx_proto.TensorProto.FLOAT
        )

    index = labels(builder, z, label)
    if index is None:
        return
    int64 = onnx_proto.TensorProto.INT64
    classes = _onnx_classes(get_label_classes(scope, model))
    classes_name = scope.get_unique_variable_name("classes")
    if classes.dtype == object:
        container.add_initializer(
            classes_name,
            onnx_proto.TensorProto.STRING,
            [len(classes)],
            [c.encode("utf-8") for c in classes],
        )
    else:
        container.add_initializer(classes_name, int64, [len(classes)], classes)
    builder.node("Gather", [classes_name, index], label, axis=0)


# The output activation of the regressor's TargetCoding: yhat = z, or exp(z)
# for loss='poisson'.
_TARGET_OPERATORS = {"identity": "Identity", "exp": "Exp"}


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    builder = _GraphBuilder(scope, operator, container)
    z = _output_preactivations(builder, operator, model)
    coding = model._coding
    output_operator = _TARGET_OPERATORS[coding.out_activation]
    if coding.scale is None:
        builder.node(output_operator, z, operator.outputs[0].full_name)
        return
    a = builder.node(output_operator, z)
    scale = builder.constant("target_scale", to_numpy(coding.scale))
    scaled = builder.node("Mul", [a, scale])
    mean = builder.constant("target_mean", to_numpy(coding.mean))
    # yhat = mean + scale * a_L: standardised targets back in y's units
    builder.node("Add", [scaled, mean], operator.outputs[0].full_name)


if _IMPORT_ERROR is None:
    register_onnx_converters()
