"""Generated scenes with known truth: coloured shapes on textured backgrounds.

Training images with YOLO labels (`images`), videos of shapes on known paths with every
frame's true boxes (`video`), a small detector trained on them and cached on disk
(`training`), and precision/recall against the truth (`accuracy`). Every shape also has a
shade, "light" or "dark" (`shades`), which the detector ignores and a small classifier
trained on classification crops tells apart (`classifier_training`). Pure numpy and OpenCV
except training, which runs ultralytics in a child process. Used by the test suite and by
the offline demo. Importing this package does not import ultralytics or torch.
"""

from inference.synthetic.accuracy import Score, iou, score_image, score_images
from inference.synthetic.classifier_training import (
    DEFAULT_CLASSIFIER_SPEC,
    ClassifierSpec,
    CropsSpec,
    ShadeCrop,
    cached_classifier_path,
    shade_crop,
    shade_crops,
    trained_classifier,
    write_crops_dataset,
)
from inference.synthetic.demo import DEMO_LINE, DEMO_LOOP_S, DEMO_ZONE, demo_scene
from inference.synthetic.images import (
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    SIZE_RANGE,
    DatasetSpec,
    LabelledShape,
    shapes_image,
    write_yolo_dataset,
)
from inference.synthetic.shades import SHADES, shade_color
from inference.synthetic.shapes import CLASS_NAMES, SHAPE_CLASSES, class_id
from inference.synthetic.training import (
    DEFAULT_SPEC,
    TrainSpec,
    cache_key,
    cache_key_contents,
    cached_detector_path,
    trained_detector,
)
from inference.synthetic.video import (
    FrameTruth,
    Scene,
    ShapePath,
    TruthObject,
    Waypoint,
    frame_truth,
    linear_path,
    render_scene,
    scene_truth,
    stationary_path,
    write_truth,
    write_video,
)

__all__ = [
    "CLASS_NAMES",
    "DEFAULT_CLASSIFIER_SPEC",
    "DEFAULT_SPEC",
    "DEMO_LINE",
    "DEMO_LOOP_S",
    "DEMO_ZONE",
    "IMAGE_HEIGHT",
    "IMAGE_WIDTH",
    "SHADES",
    "SHAPE_CLASSES",
    "SIZE_RANGE",
    "ClassifierSpec",
    "CropsSpec",
    "DatasetSpec",
    "FrameTruth",
    "LabelledShape",
    "Scene",
    "Score",
    "ShadeCrop",
    "ShapePath",
    "TrainSpec",
    "TruthObject",
    "Waypoint",
    "cache_key",
    "cache_key_contents",
    "cached_classifier_path",
    "cached_detector_path",
    "class_id",
    "demo_scene",
    "frame_truth",
    "iou",
    "linear_path",
    "render_scene",
    "scene_truth",
    "score_image",
    "score_images",
    "shade_color",
    "shade_crop",
    "shade_crops",
    "shapes_image",
    "stationary_path",
    "trained_classifier",
    "trained_detector",
    "write_crops_dataset",
    "write_truth",
    "write_video",
    "write_yolo_dataset",
]
