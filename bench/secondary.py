"""Secondary models benchmark: what classifying tracked objects costs the farm.

1. Farm fps with one secondary model against none (target at least 0.9 with ``every_s`` 1), in
   the same run: one CPU ingest worker, video-file cameras decoded as fast as it goes, each
   showing 10 shapes that stay in view (so 10 tracks), the suite's trained shapes detector
   (trained on first use, cached like the tests' copy) and, as the secondary model, the
   suite's trained shade classifier (likewise). The
   displays' ``secondary`` is switched on and off round by round (a spec change applied in
   place, same worker, same warm models); each phase's rate is results per second after a
   settling second and a half.

2. Secondary crops classified per second: the classifier's micro-batcher alone, in this
   process, fed the 10 objects' crops of the same frames from as many threads as cameras.

    .venv/bin/python bench/secondary.py [--cameras 2] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file, this folder would come first on sys.path and `import inference`
    # would import this script instead of the package.
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import os
import statistics
import threading
import time

from inference.synthetic.video import Scene, linear_path

TARGET = 0.9
SHAPES = ("square", "circle", "triangle")
# 10 shapes on a 5 x 2 grid, each drifting 20 px and back over the clip: always in view.
SCENE = Scene(
    paths=tuple(
        linear_path(
            i + 1,
            SHAPES[i % 3],
            start=(35 + 62 * (i % 5), 65 + 110 * (i // 5)),
            end=(55 + 62 * (i % 5), 75 + 110 * (i // 5)),
            t0=0.0,
            t1=10.0,
            size=36,
        )
        for i in range(10)
    ),
    duration_s=10.0,
    fps=10.0,
    seed=11,
)


def cache_root() -> Path:
    return Path(os.environ.get("SIGHTLINE_TEST_CACHE", Path.home() / ".cache/sightline"))


def classifier_weights() -> tuple[Path, str]:
    """The suite's trained shade classifier (trained on first use, about a minute; cached)."""
    from inference.synthetic.classifier_training import trained_classifier

    return trained_classifier(cache_root()), "the trained shade classifier"


def farm_fps_with_and_without(
    scratch: Path, weights: Path, seconds: float, rounds: int, cameras: int
) -> dict[bool, list[float]]:
    from django.conf import settings
    from django.core.files import File

    from bench.farm import rates_on_and_off, start_ingest_worker, wait
    from cms import redis_connection
    from cms.demo import shapes_model
    from cms.farm import farm_keys
    from cms.farm.reconcile import run_reconcile
    from cms.models import Camera, DetectionModel, Display
    from inference.synthetic.training import trained_detector
    from inference.synthetic.video import write_video

    detector = shapes_model(trained_detector(cache_root()))
    classifier = DetectionModel(name="shade", version="bench", task="classify")
    with weights.open("rb") as handle:
        classifier.weights.save("shade.pt", File(handle), save=False)
    classifier.save()
    clip = scratch / "ten.mp4"
    write_video(SCENE, clip)
    secondary = [{"model": classifier.pk, "classes": None, "min_size": 16, "every_s": 1.0}]
    for i in range(cameras):
        camera = Camera.objects.create(name=f"c{i}", identifier=f"c{i}", url=str(clip), fps=120)
        Display.objects.create(name=f"d{i}", identifier=f"d{i}", camera=camera, model=detector)
    worker = start_ingest_worker(scratch, cameras)
    client = redis_connection.client()
    stream = settings.SIGHTLINE_RESULTS_STREAM

    def switch(on: bool) -> None:
        Display.objects.update(secondary=secondary if on else [])
        run_reconcile()

    try:
        wait(lambda: farm_keys.read_workers(client), 60, "the ingest worker")
        run_reconcile()
        wait(lambda: client.xlen(stream) >= 20 * cameras, 180, "results to flow (warm-up)")
        return rates_on_and_off(
            client, stream, switch, rounds=rounds, seconds=seconds, check=_check_attributes
        )
    finally:
        worker.terminate()
        worker.wait(60)


def _check_attributes(raw_results: list[bytes]) -> None:
    """With the secondary model on, the newest results' objects must carry its attributes."""
    import orjson

    newest = [orjson.loads(r) for r in raw_results[-20:]]
    carrying = sum(1 for r in newest for o in r.get("objects", ()) if o.get("attributes"))
    objects = sum(len(r.get("objects", ())) for r in newest)
    print(f"  secondary on: {carrying}/{objects} objects of the last results carry attributes")


def crops_per_second(weights: Path, seconds: float, threads: int) -> tuple[float, int]:
    """The classifier batcher's throughput on the scene's 10 crops per frame."""
    from inference import MicroBatcher, UltralyticsClassifier, classification_crop
    from inference.synthetic.video import render_scene

    classifier = UltralyticsClassifier(weights, name="shade")
    size = classifier.info.imgsz
    crops = [
        classification_crop(image, obj.box, size=size)
        for image, truth in list(render_scene(SCENE))[:20]
        for obj in truth.objects
    ]
    done = [0] * threads
    stop = threading.Event()
    with MicroBatcher(classifier, max_batch=16, max_wait_ms=5.0) as batcher:
        for crop in crops[:16]:
            batcher.classify(crop, timeout=60)  # warm-up

        def feed(k: int) -> None:
            i = 0
            while not stop.is_set():
                futures = [batcher.submit_crop(crops[(i + j) % len(crops)]) for j in range(10)]
                for future in futures:
                    future.result(60)
                done[k] += len(futures)
                i += 10

        workers = [threading.Thread(target=feed, args=(k,)) for k in range(threads)]
        started = time.perf_counter()
        for t in workers:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in workers:
            t.join(60)
        elapsed = time.perf_counter() - started
    return sum(done) / elapsed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--crop-seconds", type=float, default=10.0)
    args = parser.parse_args()
    from bench.farm import farm_environment

    with farm_environment("sightline-bench-secondary-") as scratch:
        weights, which = classifier_weights()
        rates = farm_fps_with_and_without(scratch, weights, args.seconds, args.rounds, args.cameras)
        import torch

        rate, size = crops_per_second(weights, args.crop_seconds, args.cameras)
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    print(f"\nfarm, {args.cameras} video-file cameras (320x240) of 10 tracked shapes each, CPU")
    print(f"shapes detector imgsz 320; secondary: {which}, crops {size} px, every_s 1")
    print(f"{'no secondary model (results/s)':<36}{off:>8.1f}   rounds {_rounded(rates[False])}")
    print(f"{'one secondary model':<36}{on:>8.1f}   rounds {_rounded(rates[True])}")
    ratio = on / off
    verdict = "ok" if ratio >= TARGET else "MISSED"
    print(f"ratio with / without: {ratio:.3f} (target >= {TARGET}) {verdict}")
    print(
        f"secondary crops classified per second (batcher, {args.cameras} threads, "
        f"torch threads {torch.get_num_threads()}): {rate:.0f}"
    )
    needed = 10 * args.cameras / 1.0
    print(
        f"the farm needs about {needed:.0f} crops/s here (10 tracks x {args.cameras} cameras / 1 s)"
    )


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 1) for v in values]


if __name__ == "__main__":
    main()
