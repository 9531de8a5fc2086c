"""`make static`: the pinned npm tarball is verified before a file of it is used, cached, and
only the listed files are extracted (cms/static_vendor.py)."""

from __future__ import annotations

import dataclasses
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from cms import static_vendor
from cms.static_vendor import CACHE_DIR, Package, VendorError, integrity_of, load_manifest, vendor


def uplot(tmp_path: Path) -> Package:
    """The manifest's uPlot, extracted into a temp dir instead of cms/static/vendor."""
    (package,) = [p for p in load_manifest() if p.name == "uplot"]
    return dataclasses.replace(package, dest=tmp_path / "static" / "vendor" / "uplot")


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


FAKE = {
    "package/dist/uPlot.iife.min.js": b"var uPlot = function () {};",
    "package/dist/uPlot.min.css": b".uplot {}",
    "package/LICENSE": b"MIT",
    "package/../../escape.js": b"never extracted",
}


def test_the_manifest_pins_uplot_by_version_and_sha512():
    (package,) = load_manifest()
    assert package.name == "uplot"
    assert package.tarball == f"https://registry.npmjs.org/uplot/-/uplot-{package.version}.tgz"
    assert package.integrity.startswith("sha512-")
    assert set(package.files.values()) == {"uPlot.iife.min.js", "uPlot.min.css", "LICENSE"}


def test_a_tarball_whose_integrity_differs_from_the_pin_is_refused(tmp_path):
    package = uplot(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / package.cached_name).write_bytes(tarball(FAKE))
    with pytest.raises(VendorError, match=r"not the pinned sha512-.*refusing it"):
        vendor(package, cache)
    assert not package.dest.exists()


def test_a_verified_tarball_yields_only_the_listed_files_and_a_second_run_does_nothing(tmp_path):
    data = tarball(FAKE)
    package = dataclasses.replace(uplot(tmp_path), integrity=integrity_of(data))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / package.cached_name).write_bytes(data)
    assert vendor(package, cache) is True
    assert sorted(p.name for p in package.dest.iterdir()) == [
        ".vendored",
        "LICENSE",
        "uPlot.iife.min.js",
        "uPlot.min.css",
    ]
    assert (package.dest / "uPlot.min.css").read_bytes() == b".uplot {}"
    assert not (tmp_path / "escape.js").exists()
    (cache / package.cached_name).unlink()  # not needed any more: the files are in place
    assert vendor(package, cache) is False


def test_offline_and_uncached_says_where_to_put_the_tarball(tmp_path):
    package = dataclasses.replace(
        uplot(tmp_path), tarball="http://127.0.0.1:1/uplot/-/uplot-1.6.32.tgz"
    )
    with pytest.raises(VendorError) as failure:
        vendor(package, tmp_path / "cache")
    message = str(failure.value)
    assert message.startswith(f"cannot fetch uplot {package.version} from the npm registry: ")
    assert f"copy {package.tarball} to {tmp_path / 'cache' / package.cached_name}" in message


def test_the_real_tarball_extracts_uplot(tmp_path):
    package = uplot(tmp_path)
    cached = CACHE_DIR / package.cached_name
    if not cached.is_file():
        pytest.skip(f"no cached {cached}: `make static` fetches it")
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(cached, cache / package.cached_name)
    assert vendor(package, cache) is True
    script = (package.dest / "uPlot.iife.min.js").read_text()
    assert "uPlot" in script and len(script) > 10_000
    assert "MIT" in (package.dest / "LICENSE").read_text()
    assert static_vendor.is_current(package)


def test_collectstatic_and_the_development_server_find_the_vendored_files(tmp_path, settings):
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    try:
        for package in load_manifest():
            vendor(package)
    except VendorError as exc:
        pytest.skip(f"uPlot is not vendored and cannot be: {exc}")
    assert finders.find("vendor/uplot/uPlot.iife.min.js")  # what DEBUG's static handler serves
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)
    collected = settings.STATIC_ROOT / "vendor" / "uplot"
    assert sorted(p.name for p in collected.iterdir()) == [
        "LICENSE",
        "uPlot.iife.min.js",
        "uPlot.min.css",
    ]  # the stamp stays behind (collectstatic ignores dot files)
