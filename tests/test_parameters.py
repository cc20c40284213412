"""Parameters: ``__init__`` (and ``clone``) validate nothing; ``fit`` and
``partial_fit`` reject each invalid hyperparameter with a ``ValueError`` or
``TypeError`` naming it, and a rejected ``fit`` leaves no weights behind.
"""

import pytest
from _helpers import X_BIN, Y_BIN
from sklearn.base import clone

from sklearn_backprop import BackpropMLPClassifier

INVALID_PARAMS = [
    ("activation", "foo"),
    ("activation", "softmax"),
    ("output_activation", "relu"),
    ("solver", "newton-cg"),
    ("learning_rate", "x"),
    ("hidden_layer_sizes", (0,)),
    ("hidden_layer_sizes", (8, -1)),
    ("hidden_layer_sizes", "a"),
    ("hidden_layer_sizes", (8.5,)),
    ("alpha", -1),
    ("batch_size", 0),
    ("batch_size", 1.5),
    ("learning_rate_init", 0.0),
    ("power_t", -1.0),
    ("max_iter", 0),
    ("max_iter", 2.5),
    ("tol", -1e-3),
    ("momentum", 2),
    ("momentum", -0.1),
    ("validation_fraction", 1.0),
    ("validation_fraction", -0.1),
    ("n_iter_no_change", 2.5),
    ("max_fun", 0),
    ("transform_layer", 1.5),
    ("output_activation", "identity"),
    ("beta_1", 1.0),
    ("beta_2", 1.0),
    ("epsilon", 0.0),
    ("n_iter_no_change", 0),
    ("class_weight", "auto"),
    ("class_weight", [1, 2]),
    ("shuffle", "yes"),
    ("warm_start", 1),
    ("early_stopping", None),
    ("nesterovs_momentum", "true"),
    ("verbose", "loud"),
]


@pytest.mark.parametrize(
    "param, value", INVALID_PARAMS, ids=[f"{p}={v!r}" for p, v in INVALID_PARAMS]
)
def test_invalid_parameters_raise_at_fit_naming_the_parameter(param, value):
    clf = BackpropMLPClassifier(**{param: value})  # __init__ does not validate
    assert clf.get_params()[param] is value
    with pytest.raises((ValueError, TypeError), match=param):
        clf.fit(X_BIN, Y_BIN)
    assert not hasattr(clf, "coefs_")
    with pytest.raises((ValueError, TypeError), match=param):
        BackpropMLPClassifier(**{param: value}).partial_fit(X_BIN, Y_BIN)


def test_init_does_no_validation():
    clf = BackpropMLPClassifier(**{p: v for p, v in INVALID_PARAMS})
    assert clf.get_params()["solver"] == "newton-cg"
    cloned = clone(clf)  # clone checks nothing either
    assert cloned.get_params()["alpha"] == -1
