"""Field validators shared by the models, the admin forms and the API serializers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from streams.errors import UnsafeURLError
from streams.urls import validate_stream_url


def validate_camera_url(url: str) -> None:
    """A camera URL the stream readers will open; the rules live in streams.urls."""
    try:
        validate_stream_url(
            url,
            allow_files=settings.SIGHTLINE_ALLOW_FILE_SOURCES,
            allowed_networks=settings.SIGHTLINE_CAMERA_ALLOWED_NETWORKS,
            denied_networks=settings.SIGHTLINE_CAMERA_DENIED_NETWORKS,
        )
    except UnsafeURLError as exc:
        raise ValidationError(str(exc)) from None
    except ValueError as exc:  # urllib's own parse errors (a broken IPv6 literal, a bad port)
        raise ValidationError(f"Not a valid URL: {exc}.") from None


def validate_unit_interval(value: float | None) -> None:
    """Thresholds live in (0, 1] (NaN fails every comparison, so it is refused too)."""
    if value is None or not 0 < value <= 1:
        raise ValidationError("Must be greater than 0 and at most 1.")


@deconstructible
class SecondsValidator:
    """Seconds in (0, limit_s] (NaN fails every comparison, so it is refused too)."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s

    def __call__(self, value: float | None) -> None:
        if value is None or not 0 < value <= self.limit_s:
            raise ValidationError(f"Must be greater than 0 and at most {self.limit_s:g} seconds.")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecondsValidator) and other.limit_s == self.limit_s

    def __hash__(self) -> int:
        return hash(self.limit_s)


def validate_class_filter(value: Any) -> None:
    """An optional list of non-negative class ids."""
    if value in (None, []):
        return
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) and item >= 0 for item in value
    ):
        raise ValidationError("A list of class ids (non-negative integers), e.g. [0, 2].")


# --- weights uploads: cheap structural checks, nothing is unpickled or run here ------------

TORCH_ZIP_HINT = "torch.save() writes a zip archive with a data.pkl"


def validate_weights_file(value: Any) -> None:
    """Refuse an uploaded weights file whose bytes are not what its extension says.

    Only new uploads are read (a stored file was checked when it came). The checks read
    a zip's directory or parse an ONNX protobuf: they never unpickle (a pickle runs code),
    and whether the model loads is checked later, off the web process
    (cms.model_validation).
    """
    if not value or getattr(value, "_committed", True):
        return
    suffix = str(value.name).rsplit(".", 1)[-1].lower()
    checks = {"pt": _check_torch_archive, "torchscript": _check_torch_archive, "onnx": _check_onnx}
    check = checks.get(suffix)
    if check is None:
        return  # FileExtensionValidator refuses it
    upload = value.file
    upload.seek(0)
    try:
        problem = check(upload, suffix)
    finally:
        upload.seek(0)
    if problem:
        raise ValidationError(problem, code="invalid_weights")


def _check_torch_archive(upload: Any, suffix: str) -> str:
    import zipfile

    kind = "PyTorch weights file" if suffix == "pt" else "TorchScript file"
    head = upload.read(2)
    upload.seek(0)
    if head[:1] == b"\x80" and suffix == "pt":
        return (
            f"This is a legacy (non-zip) torch pickle, which is not accepted; "
            f"{TORCH_ZIP_HINT} (torch 1.6 or later): load and save it again."
        )
    try:
        with zipfile.ZipFile(upload) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if not pickles:
                return f"Not a {kind}: the zip archive has no data.pkl ({TORCH_ZIP_HINT})."
            with archive.open(pickles[0]) as data:
                if data.read(1) != b"\x80":  # every pickle protocol >= 2 starts with PROTO
                    return f"Not a {kind}: its data.pkl is not a pickle."
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        return f"Not a {kind}: not a zip archive ({TORCH_ZIP_HINT}): {exc}."
    except NotImplementedError as exc:  # a compression method zipfile cannot read
        return f"Not a {kind}: {exc}."
    return ""


def _check_onnx(upload: Any, suffix: str) -> str:
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]  # no stubs
    from onnx import ModelProto

    model = ModelProto()
    try:
        model.ParseFromString(upload.read())
    except (DecodeError, ValueError, RuntimeError) as exc:
        return f"Not an ONNX model: it does not parse as an ONNX ModelProto ({exc})."
    # Random bytes can parse as a protobuf of unknown fields: a model has all of these.
    if model.ir_version <= 0 or not model.opset_import or not model.graph.node:
        return "Not an ONNX model: no IR version, opset or graph nodes."
    return ""
