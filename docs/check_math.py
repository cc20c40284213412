"""Check in headless Chromium, with no network, that the built formulas render.

Opens each built HTML page (by default the derivation page,
``docs/_build/html/user_guide/backprop.html``) from a ``file://`` URL in
headless Chromium with every host name unresolvable and every connection sent
to a proxy that does not exist, so that MathJax can only come from the build
itself. Chromium runs the page's scripts and writes the resulting DOM, which is
checked, and a screenshot of the top of the page, for a person to look at.

The check fails (exit status 1) when, in the rendered page:

* MathJax is loaded from the network (a ``<script>`` with an ``http(s)`` URL);
* no formula was typeset (no ``mjx-container`` element), or some formula element
  of Sphinx (``class="math"``) holds no typeset output, or MathJax reports a TeX
  error (``mjx-merror``);
* raw TeX shows in the text a reader sees (code blocks excepted): a delimiter
  ``\\(``, ``\\)``, ``\\[``, ``\\]`` or a command such as ``\\delta``, as the
  text of a cross-reference to a heading with a formula would show it;
* a font that MathJax's styles point to is missing from the build.

Usage, after ``make -C docs html`` (or ``html-noplot``)::

    python docs/check_math.py [PAGE.html ...] [--all] [--screenshots DIR]

``--all`` adds every other page of the build that has a formula (about 2 s a
page). The screenshots go to ``docs/_build/math-check/`` by default.

Chromium is Debian's ``chromium`` package (``apt-get install chromium``); set
``CHROMIUM`` to use another binary. Exit status 2 means the check could not
run (no Chromium, no page).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

DOCS_DIR = Path(__file__).resolve().parent
HTML_DIR = DOCS_DIR / "_build" / "html"
DEFAULT_PAGE = HTML_DIR / "user_guide" / "backprop.html"
DEFAULT_SCREENSHOTS = DOCS_DIR / "_build" / "math-check"

# Virtual time given to the page's scripts: Chromium fast-forwards idle time,
# so this costs real time only while scripts actually run.
VIRTUAL_TIME_BUDGET_MS = 20_000
TIMEOUT_S = 120

NO_NETWORK = [
    # Every host name fails to resolve...
    "--host-resolver-rules=MAP * ~NOTFOUND",
    # ...and every connection, to an IP address too, goes to a closed port.
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]

# Elements whose text a reader does not see as prose, or that may show
# backslashes on purpose.
_SKIPPED = {"head", "script", "style", "noscript", "template", "pre", "code", "kbd"}
_SKIPPED |= {"samp", "tt", "textarea", "svg"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link"}
_VOID |= {"meta", "param", "source", "track", "wbr"}

_RAW_TEX = re.compile(r"\\[()\[\]]|\\[A-Za-z]{2,}")
_FONT_URL = re.compile(r"""url\(\s*["']?(file://[^"')]+\.(?:woff2?|otf|ttf))""")


class _RenderedPage(HTMLParser):
    """Collect what the check needs from the DOM that Chromium wrote."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, is_math_element)
        self.skip_depth = 0
        self.text = []
        self.math_elements = 0
        self.untypeset = 0  # math elements without MathJax output
        self.open_math = []  # per open math element: whether it has output
        self.containers = 0
        self.errors = 0
        self.network_scripts = []
        self.styles = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and re.match(r"(https?:)?//", attrs.get("src") or ""):
            self.network_scripts.append(attrs["src"])
        if tag == "mjx-container":
            self.containers += 1
            self.open_math = [True for _ in self.open_math]
        elif tag == "mjx-merror":
            self.errors += 1
        if tag in _VOID:
            return
        is_math = "math" in (attrs.get("class") or "").split()
        if is_math:
            self.math_elements += 1
            self.open_math.append(False)
        self.stack.append((tag, is_math))
        if tag in _SKIPPED:
            self.skip_depth += 1
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag in _VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            open_tag, is_math = self.stack.pop()
            if open_tag in _SKIPPED:
                self.skip_depth -= 1
            if is_math and not self.open_math.pop():
                self.untypeset += 1
            if open_tag == tag:
                break
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
        if not self.skip_depth:
            self.text.append(data)


def find_chromium():
    """The Chromium binary: $CHROMIUM, else the first of the usual names."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if path := shutil.which(name):
            return path
    return None


def run_chromium(chromium, url, action, profile):
    """Run headless Chromium on ``url`` with ``action`` flags; return stdout."""
    command = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--hide-scrollbars",
        # Screenshots only once every layer is painted: without it, a formula
        # typeset late may be missing from the picture.
        "--run-all-compositor-stages-before-draw",
        f"--user-data-dir={profile}",
        *NO_NETWORK,
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        *action,
        url,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root without
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"chromium exited with status {result.returncode}:\n{result.stderr[-2000:]}"
        )
    return result.stdout


def check_page(page, chromium, screenshot):
    """Render ``page``; return the list of problems found (empty if none)."""
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="check-math-") as profile:
        dom = run_chromium(chromium, url, ["--dump-dom"], profile)
        run_chromium(
            chromium,
            url,
            [f"--screenshot={screenshot}", "--window-size=1280,1600"],
            profile,
        )
    parsed = _RenderedPage()
    parsed.feed(dom)
    parsed.close()

    problems = []
    if parsed.network_scripts:
        problems.append(
            "scripts are loaded from the network: " + ", ".join(parsed.network_scripts)
        )
    if not parsed.containers:
        problems.append(
            f"no formula was typeset (no mjx-container among {parsed.math_elements} "
            "formula elements): MathJax did not run"
        )
    elif parsed.untypeset:
        problems.append(
            f"{parsed.untypeset} of {parsed.math_elements} formula elements were "
            "not typeset"
        )
    if parsed.errors:
        problems.append(f"MathJax reports {parsed.errors} TeX error(s) (mjx-merror)")
    text = re.sub(r"\s+", " ", "".join(parsed.text))
    raw = []  # (start, end) of the places, matches less than 40 characters apart
    for match in _RAW_TEX.finditer(text):
        if raw and match.start() - raw[-1][1] < 40:
            raw[-1] = (raw[-1][0], match.end())
        else:
            raw.append(match.span())
    raw = [
        text[max(0, start - 40) : min(end, start + 80) + 40]
        + ("[...]" if end > start + 80 else "")
        for start, end in raw
    ]
    if raw:
        shown = "\n".join(f"    ...{snippet}..." for snippet in raw[:8])
        more = f"\n    and {len(raw) - 8} more" if len(raw) > 8 else ""
        problems.append(f"raw TeX in {len(raw)} places of the text:\n{shown}{more}")
    fonts = {
        unquote(urlparse(u).path) for u in _FONT_URL.findall("".join(parsed.styles))
    }
    missing = sorted(f for f in fonts if not Path(f).is_file())
    if missing:
        problems.append("MathJax fonts missing from the build: " + ", ".join(missing))
    if not screenshot.is_file() or screenshot.stat().st_size < 1000:
        problems.append(f"no screenshot was written to {screenshot}")
    summary = (
        f"{parsed.containers} typeset formulas, {len(fonts)} bundled fonts referenced"
    )
    return problems, summary


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "pages",
        nargs="*",
        type=Path,
        default=[DEFAULT_PAGE],
        help="built HTML pages (default: the derivation page, %(default)s)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"also check every other page of {HTML_DIR} that has a formula",
    )
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=DEFAULT_SCREENSHOTS,
        help="folder of the PNG screenshots (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    chromium = find_chromium()
    if chromium is None:
        print(
            "check_math: Chromium not found; install Debian's chromium package "
            "(apt-get install chromium) or set CHROMIUM",
            file=sys.stderr,
        )
        return 2
    pages = list(args.pages)
    if args.all:
        seen = {p.resolve() for p in pages}
        pages += [
            p
            for p in sorted(HTML_DIR.rglob("*.html"))
            if p.resolve() not in seen
            and 'class="math' in p.read_text(encoding="utf-8", errors="replace")
        ]
    missing = [str(p) for p in pages if not p.is_file()]
    if missing:
        print(
            f"check_math: no such page: {', '.join(missing)} "
            "(build the docs first: make -C docs html)",
            file=sys.stderr,
        )
        return 2
    args.screenshots.mkdir(parents=True, exist_ok=True)

    failed = 0
    for page in pages:
        name = f"{page.resolve().parent.name}-{page.stem}.png"
        screenshot = (args.screenshots / name).resolve()
        start = time.perf_counter()
        problems, summary = check_page(page, chromium, screenshot)
        seconds = time.perf_counter() - start
        if problems:
            failed += 1
            print(f"FAIL {page} ({seconds:.1f} s; screenshot {screenshot})")
            for problem in problems:
                print(f"  - {problem}")
        else:
            print(f"ok   {page}: {summary} ({seconds:.1f} s; screenshot {screenshot})")
    if failed:
        print(
            f"check_math: formulas do not render offline in {failed} of "
            f"{len(pages)} page(s)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
