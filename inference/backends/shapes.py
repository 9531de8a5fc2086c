"""The input shape ultralytics' rect inference gives a frame: what an export must be built at.

PyTorch predicts a 640x480 frame at imgsz 640 on a 480x640 tensor (the frame scaled to fit
imgsz, then padded only up to the next multiple of the stride: `LetterBox(auto=True)`),
while a default export is a fixed 640x640 square. An export at this shape does the same
pixels as torch, no more.
"""

from __future__ import annotations

import math

DEFAULT_STRIDE = 32
"""The largest stride of YOLO detection models (P6 models have 64: pass their own)."""


def letterbox_shape(
    frame_hw: tuple[int, int], imgsz: int | tuple[int, int], stride: int = DEFAULT_STRIDE
) -> tuple[int, int]:
    """(height, width) of the tensor ultralytics' predictor feeds a model for a `frame_hw` frame.

    The same arithmetic as ultralytics' `check_imgsz` (imgsz rounded up to the stride) and
    `LetterBox(auto=True, scaleup=True)`: scale the frame to fit imgsz keeping its aspect, then
    pad each side to a multiple of `stride`. A 640x480 frame (hw (480, 640)) at imgsz 640 is
    (480, 640); a 320x240 one at imgsz 320 is (256, 320).
    """
    height, width = frame_hw
    if height <= 0 or width <= 0:
        raise ValueError(f"a frame must have a positive size, got {frame_hw}")
    if stride <= 0:
        raise ValueError(f"stride must be positive, got {stride}")
    size_h, size_w = (imgsz, imgsz) if isinstance(imgsz, int) else imgsz
    if size_h <= 0 or size_w <= 0:
        raise ValueError(f"imgsz must be positive, got {imgsz}")
    size_h, size_w = (max(math.ceil(s / stride) * stride, stride) for s in (size_h, size_w))
    ratio = min(size_h / height, size_w / width)
    # Python's round(), as ultralytics' LetterBox uses (halves to even).
    scaled_w, scaled_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
    return scaled_h + (size_h - scaled_h) % stride, scaled_w + (size_w - scaled_w) % stride
