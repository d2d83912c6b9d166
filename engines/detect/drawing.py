"""Boxes, labels, scores and a frame-rate line drawn onto a copy of the frame (what the live video shows)."""

from __future__ import annotations

import colorsys
import zlib

import cv2
import numpy as np

from engines.detect.detectors import Detection, check_frame
from engines.detect.tracking import Track


def colour(label: str) -> tuple[int, int, int]:
    """A bright RGB colour that is always the same for the same label."""
    hue = (zlib.crc32(label.encode("utf-8")) % 360) / 360
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def annotate(frame: np.ndarray, objects: list[Detection] | list[Track], fps: float | None = None) -> np.ndarray:
    """A copy of ``frame`` with each object's box and "label #id score" (the id when tracked), and the rate.

    Args:
        frame: RGB uint8 frame (not modified).
        objects: Detections, or tracks (which add their stable id to the caption).
        fps: Frames per second to print in the top-left corner, when given.
    """
    out = check_frame(frame).copy()
    thickness = max(1, round(max(out.shape[:2]) / 400))
    scale = max(0.4, max(out.shape[:2]) / 1400)
    for item in objects:
        detection, ident = (item.detection, item.id) if isinstance(item, Track) else (item, None)
        x0, y0, x1, y1 = detection.box
        rgb = colour(detection.label)
        cv2.rectangle(out, (x0, y0), (x1, y1), rgb, thickness)
        caption = f"{detection.label}{f' #{ident}' if ident is not None else ''} {detection.score:.0%}"
        (w, h), base = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = max(0, y0 - h - base - 2)
        cv2.rectangle(out, (x0, top), (x0 + w + 4, top + h + base + 2), rgb, -1)
        cv2.putText(out, caption, (x0 + 2, top + h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    if fps is not None:
        text = f"{fps:.1f} FPS"
        cv2.putText(out, text, (8, 8 + round(24 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(
            out, text, (8, 8 + round(24 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
        )
    return out
