"""Requirements the image's Python needs that the host's pip did not download.

`pip download --python-version` checks wheel tags and Requires-Python for the target, but it
evaluates environment markers for the interpreter it runs on: a host with Python 3.11.7 skips
``async-timeout; python_full_version < "3.11.3"`` (redis), which Debian bookworm's 3.11.2
needs. This prints every requirement of the wheels in DIR whose marker holds for the image's
Python and not for the host's, one a line, for a second `pip download` (standard library and
pip's own vendored `packaging` only: it runs with the host's Python, outside any venv).

    python docker/wheelhouse_markers.py DIR [IMAGE_PYTHON_VERSION (default 3.11.2)]
"""

from __future__ import annotations

import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

try:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
except ImportError:  # the host's pip always has it
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging.requirements import Requirement


def requires_dist(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = HeaderParser().parsestr(archive.read(name).decode("utf-8", "replace"))
    return metadata.get_all("Requires-Dist") or []


def missing_for(directory: Path, version: str) -> list[str]:
    host = default_environment()
    target = {**host, "python_full_version": version, "python_version": version.rsplit(".", 1)[0]}
    found = set()
    for wheel in sorted(directory.glob("*.whl")):
        for line in requires_dist(wheel):
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None:
                continue
            if marker.evaluate({**target, "extra": ""}) and not marker.evaluate(
                {**host, "extra": ""}
            ):
                requirement.marker = None
                found.add(str(requirement))
    return sorted(found)


if __name__ == "__main__":
    version = sys.argv[2] if len(sys.argv) > 2 else "3.11.2"
    sys.stdout.writelines(f"{line}\n" for line in missing_for(Path(sys.argv[1]), version))
