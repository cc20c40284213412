"""Sphinx configuration of the sklearn-backprop documentation.

Build with ``make -C docs html`` (runs the gallery, whose examples train on
MNIST: see ``SKLEARN_BACKPROP_MNIST``) or ``make -C docs html-noplot`` (does
not); both treat warnings as errors.
"""

import os
import re
import sys
from pathlib import Path

# scikit-learn's array API dispatch (the GPU example) needs SciPy's own array
# API support, which SciPy reads once, when it is first imported: before the
# package is imported below.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

DOCS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS_DIR.parent))  # the package, even when not installed
sys.path.insert(0, str(DOCS_DIR / "_ext"))

import numpydoc.xref  # noqa: E402
from sklearn_backprop_docs import reachable_intersphinx  # noqa: E402

import sklearn_backprop  # noqa: E402

# The gallery examples plot with matplotlib; never open a window.
os.environ.setdefault("MPLBACKEND", "Agg")

# -- Project -----------------------------------------------------------------

project = "sklearn-backprop"
author = "The sklearn-backprop developers"
copyright = "The sklearn-backprop developers, BSD-3-Clause"
release = sklearn_backprop.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax 3 from the Python package, copied into _static/mathjax, instead of
    # a CDN: formulas render without network (checked by check_math.py).
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sklearn_backprop_docs",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_generated",
    "_ext",
    "_templates",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    # Fragments that a page pulls in with ".. include::", not pages of their own.
    "**/_*.rst",
]
root_doc = "index"
language = "en"
default_role = "literal"  # `x` renders as code instead of an unresolved reference
pygments_style = "sphinx"
nitpicky = False
# Equations are numbered by chapter of the (numbered) user guide, "(3.2)", so
# that a reference from another page cannot be mistaken for a local equation.
numfig = True
math_numfig = True
numfig_secnum_depth = 1
# Sphinx's own defaults are kept: every warning stays a warning (and so an error
# under -W). Unresolved Python references are no warnings with nitpicky off.

# -- autodoc / autosummary ---------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the package has no annotations; numpydoc has types
autoclass_content = "class"  # __init__ has no docstring of its own

# -- numpydoc ----------------------------------------------------------------

numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"  # words such as "of" and "shape" are not types
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "dtype": "numpy.dtype",
    "RandomState": "numpy.random.RandomState",
    "sparse matrix": "scipy.sparse.spmatrix",
    "BackpropMLPClassifier": "sklearn_backprop.BackpropMLPClassifier",
    "BackpropMLPRegressor": "sklearn_backprop.BackpropMLPRegressor",
    "FlatParameters": "sklearn_backprop._network.FlatParameters",
}
# Validate the public API's docstrings (each failure is a warning, so an error
# under -W). The internal functions documented on the Implementation page are
# written for developers and are not held to every rule.
numpydoc_validation_checks = {
    "all",
    "ES01",  # extended summary: optional
    "EX01",  # examples: on the main objects only
    "SA01",  # see also: optional
    "RT02",  # named returns ("self : BackpropMLPClassifier") as in scikit-learn
    "GL08",  # no docstring: inherited scikit-learn methods have one
}
numpydoc_validation_exclude = {
    r"^sklearn_backprop\._\w+\.",  # the internal modules
    # Module constants are documented by a #: comment, not a docstring.
    r"^sklearn_backprop\.datasets\.MNIST_[A-Z0-9_]+$",
    # Methods inherited from scikit-learn keep scikit-learn's docstrings.
    r"\.(get_params|set_params|score|get_metadata_routing)$",
    r"\.set_\w+_request$",
    r"\.__init__$",
}
numpydoc_validation_overrides = {
    # "scikit-learn" is spelt in lower case even at the start of a sentence.
    "SA03": [r"MLP(Classifier|Regressor) : scikit-learn's"],
    # load_mnist's _url and _checksums are private hooks for the test suite.
    "PR01": [r"^Load the MNIST database of handwritten digits\."],
}

# -- intersphinx -------------------------------------------------------------

# Only the inventories that can be fetched right now are used, so that a build
# without network access passes with -W (set SKLEARN_BACKPROP_DOCS_OFFLINE=1 to
# skip the probe). Unreachable projects' references render as plain text.
intersphinx_mapping = reachable_intersphinx(
    {
        "python": ("https://docs.python.org/3/", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable/", None),
        "skops": ("https://skops.readthedocs.io/en/stable/", None),
    }
)
intersphinx_timeout = 10

# numpydoc links type words such as "int" or "array-like" into the Python and
# NumPy inventories; without them, keep the words plain (an unresolved :class:
# would show "python:int", an unresolved :term: or :ref: would warn).
for _word, _target in numpydoc.xref.DEFAULT_LINKS.items():
    _project = re.search(r"[`<](\w+):", _target)
    if _project and _project.group(1) not in intersphinx_mapping:
        numpydoc_xref_aliases.setdefault(_word, _word)
if "python" in intersphinx_mapping:
    numpydoc_xref_aliases["path-like"] = ":term:`path-like <python:path-like object>`"

# -- sphinx-gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "ignore_pattern": r"__init__\.py|^_",  # helper modules are no examples
    "within_subsection_order": "sklearn_backprop_docs.ExampleOrder",
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "doc_module": ("sklearn_backprop",),
    "reference_url": {"sklearn_backprop": None},
    "backreferences_dir": "gen_modules/backreferences",
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-backprop {release}"
html_short_title = "sklearn-backprop"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "github_url": "https://github.com/sklearn-backprop/sklearn-backprop",
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {
    "index": [],
    "getting_started": [],
    "sklearn_integration": [],
    "performance": [],
    "changelog": [],
}
html_context = {"default_mode": "light"}
