"""A wall-clock stamp drawn into test video frames, so a test can measure true frame age.

The source (the RTSP test server, the MJPEG server) writes the time it made a frame
into the frame's top rows as black and white blocks; the consumer reads the blocks
back from the decoded image. Latency measured this way includes everything between
the camera and the consumer (encoder, network, FFmpeg's buffers, the reader), which a
timestamp taken by the reader cannot see.

Pure Python with no dependencies: the RTSP server runs under Debian's own python3,
which has no numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

MARKER = (1, 0, 1, 0)
VALUE_BITS = 36  # milliseconds modulo 2**36 (about 795 days)
BLOCKS = len(MARKER) + VALUE_BITS
ROWS = 16  # one macroblock high, so the encoder keeps the blocks sharp
BLACK, WHITE = 16, 235  # video-range luma


def block_width(width: int) -> int:
    """Pixels per bit block for a frame `width` pixels wide."""
    if width < BLOCKS * 4:
        raise ValueError(f"frames must be at least {BLOCKS * 4} pixels wide to carry a stamp")
    return width // BLOCKS


def stamp_bits(millis: int) -> list[int]:
    """Marker then the value's bits, most significant first."""
    value = millis % (1 << VALUE_BITS)
    return [*MARKER, *((value >> (VALUE_BITS - 1 - i)) & 1 for i in range(VALUE_BITS))]


def stamp_row(width: int, millis: int) -> bytes:
    """One row of luma carrying `millis`; repeat it for ROWS rows at the top of a frame."""
    bw = block_width(width)
    row = b"".join((bytes([WHITE]) if bit else bytes([BLACK])) * bw for bit in stamp_bits(millis))
    return row + bytes([BLACK]) * (width - len(row))


def read_stamp(samples: Sequence[float], now_millis: int) -> int | None:
    """The stamped wall-clock time in ms, from the luma at each block's centre.

    `now_millis` resolves the modulo: the answer is the time closest to now. None when
    the marker does not match (no stamp, or a frame the decoder mangled).
    """
    if len(samples) != BLOCKS:
        raise ValueError(f"expected {BLOCKS} samples, got {len(samples)}")
    bits = [1 if s > (BLACK + WHITE) / 2 else 0 for s in samples]
    if tuple(bits[: len(MARKER)]) != MARKER:
        return None
    value = 0
    for bit in bits[len(MARKER) :]:
        value = (value << 1) | bit
    period = 1 << VALUE_BITS
    base = now_millis - now_millis % period
    candidates = (base - period + value, base + value, base + period + value)
    return min(candidates, key=lambda c: abs(c - now_millis))


def sample_points(width: int) -> list[tuple[int, int]]:
    """(row, column) of each block's centre, for reading a stamp from a decoded image."""
    bw = block_width(width)
    return [(ROWS // 2, i * bw + bw // 2) for i in range(BLOCKS)]
