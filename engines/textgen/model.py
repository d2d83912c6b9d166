"""The LSTM language model and its files: safetensors weights plus a JSON manifest.

The manifest holds everything needed to use and to trust the weights: the
architecture, the vocabulary, the training settings, the metrics, the checksum of
the training data and of the weights file. Loading checks that checksum, so a
truncated or edited file is refused instead of producing nonsense. Torch is
imported here; import this module lazily (never from the home page).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from engines.core import weights as weights_io
from engines.core.artifacts import library_versions
from engines.core.errors import SourceError
from engines.core.hashing import sha256_file
from engines.textgen.vocab import Vocabulary

WEIGHTS = "model.safetensors"
MANIFEST = weights_io.MANIFEST
FORMAT = 1  # bump when the file layout changes


@dataclass(frozen=True)
class LSTMConfig:
    """Architecture of one model (the vocabulary size comes from the vocabulary)."""

    vocab_size: int
    embed_dim: int = 64  # small: a character needs few dimensions; words use more (see TrainConfig)
    hidden_size: int = 256  # units per LSTM layer
    num_layers: int = 2  # stacked LSTM layers
    dropout: float = 0.2  # between layers and before the output layer, training only


class LSTMLanguageModel(nn.Module):
    """Embedding, stacked LSTM, dropout, linear layer to next-token logits."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden_size,
            config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, ids: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """Logits of shape (batch, time, vocab) and the new (h, c) state."""
        if ids.shape[1] == 1 and not self.training and ids.device.type == "cpu":
            return self._step(ids, state)
        out, state = self.lstm(self.embed(ids), state)
        return self.head(self.drop(out)), state

    def _step(self, ids: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None):
        """One token per stream, the LSTM equations written out (the same numbers as ``nn.LSTM``).

        On a CPU, ``nn.LSTM`` hands each call to oneDNN, which re-lays out the weights every time: for one
        token of a 2 x 512 model that costs about 7 ms, while these two matrix products per layer take
        about 0.5 ms. Generation and next-word search call the model one token at a time.
        """
        x = self.embed(ids[:, 0])
        layers, hidden = self.lstm.num_layers, self.lstm.hidden_size
        if state is None:
            zeros = x.new_zeros(layers, x.shape[0], hidden)
            state = (zeros, zeros)
        h0, c0 = state
        hs, cs = [], []
        for layer in range(layers):
            lstm = self.lstm
            gates = torch.addmm(getattr(lstm, f"bias_ih_l{layer}"), x, getattr(lstm, f"weight_ih_l{layer}").t())
            gates = gates.addmm_(h0[layer], getattr(lstm, f"weight_hh_l{layer}").t()).add_(
                getattr(lstm, f"bias_hh_l{layer}")
            )
            i, f, g, o = gates.chunk(4, 1)
            c = torch.sigmoid(f) * c0[layer] + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            hs.append(h)
            cs.append(c)
            x = h
        return self.head(x).unsqueeze(1), (torch.stack(hs), torch.stack(cs))

    def parameter_count(self) -> int:
        """Number of trainable numbers."""
        return sum(p.numel() for p in self.parameters())


@dataclass
class LanguageModel:
    """A trained model with everything needed to use and describe it."""

    net: LSTMLanguageModel
    vocab: Vocabulary
    info: dict[str, Any] = field(default_factory=dict)  # training settings, metrics, data, curve

    @property
    def config(self) -> LSTMConfig:
        """The architecture."""
        return self.net.config

    def size_bytes(self, dtype_bytes: int = 4) -> int:
        """Size of the weights in memory."""
        return self.net.parameter_count() * dtype_bytes


def save(model: LanguageModel, folder: Path, *, half: bool = False) -> Path:
    """Write ``model.safetensors`` and ``manifest.json`` into ``folder``.

    Args:
        model: The model.
        folder: Created when missing.
        half: Store weights as float16 (half the size; they are loaded back as float32).

    Returns:
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half else torch.float32
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.net.state_dict().items()}
    save_file(tensors, str(folder / WEIGHTS), metadata={"format": str(FORMAT)})
    manifest = {
        "format": FORMAT,
        "architecture": "lstm",
        "config": asdict(model.config),
        "vocabulary": model.vocab.to_json(),
        "weights": {
            "file": WEIGHTS,
            "sha256": sha256_file(folder / WEIGHTS),
            "dtype": str(dtype).removeprefix("torch."),
        },
        "parameters": model.net.parameter_count(),
        "versions": library_versions(["torch", "safetensors"]),
        **model.info,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False, default=_json_default))
    return folder


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a saved model (raises SourceError when missing or unreadable)."""
    return weights_io.read_manifest(folder, fmt=FORMAT, architecture="lstm", what="language model")


def load(folder: Path) -> LanguageModel:
    """A saved model, verified against its manifest, in evaluation mode on the CPU.

    Raises:
        SourceError: Missing files, a checksum mismatch or weights that do not fit the architecture.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    weights = weights_io.verified_weights(folder, manifest)
    vocab = Vocabulary.from_json(manifest["vocabulary"])
    config = LSTMConfig(**manifest["config"])
    if config.vocab_size != len(vocab):
        raise SourceError(f"The manifest in {folder} is inconsistent (vocabulary size).")
    net = LSTMLanguageModel(config)
    try:
        tensors = {k: v.float() for k, v in load_file(str(weights)).items()}
        net.load_state_dict(tensors)
    except (RuntimeError, OSError, ValueError) as exc:
        raise SourceError(f"The weights in {folder} do not fit the model: {exc}") from exc
    net.eval()
    info = {k: v for k, v in manifest.items() if k not in {"format", "architecture", "config", "vocabulary", "weights"}}
    return LanguageModel(net, vocab, info)
