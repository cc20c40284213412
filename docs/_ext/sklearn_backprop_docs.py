"""Sphinx helpers for the sklearn-backprop documentation.

* :func:`reachable_intersphinx`: keep only the intersphinx inventories that can be
  fetched now, so that an offline build (or one with a documentation site down)
  passes with warnings as errors; references to those projects then render as
  plain text, which is no warning since ``nitpicky`` is off.
* ``setup`` also demotes intersphinx's "failed to reach any of the inventories"
  warning to an info message, in case a site fails between the probe and the
  fetch.
* :class:`ExampleOrder`: the order of the gallery examples.
* The ``sklearn-backprop-cli-help`` directive: the ``--help`` text of the main
  job, taken from its argument parser so that it never goes stale.
* Names ending in ``_`` inside the type of a parameter or attribute, as in
  ``ndarray of shape (n_features_in_,)``, are quoted before numpydoc renders
  the type as reST, where ``n_features_in_`` would be a hyperlink reference to
  an unknown target (an error). A docstring that quotes them itself, as
  scikit-learn's do (`` (`n_features_in_`,) ``), is left unchanged.
* The docstrings that the estimator inherits from scikit-learn use ``:ref:`` and
  ``:term:`` roles into scikit-learn's user guide and glossary, which warn when
  unresolved: without scikit-learn's inventory they are reduced to their text.
* The performance page shows the method of the benchmark, the part of
  ``../benchmarks/README.md`` between its ``docs:start`` and ``docs:end``
  comments, in place of its placeholder when that file exists (parsed as
  Markdown when MyST is installed, shown verbatim otherwise). The rest of that
  README (how to run it, the targets and their verdicts) is for developers.
* A build that runs the gallery stops at once, with a message saying how to
  provide MNIST, when MNIST cannot be loaded: the examples train on it, and
  their text describes results on MNIST.
"""

import argparse
import logging
import os
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from docutils import nodes
from sphinx.errors import SphinxError
from sphinx.util import logging as sphinx_logging
from sphinx.util.docutils import SphinxDirective

OFFLINE_ENV_VAR = "SKLEARN_BACKPROP_DOCS_OFFLINE"

DOCS_DIR = Path(__file__).resolve().parent.parent
BENCHMARKS_README = DOCS_DIR.parent / "benchmarks" / "README.md"
PERFORMANCE_DOCNAME = "performance"


# ---------------------------------------------------------------------------
# intersphinx


def _inventory_reachable(url, timeout):
    """Whether ``url``'s ``objects.inv`` answers within ``timeout`` seconds."""
    request = urllib.request.Request(
        url.rstrip("/") + "/objects.inv",
        method="HEAD",
        headers={"User-Agent": "sklearn-backprop-docs"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 400
    except Exception:  # any failure means "not reachable"
        return False


def reachable_intersphinx(mapping, timeout=3.0):
    """The part of an ``intersphinx_mapping`` whose inventories can be fetched.

    Empty when the environment variable ``SKLEARN_BACKPROP_DOCS_OFFLINE`` is
    set to anything but ``0`` or the empty string; otherwise every inventory is
    probed concurrently, taking at most ``timeout`` seconds in all.
    """
    if os.environ.get(OFFLINE_ENV_VAR, "") not in ("", "0"):
        print(f"intersphinx: {OFFLINE_ENV_VAR} is set, no inventories are loaded")
        return {}
    with ThreadPoolExecutor(max_workers=len(mapping) or 1) as pool:
        alive = dict(
            zip(
                mapping,
                pool.map(
                    lambda item: _inventory_reachable(item[0], timeout),
                    mapping.values(),
                ),
            )
        )
    missing = sorted(name for name, ok in alive.items() if not ok)
    if missing:
        print(
            "intersphinx: no network access to the inventories of "
            f"{', '.join(missing)}; references to them stay unlinked"
        )
    return {name: target for name, target in mapping.items() if alive[name]}


class _DemoteInventoryFailure(logging.Filter):
    """Turn intersphinx's failed-fetch warning into an info message."""

    def filter(self, record):
        if record.levelno == logging.WARNING and "failed to reach any of the " in str(
            record.msg
        ):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


# ---------------------------------------------------------------------------
# numpydoc types

# "name : type" lines of numpydoc sections (four-space indented in methods).
_TYPED_LINE = re.compile(r"^(\s*\*{0,2}[\w, *]+ : )(.*)$")
# A bare identifier ending in "_" followed by "," or ")", not already quoted.
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=[,)])")


def _quote_trailing_underscores(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _TYPED_LINE.match(line)
        if match and "shape (" in match.group(2):
            typ = _TRAILING_UNDERSCORE.sub(r"`\1`", match.group(2))
            lines[i] = match.group(1) + typ


# :ref:`text <label>`, :ref:`label`, :term:`text <term>` or :term:`term`
_STD_ROLE = re.compile(r":(?:ref|term):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _unlink_sklearn_roles(app, what, name, obj, options, lines):
    if "sklearn" in app.config.intersphinx_mapping:
        return
    module = getattr(obj, "__module__", None) or ""
    if module == "sklearn" or module.startswith("sklearn."):
        for i, line in enumerate(lines):
            lines[i] = _STD_ROLE.sub(lambda m: m.group(1) or m.group(2), line)


# ---------------------------------------------------------------------------
# Gallery order


class ExampleOrder:
    """Sort key of the gallery: the notebook reproduction first, then the rest.

    Examples whose file name contains an earlier word of :attr:`PRIORITY` come
    first; ties and the others are sorted by file name.
    """

    PRIORITY = ("notebook", "mnist", "grid", "pipeline", "persist", "compar")

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = str(filename)
        for rank, word in enumerate(self.PRIORITY):
            if word in name:
                return (rank, name)
        return (len(self.PRIORITY), name)

    def __repr__(self):
        return f"<{type(self).__name__}>"


# ---------------------------------------------------------------------------
# The main job's --help


class CLIHelp(SphinxDirective):
    """Insert ``sklearn-backprop --help`` as a literal block."""

    has_content = False

    def run(self):
        from sklearn_backprop._cli import build_parser

        parser = build_parser()
        parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=79)
        text = parser.format_help().rstrip()
        self.env.note_dependency(str(Path(build_parser.__code__.co_filename).resolve()))
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


# ---------------------------------------------------------------------------
# Performance page


def _myst_available():
    try:
        import myst_parser  # noqa: F401
    except ImportError:
        return False
    return True


_README_PART = re.compile(
    r"^<!-- docs:start -->$\n(.*?)^<!-- docs:end -->$", re.MULTILINE | re.DOTALL
)
_MD_HEADING = re.compile(r"^(#{1,6}) ", re.MULTILINE)
_README_PLACEHOLDER = re.compile(
    r"^\.\. benchmarks-readme-start$.*?^\.\. benchmarks-readme-end$",
    re.MULTILINE | re.DOTALL,
)


def _insert_benchmarks_readme(app, docname, source):
    """Put the benchmark's method in place of the performance page's placeholder."""
    if docname != PERFORMANCE_DOCNAME or not BENCHMARKS_README.is_file():
        return
    relative = os.path.relpath(BENCHMARKS_README, DOCS_DIR).replace(os.sep, "/")
    text = BENCHMARKS_README.read_text(encoding="utf-8")
    part = _README_PART.search(text)
    if part is None:
        raise SphinxError(
            f"{relative} has no <!-- docs:start --> and <!-- docs:end --> lines "
            "around the part that the performance page shows"
        )
    text = part.group(1).strip() + "\n"
    # Its headings are subsections of the README's "## Method"; in the page they
    # are subsections of the section holding the placeholder, which MyST wants
    # to start at "#".
    levels = [len(m.group(1)) for m in _MD_HEADING.finditer(text)]
    if levels and min(levels) > 1:
        shift = min(levels) - 1
        text = _MD_HEADING.sub(lambda m: m.group(1)[shift:] + " ", text)
    # Links in the README are relative to benchmarks/; Sphinx resolves them from
    # the including page, so include a copy with the links rewritten.
    readme_dir = os.path.dirname(relative)
    text = re.sub(r"\]\((?!https?:|/|#)", f"]({readme_dir}/", text)
    generated = Path(DOCS_DIR) / "_generated" / "benchmarks-readme.md"
    generated.parent.mkdir(exist_ok=True)
    if not generated.is_file() or generated.read_text(encoding="utf-8") != text:
        generated.write_text(text, encoding="utf-8")
    if "myst_parser" in app.extensions:
        directive = (
            ".. include:: _generated/benchmarks-readme.md\n"
            "   :parser: myst_parser.sphinx_\n"
        )
    else:
        directive = (
            f"From ``{relative}``:\n\n"
            ".. literalinclude:: _generated/benchmarks-readme.md\n"
            "   :language: markdown\n"
        )
    text, count = _README_PLACEHOLDER.subn(lambda m: directive, source[0])
    source[0] = text if count else f"{source[0]}\n\n{directive}"


def _performance_always_outdated(app, env, added, changed, removed):
    """Re-read the performance page on every build: the README may have appeared."""
    return [PERFORMANCE_DOCNAME] if PERFORMANCE_DOCNAME in env.found_docs else []


# ---------------------------------------------------------------------------
# Gallery data


def print_problem_and_exit(problem):
    """Print why the gallery cannot run, without a traceback, and exit with 1:
    what ``make -C docs html`` and ``python -m sphinx docs ...`` both do."""
    import sys

    print(f"\nError: {problem}\n", file=sys.stderr, flush=True)
    raise SystemExit(1)


def mnist_problem():
    """Why the gallery examples cannot load MNIST, with the remedies; None if they can.

    ``load_mnist`` looks where the examples will: its cache,
    ``SKLEARN_BACKPROP_MNIST``, Keras's copy, then a download (cached for the
    examples and later builds).
    """
    from sklearn_backprop.datasets import MNIST_ENV_VAR, MNIST_URL, load_mnist

    try:
        load_mnist()
    except (OSError, ValueError) as exc:
        return (
            "the gallery examples train on MNIST, which could not be loaded:\n"
            f"    {exc}\n"
            f"Point {MNIST_ENV_VAR} at a local copy by its absolute path (an "
            "mnist.npz, as CI does with shared/data/mnist.npz beside the "
            "checkout):\n"
            f"    {MNIST_ENV_VAR}=/path/to/mnist.npz make -C docs html\n"
            "or build once with network access: load_mnist() then downloads "
            f"{MNIST_URL} (11 MB) into scikit-learn's data folder "
            "(~/scikit_learn_data/mnist) and later builds read it from there.\n"
            "To build the pages without running the examples: make -C docs html-noplot"
        )
    return None


def _require_mnist(app):
    """Fail now, clearly, if the gallery is to be run and MNIST cannot be loaded.

    Runs after sphinx-gallery has read ``plot_gallery`` and before it runs the
    examples (``builder-inited``). It prints the problem as the Makefile's
    check does and exits: an exception raised here, even a ``SphinxError``,
    makes Sphinx 9 print a crash report that asks to report a bug to Sphinx.
    """
    if not getattr(app.config, "sphinx_gallery_conf", {}).get("plot_gallery"):
        return
    problem = mnist_problem()
    if problem:
        print_problem_and_exit(problem)
    sphinx_logging.getLogger(__name__).info(
        "MNIST is available for the gallery examples"
    )


# ---------------------------------------------------------------------------


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")  # for autodoc-process-docstring
    logging.getLogger("sphinx.sphinx.ext.intersphinx").addFilter(
        _DemoteInventoryFailure()
    )
    if _myst_available():
        app.setup_extension("myst_parser")
    # Before numpydoc (priority 500) turns the sections into reST.
    app.connect("autodoc-process-docstring", _quote_trailing_underscores, priority=400)
    app.connect("autodoc-process-docstring", _unlink_sklearn_roles, priority=400)
    app.add_directive("sklearn-backprop-cli-help", CLIHelp)
    app.connect("source-read", _insert_benchmarks_readme)
    app.connect("env-get-outdated", _performance_always_outdated)
    # After sphinx-gallery reads plot_gallery (priority 10), before it runs the
    # examples (500).
    app.connect("builder-inited", _require_mnist, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    # `python _ext/sklearn_backprop_docs.py`: the Makefile's check before a
    # build that runs the gallery, which prints the problem without Sphinx's
    # crash report around it.
    import sys

    sys.path.insert(0, str(DOCS_DIR.parent))
    problem = mnist_problem()
    if problem:
        print_problem_and_exit(problem)
