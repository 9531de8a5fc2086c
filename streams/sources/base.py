"""What every frame source offers the reader."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class FrameSource(Protocol):
    """An opened source, used from the reader's thread only (like cv2.VideoCapture).

    grab() waits for the source's next frame (bounded by its read timeout, or by its
    own pace for files and snapshots) and returns its index for files, None for live
    sources. retrieve() decodes the frame grabbed last, to BGR; None means the frame
    is dropped (stale or undecodable). Frames not due are grabbed and never retrieved,
    so a source makes retrieve() carry as much of the work as it can. Both raise
    SourceConnectionError when the source is lost or ended, Interrupted on stop().
    """

    def grab(self) -> int | None: ...

    def retrieve(self) -> np.ndarray | None: ...

    def close(self) -> None: ...
