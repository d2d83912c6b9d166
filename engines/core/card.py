"""The model card every trained model carries."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelCard:
    """What a person needs to judge a model.

    Attributes:
        model: Name of the model.
        why: Why this model (one or two sentences).
        data: Dataset name.
        provenance: bundled sample, local copy, cache, downloaded, user upload.
        split: How the held-out metrics were obtained.
        metrics: Held-out metric name -> value (fractions, not percentages).
        train_seconds: Wall time of training.
        n_train: Training examples.
        n_test: Held-out examples.
        limitations: Known weaknesses, each one sentence.
        versions: Library versions used.
        citation: Dataset citation.
    """

    model: str
    why: str
    data: str
    provenance: str
    split: str
    metrics: dict[str, float]
    train_seconds: float
    n_train: int
    n_test: int
    limitations: tuple[str, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)
    citation: str = ""

    def to_markdown(self) -> str:
        """The card as Markdown, for the page and for download."""
        metrics = "\n".join(f"| {k} | {v:.4f} |" for k, v in self.metrics.items())
        limits = "\n".join(f"- {item}" for item in self.limitations) or "- none recorded"
        versions = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        return (
            f"### Model card: {self.model}\n\n"
            f"**Why this model.** {self.why}\n\n"
            f"**Data.** {self.data} ({self.provenance}); {self.n_train:,} training and {self.n_test:,} held-out examples. "
            f"{self.split}\n\n"
            f"| metric (held-out) | value |\n|---|---|\n{metrics}\n\n"
            f"**Training time.** {self.train_seconds:.2f} s on this machine.\n\n"
            f"**Limitations.**\n{limits}\n\n"
            f"**Versions.** {versions}\n\n" + (f"**Citation.** {self.citation}\n" if self.citation else "")
        )
