"""A tiny randomly initialised YOLOS detector saved like a real one, for tests (no download)."""

from __future__ import annotations

from pathlib import Path

LABELS = {0: "N/A", 1: "person", 2: "bicycle", 3: "dog"}


def make_tiny_yolos(folder: Path) -> Path:
    """Save a 2-layer YOLOS with 4 labels and its image processor into ``folder``; returns it."""
    import torch
    from transformers import YolosConfig, YolosForObjectDetection
    from transformers.models.yolos.image_processing_pil_yolos import YolosImageProcessorPil

    torch.manual_seed(0)
    config = YolosConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        image_size=[64, 96],
        num_detection_tokens=10,
        id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )
    YolosForObjectDetection(config).eval().save_pretrained(folder)
    YolosImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96}).save_pretrained(folder)
    return folder
