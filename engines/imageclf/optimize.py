"""Model optimisation shown as numbers: the float32 digits network against faster versions of itself.

Each variant is measured in the same run, in the same process, on one thread:
its size (serialised weights), its latency for one image (median of many calls,
the variants interleaved so that a noisy machine slows them all alike), its
throughput at batch 64, and its accuracy on the test half. The variants:

- ``float32``: the trained network as it is (the reference).
- ``fused``: batch norm folded into the convolutions and fused with the ReLUs (same maths, fewer ops).
- ``fused_scripted``: the fused network traced with TorchScript and frozen (weights become constants).
- ``int8_static``: post-training static quantisation (observers calibrated on training images, then
  int8 convolutions and linear layer), in eager mode with the CPU's quantised backend.
- ``int8_static_scripted``: the int8 network traced and frozen.

For a network this small, one image costs less in arithmetic than in Python and
framework dispatch, so folding and scripting usually gain more than int8 does;
the report says which variant meets the target (``TARGET_SPEEDUP`` faster per image
with at most ``MAX_ACCURACY_DROP`` accuracy lost) and recommends the fastest one that does.
"""

from __future__ import annotations

import copy
import io
import logging
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress
from engines.imageclf.digits import DigitsModel, DigitsNet, _to_tensor, check_grids, predict_digits

log = logging.getLogger(__name__)

TARGET_SPEEDUP = 1.5  # the target: at least this much faster per image than float32 ...
MAX_ACCURACY_DROP = 0.005  # ... while losing at most half a point of test accuracy
BATCH = 64  # images per call for the throughput figure
# The first of these that this torch build supports is used. fbgemm first: measured fastest for one image here
# (0.04 ms scripted, against 0.07 for x86 and onednn and 0.09 for qnnpack); x86 is faster at batch 64.
QUANTIZED_ENGINES = ("fbgemm", "x86", "onednn", "qnnpack")


@dataclass(frozen=True)
class Variant:
    """One version of the network, measured."""

    name: str
    description: str
    size_bytes: int  # serialised weights (state_dict, or the TorchScript archive)
    latency_ms: float  # one image, median, one thread
    throughput: float  # images per second at batch 64, one thread
    accuracy: float  # on the test half
    speedup: float  # float32 latency / this latency
    size_ratio: float  # this size / float32 size
    accuracy_drop: float  # float32 accuracy - this accuracy (negative: it gained)
    meets_target: bool


@dataclass
class OptimizationReport:
    """All variants side by side, and the one the page should use."""

    variants: list[Variant]
    recommended: str  # fastest variant that meets the target, else the reference
    quantized_engine: str | None  # the int8 backend used, None when no int8 variant could be built
    threads: int  # threads used for timing
    notes: list[str] = field(default_factory=list)  # variants that could not be built, and why
    modules: dict[str, Callable] = field(default_factory=dict, repr=False)  # name -> runnable network

    def table(self) -> list[dict[str, float | str | bool]]:
        """One plain row per variant (for a DataFrame on the page)."""
        return [
            {
                "variant": v.name,
                "size_kb": v.size_bytes / 1024,
                "latency_ms": v.latency_ms,
                "images_per_s_b64": v.throughput,
                "accuracy": v.accuracy,
                "speedup": v.speedup,
                "size_ratio": v.size_ratio,
                "meets_target": v.meets_target,
            }
            for v in self.variants
        ]

    def variant(self, name: str) -> Variant:
        """The measurements of one variant (InputError listing the names when unknown)."""
        for v in self.variants:
            if v.name == name:
                return v
        raise InputError(f"No variant named {name!r}; the report has {', '.join(v.name for v in self.variants)}.")


class _QuantizedEngine(nn.Module):
    """Runs an int8 network with the quantised backend it was converted for (a process-wide torch setting)."""

    def __init__(self, net: nn.Module, engine: str) -> None:
        super().__init__()
        self.net = net
        self.engine = engine

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.backends.quantized.engine != self.engine:
            torch.backends.quantized.engine = self.engine
        return self.net(x)


def fuse(net: DigitsNet) -> nn.Module:
    """A copy with every conv-BN-ReLU folded into one fused convolution (evaluation mode only)."""
    from torch.ao.quantization import fuse_modules

    fused = copy.deepcopy(net).eval()
    names = [n for n, _ in fused.features.named_children() if n.startswith("conv")]
    groups = [[n, n.replace("conv", "bn"), n.replace("conv", "relu")] for n in names]
    return fuse_modules(fused, [[f"features.{m}" for m in g] for g in groups])


def _quantized_engine() -> str | None:
    supported = set(torch.backends.quantized.supported_engines)
    return next((e for e in QUANTIZED_ENGINES if e in supported), None)


def quantize_static(net: DigitsNet, calibration: torch.Tensor, engine: str) -> nn.Module:
    """Post-training static int8 quantisation in eager mode: fuse, observe ``calibration`` images, convert."""
    from torch.ao import quantization as tq

    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = engine
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
            model = nn.Sequential(tq.QuantStub(), fuse(net), tq.DeQuantStub()).eval()
            model.qconfig = tq.get_default_qconfig(engine)
            prepared = tq.prepare(model)
            with torch.inference_mode():
                for i in range(0, len(calibration), 256):
                    prepared(calibration[i : i + 256])
            converted = tq.convert(prepared)
    finally:
        torch.backends.quantized.engine = previous
    return _QuantizedEngine(converted, engine).eval()


def _script(module: nn.Module) -> torch.jit.ScriptModule:
    """Trace + freeze, then a few calls on one image.

    TorchScript's profiling executor specialises its graph to the first shapes it sees, and one image at a
    time is how the page uses the network (the x86 int8 graph ran 2.5x slower at batch 1 when first run at 512).
    """
    example = torch.zeros(1, 1, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript announces its deprecation in favour of torch.export
        with torch.inference_mode(False), torch.no_grad():
            frozen = torch.jit.freeze(torch.jit.trace(module.eval(), example).eval())
        with torch.inference_mode():
            for _ in range(3):
                frozen(example)
    return frozen


def _size_bytes(module: nn.Module) -> int:
    buffer = io.BytesIO()
    if isinstance(module, torch.jit.ScriptModule):
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # deprecated in favour of torch.export, still the way to ship a frozen graph
            torch.jit.save(module, buffer)
    else:
        torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def _timings(modules: dict[str, Callable], batch: torch.Tensor, rounds: int, calls: int) -> dict[str, float]:
    """Median seconds per call of every module, interleaved round by round."""
    samples: dict[str, list[float]] = {name: [] for name in modules}
    with torch.inference_mode():
        for module in modules.values():
            for _ in range(10):  # warm-up: TorchScript profiles its first calls, allocators settle
                module(batch)
        for _ in range(rounds):
            for name, module in modules.items():
                started = time.perf_counter()
                for _ in range(calls):
                    module(batch)
                samples[name].append((time.perf_counter() - started) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def optimize(
    model: DigitsModel,
    test_x: np.ndarray,
    test_y: np.ndarray,
    calibration_x: np.ndarray | None = None,
    progress: Progress = null_progress,
    rounds: int = 30,
    calls: int = 20,
    threads: int = 1,
) -> OptimizationReport:
    """Build the optimised variants of ``model`` and measure them against it.

    Args:
        model: A trained digits model.
        test_x: Test grids (N, 8, 8) of values 0..16.
        test_y: Their digits (N,).
        calibration_x: Grids that calibrate int8 (use training images, never the test half); default test-free:
            the first half of scikit-learn's digits.
        progress: ``progress(fraction, message)``, ending at 1.0.
        rounds: Timing rounds (the median over rounds is reported).
        calls: Calls per round and variant.
        threads: Torch threads while timing (restored afterwards).

    Returns:
        The report, with every variant's runnable module in ``modules``.
    """
    if not isinstance(model, DigitsModel) or not isinstance(model.net, DigitsNet):
        raise InputError("optimize needs a trained digits model (from train_digits or load).")
    test_x = check_grids(test_x)
    test_y = np.asarray(test_y)
    if test_y.shape != (len(test_x),):
        raise InputError(f"Give one label per test digit ({len(test_x)} digits, labels of shape {test_y.shape}).")
    for name, value in (("Timing rounds", rounds), ("Calls per round", calls), ("Threads", threads)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10_000:
            raise InputError(f"{name} must be a whole number between 1 and 10000 (got {value!r}).")
    if calibration_x is None:
        from engines.imageclf.digits import load_split

        calibration_x = load_split().x_train
    calibration = _to_tensor(check_grids(calibration_x))

    net = model.net.eval()
    modules: dict[str, Callable] = {"float32": net}
    descriptions = {
        "float32": "the trained network, unchanged (reference)",
        "fused": "batch norm folded into the convolutions, conv+ReLU fused",
        "fused_scripted": "fused, then TorchScript trace + freeze",
        "int8_static": "static int8 quantisation (calibrated on training images), eager mode",
        "int8_static_scripted": "static int8, then TorchScript trace + freeze",
    }
    notes: list[str] = []
    progress(0.05, "Folding batch norm into the convolutions")
    modules["fused"] = fuse(net)
    modules["fused_scripted"] = _script(modules["fused"])
    engine = _quantized_engine()
    if engine is None:
        notes.append("int8: this torch build has no quantised CPU backend")
    else:
        progress(0.15, f"Quantising to int8 ({engine} backend), calibrating on training digits")
        try:
            modules["int8_static"] = quantize_static(net, calibration, engine)
            modules["int8_static_scripted"] = _script(modules["int8_static"])
        except (RuntimeError, AssertionError, NotImplementedError) as exc:  # a backend missing an operator
            log.warning("int8 quantisation failed: %s", exc)
            notes.append(f"int8 ({engine}): {exc}")
            modules.pop("int8_static", None)
            engine = None

    progress(0.3, "Measuring accuracy on the test half")
    accuracy = {name: float((predict_digits(m, test_x).argmax(1) == test_y).mean()) for name, m in modules.items()}
    sizes = {name: _size_bytes(m) for name, m in modules.items()}
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        progress(0.4, "Timing one image at a time")
        one = _timings(modules, _to_tensor(test_x[:1]), rounds, calls)
        progress(0.75, f"Timing batches of {BATCH}")
        batch = _to_tensor(np.resize(test_x, (BATCH, 8, 8)))
        many = _timings(modules, batch, max(3, rounds // 3), max(1, calls // 4))
    finally:
        torch.set_num_threads(previous_threads)

    reference = "float32"
    variants = []
    for name in modules:
        speedup = one[reference] / one[name]
        drop = accuracy[reference] - accuracy[name]
        variants.append(
            Variant(
                name=name,
                description=descriptions[name],
                size_bytes=sizes[name],
                latency_ms=one[name] * 1000,
                throughput=BATCH / many[name],
                accuracy=accuracy[name],
                speedup=speedup,
                size_ratio=sizes[name] / sizes[reference],
                accuracy_drop=drop,
                meets_target=name != reference and speedup >= TARGET_SPEEDUP and drop <= MAX_ACCURACY_DROP + 1e-12,
            )
        )
    passing = [v for v in variants if v.meets_target]
    recommended = min(passing, key=lambda v: v.latency_ms).name if passing else reference
    progress(1.0, f"Optimised: {recommended} ({one[reference] / one[recommended]:.1f}x faster per image)")
    return OptimizationReport(variants, recommended, engine, threads, notes, modules)
