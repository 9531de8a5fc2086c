"""One thread per process runs every CPU model load and forward pass.

Why one: PyTorch's CPU build parallelises with GNU OpenMP, and every thread that runs a
torch operator keeps an OpenMP team of its own for as long as it lives. Once a process has
more OpenMP threads than cores, libgomp stops letting idle team members spin between
parallel regions (its "throttled" spin count) and they sleep instead; a forward pass is many
small regions, so each then pays a wake-up. Measured with yolov8n at 640 on 2 cores and 2
torch threads: 23-25 ms per frame when one thread runs torch, 35-37 ms as soon as a second,
still living thread has run torch too (a camera thread that loaded the model, a batcher
thread that infers). That was the farm's single-camera shortfall in docs/benchmarks.md.

So detectors and classifiers on the CPU call `run` for everything that touches torch or
ultralytics: one team, whatever the number of models, cameras and batchers. On CPU two
models' passes could not run faster side by side anyway: each already uses every core.
On CUDA, calls run on their caller's thread (the GPU does the work, and models overlap).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

THREAD_NAME = "sightline-torch"

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_thread_id: int | None = None


def run(function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run `function(*args, **kwargs)` on the process's torch thread and return its result
    (or raise its exception). Called on the torch thread itself, it runs at once."""
    if threading.get_ident() == _thread_id:
        return function(*args, **kwargs)
    return _torch_executor().submit(function, *args, **kwargs).result()


def run_for(device: str, function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """`run` for a model on `device` "cpu"; on a GPU ("cuda..."), on the caller's thread."""
    if device.startswith("cuda"):
        return function(*args, **kwargs)
    return run(function, *args, **kwargs)


def timed(function: Callable[..., object], *args: object, **kwargs: object) -> float:
    """Milliseconds `function(*args, **kwargs)` takes on the torch thread, counted there: the
    wait behind other models' passes is not in it."""

    def measure() -> float:
        started = time.perf_counter()
        function(*args, **kwargs)
        return (time.perf_counter() - started) * 1000

    return run(measure)


@contextmanager
def threads(count: int | None) -> Iterator[None]:
    """torch's CPU thread count set to `count` for the calls inside, then put back (None:
    left as it is). For the torch thread: the count is process-wide, and only the torch
    thread runs torch, so nothing else sees the change."""
    if count is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    if previous != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if previous != count:
            torch.set_num_threads(previous)


def on_torch_thread() -> bool:
    """Whether the calling thread is the torch thread."""
    return threading.get_ident() == _thread_id


def _torch_executor() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            # The worker sets torch's thread count on its main thread; OpenMP keeps that per
            # thread, so the torch thread takes the count of the thread that creates it.
            import torch

            threads = torch.get_num_threads()
            _executor = ThreadPoolExecutor(
                max_workers=1,
                thread_name_prefix=THREAD_NAME,
                initializer=_start,
                initargs=(threads,),
            )
        return _executor


def _forget_after_fork() -> None:
    """A forked child has no torch thread, only the parent's executor object: start afresh."""
    global _executor, _thread_id, _lock
    _executor, _thread_id, _lock = None, None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def _start(threads: int) -> None:
    global _thread_id
    _thread_id = threading.get_ident()
    import torch

    torch.set_num_threads(threads)
