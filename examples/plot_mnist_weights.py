"""
=====================================
Visualization of MLP weights on MNIST
=====================================

Each unit of the first hidden layer of a network trained on MNIST computes a
weighted sum of the 784 pixels of an image, so its weights, ``coefs_[0][:, j]``
for unit ``j``, can be displayed as a 28x28 image: the pattern of ink that
excites the unit (red) or inhibits it (blue). This example, after
scikit-learn's example of the same name, shows these images for a network
trained with the package's defaults and for the same network with a strong L2
penalty.

To run in seconds, both networks see 10 000 of the 60 000 MNIST training
images for 5 epochs.
"""

# Authors: The sklearn-backprop developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Loading the data
# ----------------
#
# The pixels are scaled to [0, 1] (``scale=True``); each image is a row of
# 28 x 28 = 784 values.
import numpy as np

from sklearn_backprop.datasets import load_mnist

X_train, X_test, y_train, y_test = load_mnist(scale=True)
X_train, y_train = X_train[:10_000], y_train[:10_000]
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# Training two networks
# ---------------------
#
# Both have the default hidden layer of 256 sigmoid units. The first keeps the
# default penalty ``alpha=1e-4``; the second uses ``alpha=1.0``, which pulls
# towards zero every weight that the data does not hold up.


from sklearn_backprop import BackpropMLPClassifier

models = {
    "alpha=1e-4 (default)": BackpropMLPClassifier(max_iter=5, random_state=0),
    "alpha=1.0": BackpropMLPClassifier(alpha=1.0, max_iter=5, random_state=0),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name}: test accuracy {model.score(X_test, y_test):.4f}")
    print(f"  coefs_[0] has shape {model.coefs_[0].shape}")

# %%
# The weights as images
# ---------------------
#
# Each column of ``coefs_[0]`` is reshaped to an image; the first 64 of the
# 256 units are shown. The colour scale is symmetric around zero (white) and
# shared by all the units of a network.
import matplotlib.pyplot as plt


def plot_first_layer(model, title, n_rows=8, n_cols=8):
    weights = model.coefs_[0]
    vmax = np.abs(weights).max()
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(7, 7.4))
    for coef, ax in zip(weights.T, axes.ravel()):
        ax.matshow(coef.reshape(28, 28), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_xticks(())
        ax.set_yticks(())
    fig.suptitle(title)
    fig.tight_layout()
    return fig


for name, model in models.items():
    plot_first_layer(model, f"First-layer weights, {name}")
plt.show()

# %%
# The weights start as uniform random noise (Glorot initialisation). With the
# default, tiny penalty, they keep much of it after 5 epochs: the pixels at the
# border of the images are blank in every image of MNIST, so their weights
# receive no gradient at all and stay as they were drawn, and even inside the
# digits the learned patterns barely rise above the noise.
#
# With ``alpha=1.0`` only the weights that the data sustains survive: the
# border fades to white and each unit shows a smooth, localised stroke
# detector, tuned to parts of digits such as loops and bars. The price is a
# lower test accuracy after these 5 epochs; a penalty this strong underfits,
# and ``alpha`` is best tuned by cross-validation, with a grid search as in the
# example on tuning the network.
