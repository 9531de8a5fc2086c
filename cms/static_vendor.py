"""Vendor the browser libraries the admin pages use, from the npm registry, as static files.

Operators run Sightline on closed networks, so pages load no script from a CDN: `make static`
(a prerequisite of `make run` and `make test`, and a step of the images' build) runs this with
the standard library only (a fresh machine has Python, no node or npm). Each package is pinned
in cms/static_vendor.json by version and the registry's ``integrity`` (sha512, Subresource
Integrity form); its tarball is cached under ~/.cache/sightline/npm/ and only the listed files
are extracted into a git-ignored folder under cms/static/vendor/, where Django's static files
(and collectstatic) find them. A second run with the files in place does nothing.

    python -m cms.static_vendor             (or: python cms/static_vendor.py)
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = Path(__file__).with_name("static_vendor.json")
CACHE_DIR = Path.home() / ".cache" / "sightline" / "npm"
# Written last into the destination: its content says which pinned tarball the files are from.
STAMP = ".vendored"
FETCH_TIMEOUT_S = 60


class VendorError(Exception):
    """A package could not be vendored; the message says what to do."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    tarball: str
    integrity: str
    files: dict[str, str]  # path inside the tarball -> file name in dest
    dest: Path

    @property
    def cached_name(self) -> str:
        return f"{self.name}-{self.version}.tgz"


def load_manifest(path: Path = MANIFEST, root: Path = ROOT) -> list[Package]:
    data = json.loads(path.read_text())
    return [
        Package(
            name=name,
            version=entry["version"],
            tarball=entry["tarball"],
            integrity=entry["integrity"],
            files=dict(entry["files"]),
            dest=root / entry["dest"],
        )
        for name, entry in data.items()
    ]


def integrity_of(data: bytes) -> str:
    """The npm ``integrity`` string (sha512, base64) of a tarball's bytes."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def is_current(package: Package) -> bool:
    """Whether dest already holds this pinned tarball's files."""
    stamp = package.dest / STAMP
    if not stamp.is_file() or stamp.read_text().strip() != package.integrity:
        return False
    return all((package.dest / name).is_file() for name in package.files.values())


def tarball_bytes(package: Package, cache_dir: Path = CACHE_DIR) -> bytes:
    """The package's verified tarball: from the cache, else from the registry (then cached).

    A cached or downloaded tarball whose integrity differs from the pin is refused."""
    cached = cache_dir / package.cached_name
    if cached.is_file():
        data = cached.read_bytes()
        _verify(package, data, f"cached tarball {cached}")
        return data
    try:
        # The URL is the manifest's own https registry address, not user input.
        with urllib.request.urlopen(package.tarball, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310
            data = response.read()
    except OSError as exc:
        raise VendorError(
            f"cannot fetch {package.name} {package.version} from the npm registry: {exc}; "
            f"on a machine without access, copy {package.tarball} to {cached}"
        ) from exc
    _verify(package, data, package.tarball)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(cached)
    return data


def _verify(package: Package, data: bytes, source: str) -> None:
    found = integrity_of(data)
    if found != package.integrity:
        raise VendorError(
            f"{package.name} {package.version}: {source} has integrity {found}, "
            f"not the pinned {package.integrity}; refusing it (delete it to fetch again)"
        )


def extract(package: Package, data: bytes) -> None:
    """Write the listed files of a verified tarball's bytes into dest, then the stamp."""
    package.dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member_name, name in package.files.items():
            try:
                member = archive.getmember(member_name)
            except KeyError as exc:
                raise VendorError(
                    f"{package.name} {package.version}: no {member_name} in the tarball"
                ) from exc
            source = archive.extractfile(member)
            if source is None:
                raise VendorError(f"{package.name}: {member_name} is not a file")
            # Only the named members are read, by name: no path from the archive is trusted.
            (package.dest / name).write_bytes(source.read())
    (package.dest / STAMP).write_text(package.integrity + "\n")


def vendor(package: Package, cache_dir: Path = CACHE_DIR) -> bool:
    """Make dest hold the package's files; returns False when they already did."""
    if is_current(package):
        return False
    extract(package, tarball_bytes(package, cache_dir))
    return True


def main(argv: list[str] | None = None) -> int:
    try:
        for package in load_manifest():
            if vendor(package):
                print(f"vendored {package.name} {package.version} into {package.dest}")  # noqa: T201
    except VendorError as exc:
        print(f"static_vendor: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
