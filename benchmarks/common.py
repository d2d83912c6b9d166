"""Records, anchors and the printed table shared by every engine's benchmark."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Record:
    """One measured number: ``{engine, dataset, model, metric, value, default}``.

    Rates are fractions (0.002, not 0.2%); ``default`` marks the model the page uses by default.
    """

    engine: str
    dataset: str
    model: str
    metric: str
    value: float
    default: bool

    def as_dict(self) -> dict:
        """The JSON form."""
        return asdict(self)


@dataclass(frozen=True)
class Anchor:
    """A published figure printed beside our results (never written to the JSON)."""

    engine: str
    dataset: str
    source: str
    metric: str
    value: float


class Skip(Exception):
    """Raised by a benchmark whose dataset is absent; the reason is printed."""


def format_table(records: list[Record], anchors: list[Anchor]) -> str:
    """Records pivoted to one row per model and one column per metric, anchors below."""
    metrics: list[str] = []
    for r in records:
        if r.metric not in metrics:
            metrics.append(r.metric)
    rows: dict[tuple[str, str, str, bool], dict[str, float]] = {}
    for r in records:
        rows.setdefault((r.engine, r.dataset, r.model, r.default), {})[r.metric] = r.value
    head = ["engine", "dataset", "model", *metrics]
    body = [
        [engine, dataset, model + (" (default)" if default else ""), *(_fmt(values.get(m)) for m in metrics)]
        for (engine, dataset, model, default), values in rows.items()
    ]
    grouped: dict[tuple[str, str, str], dict[str, float]] = {}
    for a in anchors:
        grouped.setdefault((a.engine, a.dataset, a.source), {})[a.metric] = a.value
    for (engine, dataset, source), values in grouped.items():
        extra = " ".join(f"{m}={_fmt(v)}" for m, v in values.items() if m not in metrics)
        body.append(
            [
                engine,
                dataset,
                f"anchor: {source}" + (f" ({extra})" if extra else ""),
                *(_fmt(values.get(m)) for m in metrics),
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    lines = [" | ".join(str(x).ljust(w) for x, w in zip(head, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}"
