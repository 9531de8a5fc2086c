"""The process's one torch thread (inference/torch_thread.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from inference import torch_thread
from inference.entities import PredictOptions
from inference.ultralytics_backend import UltralyticsDetector


def test_calls_from_many_threads_run_on_one_thread() -> None:
    with ThreadPoolExecutor(4) as pool:
        idents = set(pool.map(lambda _: torch_thread.run(threading.get_ident), range(16)))
    assert len(idents) == 1
    assert idents != {threading.get_ident()}


def test_results_and_exceptions_reach_the_caller() -> None:
    assert torch_thread.run(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        torch_thread.run(lambda: 1 / 0)


def test_a_call_made_on_the_torch_thread_runs_at_once() -> None:
    # Re-entrant: a model loaded on the torch thread that runs a pass does not deadlock.
    assert torch_thread.run(lambda: torch_thread.run(torch_thread.on_torch_thread)) is True
    assert torch_thread.on_torch_thread() is False


def test_timed_counts_only_the_call_not_the_wait_behind_others() -> None:
    blocker = threading.Thread(target=torch_thread.run, args=(time.sleep, 0.3))
    blocker.start()
    time.sleep(0.05)  # the blocker holds the torch thread now
    waited_from = time.perf_counter()
    ms = torch_thread.timed(time.sleep, 0.01)
    waited_ms = (time.perf_counter() - waited_from) * 1000
    blocker.join()
    assert 9 <= ms < 100
    assert waited_ms > ms + 100


def test_a_cpu_detector_loads_and_infers_on_the_torch_thread(
    detection_weights: Path, options: PredictOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[tuple[str, str]] = []

    def recording(method: str):  # type: ignore[no-untyped-def]
        original = getattr(UltralyticsDetector, method)

        def record(self, *args):  # type: ignore[no-untyped-def]
            threads.append((method, threading.current_thread().name))
            return original(self, *args)

        monkeypatch.setattr(UltralyticsDetector, method, record)

    for method in ("_load", "_warm_up", "_predict"):
        recording(method)
    detector = UltralyticsDetector(detection_weights, name="m", imgsz=options.imgsz)
    frame = np.zeros((120, 160, 3), np.uint8)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: detector.detect([frame], options), range(4)))
    assert [method for method, _ in threads] == ["_load", "_warm_up", *["_predict"] * 4]
    assert all(name.startswith(torch_thread.THREAD_NAME) for _, name in threads)


def test_threads_sets_the_count_inside_and_puts_it_back() -> None:
    import torch

    before = torch_thread.run(torch.get_num_threads)

    def inside() -> int:
        with torch_thread.threads(1):
            return torch.get_num_threads()

    assert torch_thread.run(inside) == 1
    assert torch_thread.run(torch.get_num_threads) == before
