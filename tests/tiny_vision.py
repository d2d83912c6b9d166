"""Tiny randomly initialised image classifiers saved locally, for tests of the pretrained vision code paths.

As ``tests/tiny_models.py`` does for text: a real transformers architecture (MobileNetV2, ResNet or ViT)
with a few small layers and random weights, saved with ``save_pretrained`` next to a real image processor,
under the folder name a :class:`~engines.core.model_sources.ModelSpec` expects. Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

# ImageNet-style labels: synonyms after commas, and two classes that read the same ("crane" the bird, "crane" the machine).
LABELS = ("tabby, tabby cat", "crane", "goldfish, Carassius auratus", "crane", "golden retriever")
SIDE = 32  # pictures the tiny models see are SIDE x SIDE


def make_tiny_image_classifier(
    folder: Path, *, kind: str = "mobilenet_v2", labels: tuple[str, ...] = LABELS, seed: int = 0
) -> Path:
    """Save a tiny random ``kind`` ("mobilenet_v2", "resnet" or "vit") image classifier and its processor.

    Args:
        folder: Where to save it (``GALLERY_MODEL_DIR/<spec name>``).
        kind: The architecture.
        labels: ``config.id2label`` values, class 0 first.
        seed: torch seed for the random weights.

    Returns:
        ``folder``, which ``AutoModelForImageClassification`` and ``AutoImageProcessor`` load.
    """
    import torch
    from transformers import (
        MobileNetV2Config,
        MobileNetV2ForImageClassification,
        ResNetConfig,
        ResNetForImageClassification,
        ViTConfig,
        ViTForImageClassification,
    )
    from transformers.models.convnext.image_processing_pil_convnext import ConvNextImageProcessorPil
    from transformers.models.mobilenet_v2.image_processing_pil_mobilenet_v2 import MobileNetV2ImageProcessorPil
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    label_config = {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: i for i, label in enumerate(labels)},
    }
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    torch.manual_seed(seed)
    if kind == "mobilenet_v2":
        # depth 0.25 and no fine-grained output: 320 features
        config = MobileNetV2Config(image_size=SIDE, depth_multiplier=0.25, finegrained_output=False, **label_config)
        model = MobileNetV2ForImageClassification(config)
        # transformers draws conv weights with std 0.02, and with batch norm at its initial statistics nothing
        # rescales them: the signal fades to ~1e-5 over 17 blocks. He initialisation (as torchvision's
        # MobileNetV2) keeps random features informative, like a trained network's would be.
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.Conv2d):
                    torch.nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
        processor = MobileNetV2ImageProcessorPil(
            size={"shortest_edge": SIDE + SIDE // 8},
            crop_size={"height": SIDE, "width": SIDE},
            image_mean=mean,
            image_std=std,
        )
    elif kind == "resnet":
        config = ResNetConfig(
            embedding_size=8, hidden_sizes=[16, 32], depths=[1, 1], layer_type="basic", **label_config
        )
        model = ResNetForImageClassification(config)
        processor = ConvNextImageProcessorPil(
            size={"shortest_edge": SIDE}, crop_pct=0.875, image_mean=mean, image_std=std
        )
    elif kind == "vit":
        config = ViTConfig(
            image_size=SIDE,
            patch_size=8,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            **label_config,
        )
        model = ViTForImageClassification(config)
        processor = ViTImageProcessorPil(size={"height": SIDE, "width": SIDE})
    else:
        raise ValueError(f"unknown kind {kind!r}")
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
