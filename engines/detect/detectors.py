"""Detectors behind one interface: ``detect(frame, threshold) -> list[Detection]``.

A frame is an RGB ``uint8`` array of shape (height, width, 3); boxes come back in that frame's
pixels as ``(x0, y0, x1, y1)``. The offline detectors ship inside ``opencv-python-headless`` (pinned
below 5: OpenCV 5 dropped both): a Haar cascade for frontal faces (Viola and Jones, 2001) and the HOG
people detector (Dalal and Triggs, 2005). Their raw outputs are SVM-style margins; ``score`` maps a
margin m to 1 / (1 + exp(-m)), so 0.5 is the detector's own decision boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from engines.core.errors import InputError

MAX_FRAME_PIXELS = 40_000_000  # a frame larger than this (e.g. a corrupt header claiming 100k x 100k) is refused


@dataclass(frozen=True)
class Detection:
    """One object found in a frame."""

    label: str
    score: float  # 0..1
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the frame's pixels

    @property
    def area(self) -> int:
        """Pixels inside the box."""
        x0, y0, x1, y1 = self.box
        return max(0, x1 - x0) * max(0, y1 - y0)


class Detector(Protocol):
    """What every detector offers the page and the frame callback."""

    name: str
    labels: tuple[str, ...]

    def detect(self, frame: np.ndarray, threshold: float = 0.5) -> list[Detection]:
        """The objects in ``frame`` scoring at least ``threshold``, best first."""
        ...


def check_frame(frame: object) -> np.ndarray:
    """The frame as a contiguous RGB uint8 array, or an InputError saying what is wrong with it."""
    if not isinstance(frame, np.ndarray):
        raise InputError(f"A frame must be an image array, not {type(frame).__name__}.")
    if frame.ndim == 2:
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise InputError(f"A frame must be height x width x 3 (RGB); got shape {frame.shape}.")
    if frame.shape[0] < 8 or frame.shape[1] < 8:
        raise InputError(f"A frame of {frame.shape[1]}x{frame.shape[0]} pixels is too small to search.")
    if frame.shape[0] * frame.shape[1] > MAX_FRAME_PIXELS:
        raise InputError(f"A frame of {frame.shape[1]:,}x{frame.shape[0]:,} pixels is too large.")
    if frame.dtype != np.uint8:
        if not np.issubdtype(frame.dtype, np.number):
            raise InputError(f"A frame must hold numbers, not {frame.dtype}.")
        top = float(np.nanmax(frame)) if frame.size else 0.0
        frame = np.nan_to_num(frame.astype(np.float32) * (255.0 if top <= 1.0 else 1.0)).clip(0, 255)
        frame = frame.astype(np.uint8)
    return np.ascontiguousarray(frame[:, :, :3])


def check_threshold(threshold: object) -> float:
    """The confidence threshold as a float in 0..1, or an InputError."""
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0.0 <= threshold <= 1.0:
        raise InputError(f"The confidence threshold must be between 0 and 1 (got {threshold!r}).")
    return float(threshold)


def _score(margin: float) -> float:
    return 1.0 / (1.0 + math.exp(-float(margin)))


def shrink(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The frame (grey or RGB) at most ``max_side`` pixels on its longer side, and the factor back to full size."""
    side = max(gray.shape[:2])
    if side <= max_side:
        return gray, 1.0
    factor = side / max_side
    size = (round(gray.shape[1] / factor), round(gray.shape[0] / factor))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), factor


def _boxes(rects, margins, factor: float, label: str, threshold: float, shape) -> list[Detection]:
    out = []
    height, width = shape[:2]
    for (x, y, w, h), margin in zip(rects, margins, strict=True):
        score = _score(margin)
        if score < threshold:
            continue
        box = (
            max(0, round(x * factor)),
            max(0, round(y * factor)),
            min(width, round((x + w) * factor)),
            min(height, round((y + h) * factor)),
        )
        out.append(Detection(label, score, box))
    return sorted(out, key=lambda d: d.score, reverse=True)


class HaarFaces:
    """Frontal faces with OpenCV's Haar cascade (``haarcascade_frontalface_default.xml``)."""

    name = "Faces (OpenCV Haar cascade)"
    labels = ("face",)

    def __init__(self, max_side: int = 640, min_neighbors: int = 5) -> None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise InputError(f"OpenCV's face cascade could not be read from {path}.")
        self.max_side, self.min_neighbors = max_side, min_neighbors

    def detect(self, frame: np.ndarray, threshold: float = 0.5) -> list[Detection]:
        """The objects in ``frame`` scoring at least ``threshold``, best first."""
        frame, threshold = check_frame(frame), check_threshold(threshold)
        gray, factor = shrink(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), self.max_side)
        rects, _levels, weights = self.cascade.detectMultiScale3(
            gray, scaleFactor=1.1, minNeighbors=self.min_neighbors, minSize=(24, 24), outputRejectLevels=True
        )
        return _boxes(rects, np.ravel(weights), factor, "face", threshold, frame.shape)


class HogPeople:
    """Standing people with OpenCV's HOG + linear SVM detector, overlapping boxes merged."""

    name = "People (OpenCV HOG)"
    labels = ("person",)

    def __init__(self, max_side: int = 640, overlap: float = 0.45) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.max_side, self.overlap = max_side, overlap

    def detect(self, frame: np.ndarray, threshold: float = 0.5) -> list[Detection]:
        """The objects in ``frame`` scoring at least ``threshold``, best first."""
        frame, threshold = check_frame(frame), check_threshold(threshold)
        gray, factor = shrink(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), self.max_side)
        if min(gray.shape[:2]) < 128:  # the detection window is 64 x 128
            return []
        rects, weights = self.hog.detectMultiScale(gray, winStride=(8, 8), padding=(8, 8), scale=1.05)
        if len(rects) == 0:
            return []
        margins = np.ravel(weights)
        scores = [_score(m) for m in margins]
        keep = cv2.dnn.NMSBoxes([list(map(int, r)) for r in rects], scores, 0.0, self.overlap)
        keep = np.ravel(keep).astype(int)
        return _boxes([rects[i] for i in keep], margins[keep], factor, "person", threshold, frame.shape)


class Combined:
    """Several detectors on the same frame, their detections pooled (e.g. people and faces)."""

    def __init__(self, *detectors: Detector) -> None:
        if not detectors:
            raise InputError("Combine at least one detector.")
        self.detectors = detectors
        self.name = " + ".join(d.name.split(" (")[0] for d in detectors) + " (OpenCV)"
        self.labels = tuple(dict.fromkeys(label for d in detectors for label in d.labels))

    def detect(self, frame: np.ndarray, threshold: float = 0.5) -> list[Detection]:
        """The objects in ``frame`` scoring at least ``threshold``, best first."""
        frame, threshold = check_frame(frame), check_threshold(threshold)
        found = [d for detector in self.detectors for d in detector.detect(frame, threshold)]
        return sorted(found, key=lambda d: d.score, reverse=True)


def people_and_faces() -> Combined:
    """HOG people and Haar faces together: standing people across the room, faces close to the camera."""
    return Combined(HogPeople(), HaarFaces())


OFFLINE_DETECTORS = {"people": HogPeople, "faces": HaarFaces, "people+faces": people_and_faces}
