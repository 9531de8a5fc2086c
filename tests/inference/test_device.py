from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from inference import InferenceError, select_device


@pytest.fixture
def gpus(monkeypatch):
    """Pretend the machine has GPUs: the one thing that cannot run here."""

    def install(count: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)

    return install


def test_cpu_is_always_cpu(gpus):
    gpus(2)
    assert select_device("cpu") == "cpu"


def test_auto_takes_the_first_gpu_when_there_is_one(gpus):
    gpus(2)
    assert select_device(None) == select_device("auto") == select_device("cuda") == "cuda:0"
    assert select_device("CUDA:1") == "cuda:1"


def test_cuda_preference_falls_back_to_cpu_without_cuda(gpus, caplog):
    gpus(0)
    assert select_device("auto") == "cpu"
    assert select_device("cuda:0") == "cpu"
    assert "CUDA is not available" in caplog.text


def test_a_gpu_that_does_not_exist_is_a_configuration_error(gpus):
    gpus(1)
    with pytest.raises(InferenceError, match="only 1 CUDA device"):
        select_device("cuda:3")


def test_unknown_device_is_refused():
    with pytest.raises(InferenceError, match="unknown device"):
        select_device("tpu")


def test_importing_inference_loads_neither_torch_nor_ultralytics_nor_django():
    code = (
        "import sys, inference; "
        "print(sorted(m for m in ('torch', 'ultralytics', 'django', 'celery') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "[]"


def test_ultralytics_is_configured_offline_and_outside_home(detector):
    import os

    from ultralytics.utils import ONLINE, SETTINGS_FILE

    assert ONLINE is False  # no DNS probe at import, no update checks
    assert str(SETTINGS_FILE).startswith(os.environ["YOLO_CONFIG_DIR"])
