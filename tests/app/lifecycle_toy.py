"""A toy engine for the page helper's tests: its training waits for a gate the test opens."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from engines.core.artifacts import EngineCache
from engines.core.card import ModelCard
from engines.core.lifecycle import ModelRequest

GATE = threading.Event()  # training waits for this (the test opens it)
TRAINED: list[float] = []  # one entry per training actually run
WAIT_S = 60.0


@dataclass
class ToyModel:
    """A trained model with the contract's card and metrics."""

    weight: float
    engine_version: int = 1
    card_: ModelCard | None = None
    metrics_: dict | None = None

    def predict(self, x: float) -> float:
        """The toy's answer."""
        return self.weight * x


@dataclass(frozen=True)
class ToyConfig:
    """The toy's only setting."""

    weight: float = 2.0


CACHE = EngineCache("toy", 1, ToyModel, ("numpy",))


def train(config: ToyConfig, progress) -> ToyModel:
    """Waits for the gate, reporting progress, then returns the model."""
    progress(0.1, "Fitting the toy")
    if not GATE.wait(WAIT_S):
        raise TimeoutError("the test never opened the gate")
    TRAINED.append(config.weight)
    card = ModelCard("Toy", "why", "data", "bundled sample", "split", {"acc": 1.0}, 0.1, 1, 1)
    return ToyModel(config.weight, card_=card, metrics_={"acc": 1.0})


def request(weight: float = 2.0) -> ModelRequest[ToyModel]:
    """The page's request for a toy of this weight."""
    config = ToyConfig(weight)
    return ModelRequest(CACHE, config, "0" * 64, lambda progress: train(config, progress), "Training the toy", "toy")


def page() -> None:
    """The page script AppTest runs: one lifecycle.serve call, then the result and where it came from."""
    import streamlit as st

    from app_pages import lifecycle
    from tests.app import lifecycle_toy

    served = lifecycle.serve(lifecycle_toy.request(st.session_state.get("weight", 2.0)), what="the toy model")
    st.metric("Answer", served.model.predict(10))
    st.caption(lifecycle.source_note(served))
