"""Check what the sdist and the wheel in DIST hold (CI, after python -m build).

    python .ci/check_dist.py dist/

The wheel holds the package (every file of it that the sdist has) and its
.dist-info, with LICENSE under .dist-info/licenses/, and nothing else. The sdist
holds every file of the repository except CI's own (.ci/, .gitignore), plus
what setuptools generates (PKG-INFO, the .egg-info): the package, LICENSE,
the tests, the documentation's sources, the examples and the benchmark. The
repository's files are those git lists (tracked, or new and not ignored).
"""

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

PACKAGE = "sklearn_backprop"
NOT_IN_SDIST = (".ci/", ".gitignore")


def main(dist):
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        sys.exit(f"expected one wheel and one sdist in {dist}: {wheels + sdists}")
    wheel, sdist = wheels[0], sdists[0]
    errors = []

    with tarfile.open(sdist) as archive:
        members = [m.name for m in archive.getmembers() if m.isfile()]
    root = members[0].split("/")[0]
    in_sdist = {name.split("/", 1)[1] for name in members}
    generated = {
        name for name in in_sdist if name == "PKG-INFO" or ".egg-info/" in name
    }
    repository = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    expected = {
        name
        for name in repository
        if Path(name).is_file() and not name.startswith(NOT_IN_SDIST)
    }
    for name in sorted(expected - in_sdist):
        errors.append(f"sdist {sdist.name} lacks {name}")
    for name in sorted(in_sdist - expected - generated):
        errors.append(
            f"sdist {sdist.name} holds {name}, which is not in the repository"
        )

    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    dist_info = next((n.split("/")[0] for n in in_wheel if ".dist-info/" in n), "")
    for name in sorted(in_wheel):
        if not name.startswith((f"{PACKAGE}/", f"{dist_info}/")):
            errors.append(f"wheel {wheel.name} holds {name}, outside the package")
    package_files = {n for n in in_sdist if n.startswith(f"{PACKAGE}/")}
    for name in sorted(package_files - in_wheel):
        errors.append(f"wheel {wheel.name} lacks {name}")
    for name in (f"{dist_info}/licenses/LICENSE", f"{dist_info}/entry_points.txt"):
        if name not in in_wheel:
            errors.append(f"wheel {wheel.name} lacks {name}")

    if errors:
        sys.exit("\n".join(errors))
    print(
        f"{sdist.name}: {len(in_sdist)} files in {root}/ (LICENSE, "
        f"{sum(n.startswith('tests/') for n in in_sdist)} in tests/, "
        f"{sum(n.startswith('docs/') for n in in_sdist)} in docs/, "
        f"{sum(n.startswith('examples/') for n in in_sdist)} in examples/)\n"
        f"{wheel.name}: {len(package_files)} files of {PACKAGE}/ and "
        f"{len(in_wheel) - len(package_files)} of {dist_info}/ (licenses/LICENSE)"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
