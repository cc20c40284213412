"""Check that this environment holds exactly the dependency floors the installed
sklearn-backprop declares (CI's minimum-dependencies job, before its tests).

Every requirement of the package itself (not of an extra) must be of the form
``name>=floor``, and the version installed here must be that floor: the job
then tests what the package claims to support. It also says which Python runs,
against requires-python.
"""

import platform
import sys
from importlib.metadata import metadata, requires, version

from packaging.requirements import Requirement
from packaging.version import Version

DISTRIBUTION = "sklearn-backprop"


def main():
    errors, lines = [], []
    for text in requires(DISTRIBUTION):
        requirement = Requirement(text)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue
        floors = [s.version for s in requirement.specifier if s.operator == ">="]
        if len(floors) != 1:
            errors.append(f"{text}: no single '>=' floor to test")
            continue
        installed, floor = version(requirement.name), floors[0]
        same = Version(installed) == Version(floor)
        lines.append(
            f"  {requirement.name:<14} declared >={floor:<8} installed {installed}"
        )
        if not same:
            errors.append(
                f"{requirement.name} {installed} is installed, not the floor {floor}"
            )
    requires_python = metadata(DISTRIBUTION)["Requires-Python"]
    running = platform.python_version()
    lines.append(f"  {'python':<14} declared {requires_python:<10} running {running}")
    print("Declared floors and the versions under test:\n" + "\n".join(lines))
    if errors:
        sys.exit("\n".join(errors))


if __name__ == "__main__":
    main()
