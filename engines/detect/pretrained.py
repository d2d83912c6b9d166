"""COCO object detectors through transformers, offline first: YOLOS-tiny, then RT-DETR (ResNet-18).

Both run on a CPU without timm or torchvision. They are found on the usual ladder
(``GALLERY_MODEL_DIR/<name>``, the Hugging Face cache, a download when allowed); without one the page
keeps to the OpenCV detectors. The model's own image processor prepares each frame (resize and
normalise) and turns its outputs back into boxes in the frame's pixels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from engines.core.errors import SourceError
from engines.core.model_sources import ModelSpec, ResolvedModel, from_folder, load_first
from engines.core.progress import Progress, null_progress
from engines.detect.detectors import Detection, check_frame, check_threshold, shrink

OFFLINE = "OpenCV's HOG people detector and Haar face cascade"
YOLOS_TINY = ModelSpec(
    name="yolos-tiny", title="YOLOS-tiny (COCO, 6.5M parameters, 26 MB)", offline=OFFLINE, hub_id="hustvl/yolos-tiny"
)
RTDETR_R18 = ModelSpec(
    name="rtdetr_r18vd",
    title="RT-DETR ResNet-18 (COCO, 20M parameters, 80 MB)",
    offline=OFFLINE,
    hub_id="PekingU/rtdetr_r18vd",
)
MODELS = (YOLOS_TINY, RTDETR_R18)


class PretrainedDetector:
    """A transformers object detector behind the common ``detect`` interface."""

    def __init__(self, model: Any, processor: Any, resolved: ResolvedModel, max_side: int = 512) -> None:
        self.model, self.processor, self.resolved, self.max_side = model.eval(), processor, resolved, max_side
        self.name = f"{resolved.spec.title.split(' (')[0]} (COCO, transformers)"
        id2label = getattr(model.config, "id2label", {}) or {}
        self.labels = tuple(
            sorted({str(v) for v in id2label.values() if str(v).upper() != "N/A" and not str(v).startswith("LABEL_")})
        )

    @property
    def notice(self) -> str:
        """Which model is in use, and where it was found."""
        return self.resolved.notice

    def detect(
        self, frame: np.ndarray, threshold: float = 0.5, classes: Iterable[str] | None = None
    ) -> list[Detection]:
        """The objects in ``frame`` scoring at least ``threshold`` (only ``classes`` when given), best first."""
        frame, threshold = check_frame(frame), check_threshold(threshold)
        small, factor = shrink(frame, self.max_side)
        inputs = self.processor(images=small, return_tensors="pt")
        with torch.inference_mode():
            outputs = self.model(**inputs)
        result = self.processor.post_process_object_detection(
            outputs, threshold=threshold, target_sizes=[small.shape[:2]]
        )[0]
        wanted = None if classes is None else set(classes)
        id2label = self.model.config.id2label
        height, width = frame.shape[:2]
        found = []
        for score, label, box in zip(
            result["scores"].tolist(), result["labels"].tolist(), result["boxes"].tolist(), strict=True
        ):
            name = str(id2label.get(int(label), label))
            if name.upper() == "N/A" or (wanted is not None and name not in wanted):
                continue
            x0, y0, x1, y1 = (v * factor for v in box)
            found.append(
                Detection(
                    name,
                    float(score),
                    (max(0, round(x0)), max(0, round(y0)), min(width, round(x1)), min(height, round(y1))),
                )
            )
        return sorted(found, key=lambda d: d.score, reverse=True)


def _load_folder(resolved: ResolvedModel) -> PretrainedDetector:
    from transformers import AutoImageProcessor, AutoModelForObjectDetection

    model, processor = from_folder(resolved, "an object detector", AutoModelForObjectDetection, AutoImageProcessor)
    if not hasattr(processor, "post_process_object_detection"):
        raise SourceError(f"{resolved.path}: its image processor cannot turn outputs into boxes.")
    return PretrainedDetector(model, processor, resolved)


def load_pretrained(
    specs: ModelSpec | Sequence[ModelSpec] = MODELS, progress: Progress = null_progress
) -> PretrainedDetector:
    """The first of ``specs`` found (offline first) and loadable; SourceError says where it looked."""
    return load_first(specs, _load_folder, "pretrained COCO object detector", progress)
