"""
=============================
Hidden layers as features
=============================

A trained network's hidden layers are features learnt for its task. Both
estimators of the family are scikit-learn transformers:
:meth:`~sklearn_backprop.BackpropMLPClassifier.transform` returns the
activations of the hidden layer chosen by ``transform_layer`` (by default the
last one). This example trains a classifier with a narrow last hidden layer of
8 units on scikit-learn's 8x8 digits, looks at those 8 features as a pandas
DataFrame with their names, feeds them to a logistic regression in a
:class:`~sklearn.pipeline.Pipeline`, compares them with the first 8 principal
components of the pixels, and projects both on a plane.

The user guide's :ref:`hidden_features` page explains what is computed.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The data
# --------
#
# The 1 797 images of 8x8 pixels are divided by 16, their maximum, so that the
# inputs lie in [0, 1], and split into a training and a test set.
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, random_state=0, stratify=y
)
print(f"{len(X_train)} training and {len(X_test)} test images of {X.shape[1]} pixels")

# %%
# A network with a narrow last hidden layer
# -----------------------------------------
#
# Two hidden layers of sigmoid units, 64 then 8: everything the softmax output
# layer knows about an image has to pass through the 8 units of the second
# hidden layer, so their activations are a compressed description of the
# image, learnt to tell the digits apart. Softmax outputs train this narrow
# network more reliably than the default sigmoid outputs (over a few random
# seeds, their test accuracies varied much less). The network is small,
# so the fits run on one BLAS thread, which avoids the threads waiting for one
# another on a busy machine (:mod:`threadpoolctl` comes with scikit-learn).
import warnings

from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_backprop import BackpropMLPClassifier

mlp = BackpropMLPClassifier(
    hidden_layer_sizes=(64, 8), output_activation="softmax", max_iter=50, random_state=0
)
with threadpool_limits(limits=1, user_api="blas"):
    mlp.fit(X_train, y_train)
print(f"test accuracy of the network: {mlp.score(X_test, y_test):.3f}")

# %%
# :meth:`~sklearn_backprop.BackpropMLPClassifier.transform` runs the forward
# pass up to the chosen hidden layer and returns its activations
# :math:`a_l = f(z_l)`, here sigmoids in (0, 1). ``transform_layer`` counts
# like ``hidden_layer_sizes``: -1 (the default) is the last hidden layer, 0
# the first. It is read when ``transform`` is called, so another layer needs
# no new fit.
last = mlp.transform(X_test)
first = mlp.set_params(transform_layer=0).transform(X_test)
print(f"last hidden layer:  {last.shape}")
print(f"first hidden layer: {first.shape}")

# %%
# Feature names and pandas output
# -------------------------------
#
# The features are named after the estimator, as scikit-learn names the
# outputs of its own transformers that make new features (such as
# :class:`~sklearn.decomposition.PCA`), and ``set_output(transform="pandas")``
# makes ``transform`` return a :class:`pandas.DataFrame` with those names.
mlp.set_params(transform_layer=-1)  # back to the last hidden layer
print(mlp.get_feature_names_out())
mlp.set_output(transform="pandas")
mlp.transform(X_test[:5]).round(3)

# %%
# The features in a pipeline
# --------------------------
#
# Because the classifier is a transformer, it can be an intermediate step of a
# :class:`~sklearn.pipeline.Pipeline`, here followed by a
# :class:`~sklearn.linear_model.LogisticRegression`. Note that a pipeline
# fits *every* step on its own ``y``: the network learns features for the
# pipeline's target, and the logistic regression is then trained on those
# features of the same training images. For comparison, a second pipeline
# gives the logistic regression the first 8 principal components of the
# pixels, as many features, found without looking at the labels. With pandas
# output set on the pipeline, the logistic regression sees the names of its
# features. (The network in the pipeline has the parameters of the one above
# and is fitted on the same data, so it learns the same weights.)
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

learnt = make_pipeline(
    BackpropMLPClassifier(
        hidden_layer_sizes=(64, 8),
        output_activation="softmax",
        max_iter=50,
        random_state=0,
    ),
    LogisticRegression(max_iter=1000),
).set_output(transform="pandas")
principal = make_pipeline(PCA(n_components=8), LogisticRegression(max_iter=1000))
with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    learnt.fit(X_train, y_train)
    principal.fit(X_train, y_train)

print(f"logistic regression sees {list(learnt[-1].feature_names_in_[:3])}, ...")
print(
    f"8 learnt features -> logistic regression:       "
    f"{learnt.score(X_test, y_test):.3f}"
)
print(
    f"8 principal components -> logistic regression:  "
    f"{principal.score(X_test, y_test):.3f}"
)

# %%
# Here the features learnt for the task give the logistic regression a clearly
# higher accuracy than as many principal components, which keep what varies
# most among the pixels, whether or not it tells the digits apart.

# %%
# A projection on the plane
# -------------------------
#
# The first two principal components of each set of 8 features show how the
# test images are arranged. A plane is too small to hold ten classes apart,
# and both views overlap; but the learnt features gather the images of
# several digits into tight groups away from the others, where the principal
# components of the pixels spread every digit over a wider region. The
# logistic regression above uses all 8 dimensions.
import matplotlib.pyplot as plt

views = {
    "8 learnt features": learnt[0].transform(X_test).to_numpy(),
    "8 principal components of the pixels": principal[0].transform(X_test),
}
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, (title, features) in zip(axes, views.items()):
    plane = PCA(n_components=2).fit_transform(features)
    points = ax.scatter(*plane.T, c=y_test, cmap="tab10", s=12, alpha=0.8)
    ax.set(
        title=title,
        xlabel="first principal component",
        ylabel="second principal component",
    )
fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
plt.show()

# %%
# :class:`~sklearn_backprop.BackpropMLPRegressor` has the same ``transform``,
# whose features are learnt to predict its targets. A network without hidden
# layers (``hidden_layer_sizes=()``) has no features to return, and its
# ``transform`` raises a :class:`ValueError`.
