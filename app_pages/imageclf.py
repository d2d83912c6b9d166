"""Image classifier page: a digits CNN trained in the page, its optimised variants, any photo (pretrained ImageNet
classifier when available, else read as a digit) and "teach it your own classes" from a ZIP -> engines.imageclf.

torch (and, for the pretrained model, transformers) is imported by the engine modules this page imports: pages
run only when visited, so the home page never loads them. ``engines.imageclf.transfer`` imports transformers and
is only needed by three of the tabs, so it is imported when one of them is drawn.
"""

from __future__ import annotations

import base64
import io
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st
from PIL import Image, ImageDraw

from app_pages import jobs, lifecycle, ui
from app_pages.jobs import TrainingJob
from engines.core.errors import InputError, SourceError
from engines.core.images import read_image_isolated
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.registry import get_demo

ui.require_stacks(get_demo("imageclf"))  # before the engine imports below: they load torch

from engines.imageclf import digits as dg  # noqa: E402
from engines.imageclf import digits_store, zipdata  # noqa: E402
from engines.imageclf import optimize as opt  # noqa: E402
from engines.imageclf.images import Preprocess, preprocessed_preview, read_image, to_digit_grid  # noqa: E402

DEMO = get_demo("imageclf")
TAB_KEY = "ic_tab"
DIGITS_JOB = "ic_digits_job"
DIGITS_RESULT = "ic_digits"
CUSTOM_JOB = "ic_custom_job"
CUSTOM_RESULT = "ic_custom"
DATASET_KEY = "ic_dataset"
OPTIMISED_KEY = "ic_optimised"
DIGITS_TAB, OPTIMISE_TAB, PHOTO_TAB, CUSTOM_TAB, CARD_TAB = (
    "✏️ Digits",
    "⚡ Optimise",
    "📷 Any photo",
    "🧺 Your own classes",
    "🪪 Model card",
)
PAGE_DIGITS = digits_store.page_config()  # the engine's defaults with a time budget: the shipped model's settings
IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
TOP_K = 5
EXAMPLE_CLASSES = ("circles", "squares", "triangles")  # the built-in example dataset, drawn in code
EXAMPLE_PER_CLASS = 16
EXAMPLE, UPLOAD = "example", "upload"
CURVE_COLOURS = {"training": "#4f46e5", "validation": "#f97316", "held-out": "#f97316"}
EXPECTED_LAYOUT = """my-classes.zip
├── cats/
│   ├── 001.jpg
│   ├── 002.jpg
│   └── …
├── dogs/
│   ├── 001.png
│   └── …
└── rabbits/
    └── …"""

ui.page_header(
    DEMO,
    "A convolutional neural network learns its own filters: small patterns of strokes, edges and colours that it "
    "combines into an answer. One trained on scikit-learn's handwritten digits comes with the gallery: see its "
    "learning curve and which digits it confuses, retrain it with your own settings and watch its loss fall, then "
    "make it faster with int8 quantization and layer fusion. "
    "Upload any photo (or take one) to see what a network pretrained on ImageNet makes of it, and which parts of "
    "the picture decided the answer; or teach it your own classes from a ZIP of folders, on frozen pretrained "
    "features when a pretrained network is available and with a small CNN trained from scratch otherwise.",
)


# ------------------------------------------------------------------ data, models and background jobs
def transfer_module() -> Any:
    """``engines.imageclf.transfer`` (imports transformers: only the tabs that need it call this)."""
    from engines.imageclf import transfer

    return transfer


@st.cache_resource(max_entries=1, show_spinner=False)
def digits_split() -> dg.DigitsSplit:
    """scikit-learn's digits, split as in its example (first half trains, second half tests)."""
    return dg.load_split()


@st.cache_resource(max_entries=1, show_spinner="Looking for a pretrained ImageNet classifier…")
def pretrained_classifier(settings_key: tuple) -> tuple[Any, str]:
    """The pretrained classifier (or None) and, when there is none, where it was looked for."""
    tr = transfer_module()
    try:
        return tr.load_pretrained(), ""
    except SourceError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 (a broken model folder must not take the page down)
        return None, f"Loading the pretrained classifier failed: {type(exc).__name__}: {exc}"


@dataclass
class LoadedDataset:
    """A dataset of class folders unpacked into a temporary folder that lives as long as this object."""

    dataset: zipdata.ImageFolderDataset
    workdir: tempfile.TemporaryDirectory
    provenance: str  # "user upload" or "generated example (drawn in code)"
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class CustomTrained:
    """A custom-classes model and the dataset it learned from (which keeps the images on disk alive)."""

    result: Any  # transfer.CustomResult
    loaded: LoadedDataset
    id: str = field(default_factory=lambda: f"custom-{uuid.uuid4().hex}")


def start_digits(config: dg.DigitsConfig) -> TrainingJob:
    """Train the digits CNN in the background queue; its curve grows one point per epoch.

    Shared: keyed by the settings, so a visitor with the same settings joins it, and it finishes (and is saved
    for the next visitor when it ran all its epochs) even when its visitor leaves.
    """
    wanted = digits_store.request(config)

    def work(job: TrainingJob) -> dg.DigitsResult:
        return digits_store.train_and_save(wanted, job.report, lambda point: job.curve.append(asdict(point)), job.stop)

    job = jobs.start(wanted.job_key, wanted.title, work, private=False, context=wanted.config)
    st.session_state[DIGITS_JOB] = job
    return job


def harvest_jobs() -> None:
    """Move finished trainings into the session; a returning visitor picks up the running job of its settings."""
    job: TrainingJob | None = st.session_state.get(DIGITS_JOB)
    if job is None or job.done.is_set():
        try:
            shared = jobs.find(digits_store.request(digits_config()).job_key)
        except InputError:
            shared = None
        if shared is not None and jobs.running(shared):
            st.session_state[DIGITS_JOB] = job = shared
    if jobs.harvest(job):
        st.session_state[DIGITS_RESULT] = job.result
        st.session_state.pop(OPTIMISED_KEY, None)
    job = st.session_state.get(CUSTOM_JOB)
    if jobs.harvest(job):
        st.session_state[CUSTOM_RESULT] = CustomTrained(job.result, job.context)


def running(key: str) -> TrainingJob | None:
    """The job under ``key`` while it is queued or runs, else None."""
    job: TrainingJob | None = st.session_state.get(key)
    return job if jobs.running(job) else None


# ------------------------------------------------------------------ pictures drawn in code (presets)
DIGIT_STROKES: dict[str, list[list[tuple[int, int]]]] = {  # pen strokes on a 200x200 sheet
    "1": [[(72, 62), (112, 30), (112, 172)]],
    "4": [[(128, 172), (128, 30), (44, 122), (160, 122)]],
    "7": [[(48, 40), (152, 40), (86, 172)]],
    "2": [[(52, 70), (70, 40), (100, 30), (132, 40), (148, 66), (138, 98), (52, 170), (154, 170)]],
}


def drawn_digit(digit: str) -> Image.Image:
    """A digit drawn with a thick pen on white paper (what a photo of a handwritten digit looks like, cleaned up)."""
    picture = Image.new("RGB", (200, 200), (250, 250, 245))
    draw = ImageDraw.Draw(picture)
    if digit == "0":
        draw.ellipse((56, 30, 144, 170), outline=(20, 20, 30), width=14)
    for stroke in DIGIT_STROKES.get(digit, []):
        draw.line(stroke, fill=(20, 20, 30), width=14, joint="curve")
    return picture


def shape_picture(kind: str, rng: np.random.Generator, side: int = 96) -> Image.Image:
    """A circle, square or triangle of random colour, size and place on a light background of another colour."""
    background = tuple(int(v) for v in rng.integers(160, 256, 3))
    colour = tuple(int(v) for v in rng.integers(0, 130, 3))
    picture = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(picture)
    size = float(rng.uniform(0.35, 0.7)) * side
    cx, cy = (float(v) for v in rng.uniform(size / 2 + 2, side - size / 2 - 2, 2))
    box = (cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2)
    if kind == "circles":
        draw.ellipse(box, fill=colour)
    elif kind == "squares":
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([(cx, cy - size / 2), (cx - size / 2, cy + size / 2), (cx + size / 2, cy + size / 2)], fill=colour)
    return picture


def photo_presets() -> dict[str, Callable[[], Image.Image]]:
    """The "Any photo" presets: pictures drawn in code (the gallery ships no photos)."""

    def ball() -> Image.Image:
        picture = Image.new("RGB", (240, 240), (70, 130, 200))
        draw = ImageDraw.Draw(picture)
        draw.rectangle((0, 170, 240, 240), fill=(60, 150, 60))
        draw.ellipse((70, 80, 170, 180), fill=(220, 40, 30))
        draw.ellipse((95, 100, 120, 125), fill=(245, 170, 160))
        return picture

    def checkerboard() -> Image.Image:
        cells = (np.indices((8, 8)).sum(axis=0) % 2).astype(np.uint8) * 255
        return Image.fromarray(np.kron(cells, np.ones((30, 30), dtype=np.uint8))).convert("RGB")

    return {
        "✏️ A drawn 7": lambda: drawn_digit("7"),
        "✏️ A drawn 4": lambda: drawn_digit("4"),
        "🔴 A red ball on grass": ball,
        "🏁 A checkerboard": checkerboard,
        "🔺 A triangle": lambda: shape_picture("triangles", np.random.default_rng(7), side=200),
    }


def png_bytes(picture: Image.Image) -> bytes:
    """A picture as PNG bytes (presets go through the same read_image door as uploads)."""
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


@st.cache_data(max_entries=2, show_spinner=False)
def example_zip(per_class: int = EXAMPLE_PER_CLASS, seed: int = 0) -> bytes:
    """The built-in example dataset as a ZIP in memory: one folder of drawn shapes per class (and a README)."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("shapes/README.txt", "Circles, squares and triangles drawn by the gallery.\n")
        for kind in EXAMPLE_CLASSES:
            for i in range(per_class):
                archive.writestr(f"shapes/{kind}/{i:03d}.png", png_bytes(shape_picture(kind, rng)))
    return buffer.getvalue()


def inline_png(picture: Image.Image) -> str:
    """A small picture as a ``data:`` URI (an 80x80 digit is a few hundred bytes)."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def digit_picture(grid: np.ndarray, scale: int = 12) -> Image.Image:
    """An 8x8 grid of 0..16 as dark ink on white, each cell ``scale`` pixels wide."""
    pixels = (255 - np.clip(grid, 0, dg.MAX_PIXEL) * (255 / dg.MAX_PIXEL)).astype(np.uint8)
    side = dg.SIDE * scale
    return Image.fromarray(pixels, "L").resize((side, side), Image.Resampling.NEAREST)


def overlay(preview: Image.Image, heat: np.ndarray, strength: float = 0.6) -> Image.Image:
    """The saliency map laid over the picture the model saw: the redder, the more that part mattered."""
    base = np.asarray(preview.convert("RGB"), dtype=np.float32)
    heat_image = Image.fromarray((np.clip(heat, 0, 1) * 255).astype(np.uint8)).resize(
        preview.size, Image.Resampling.BILINEAR
    )
    weight = np.asarray(heat_image, dtype=np.float32)[..., None] / 255 * strength
    red = np.array([255.0, 30.0, 0.0], dtype=np.float32)
    return Image.fromarray((base * (1 - weight) + red * weight).clip(0, 255).astype(np.uint8))


# ------------------------------------------------------------------ charts
def curve_chart(curve: list[dict[str, Any]], metric: str, other: str, title: str, step: str = "epoch"):
    """Training and validation (or held-out) loss or accuracy against the epoch (or iteration)."""
    frame = pd.DataFrame(curve)
    columns = {f"train_{metric}": "training", f"{other}_{metric}": "validation" if other == "val" else "held-out"}
    present = [c for c in columns if c in frame and frame[c].notna().any()]
    long = frame.melt(id_vars="epoch", value_vars=present, var_name="part", value_name=metric)
    long["part"] = long["part"].map(columns)
    chart = px.line(
        long,
        x="epoch",
        y=metric,
        color="part",
        markers=True,
        color_discrete_map=CURVE_COLOURS,
        labels={"loss": "loss (cross-entropy)", "acc": "accuracy", "epoch": step},
        title=title,
    )
    if metric == "acc":
        chart.update_yaxes(tickformat=".0%")
    chart.update_layout(height=300, margin={"t": 40, "b": 10}, legend_title_text="")
    return chart


def curves(curve: list[dict[str, Any]], other: str, key: str, step: str = "epoch") -> None:
    """Loss and accuracy side by side."""
    left, right = st.columns(2)
    left.plotly_chart(curve_chart(curve, "loss", other, "Loss", step), width="stretch", key=f"{key}_loss")
    right.plotly_chart(curve_chart(curve, "acc", other, "Accuracy", step), width="stretch", key=f"{key}_acc")


def probability_chart(pairs: list[tuple[str, float]], title: str):
    """Top-k probabilities as horizontal bars, the most likely on top."""
    frame = pd.DataFrame(pairs, columns=["label", "probability"])
    chart = px.bar(
        frame,
        x="probability",
        y="label",
        orientation="h",
        text=frame["probability"].map(ui.percent),
        range_x=[0, 1],
        title=title,
    )
    chart.update_yaxes(type="category", autorange="reversed", title="")
    chart.update_xaxes(tickformat=".0%")
    chart.update_layout(height=60 + 40 * len(frame), margin={"t": 40, "b": 10})
    return chart


def confusion_chart(confusion: np.ndarray, labels: list[str], title: str):
    """The confusion matrix as a heat map (rows: truth, columns: prediction)."""
    chart = px.imshow(
        confusion,
        x=labels,
        y=labels,
        text_auto=True,
        color_continuous_scale="Blues",
        labels={"x": "predicted", "y": "true", "color": "images"},
        title=title,
    )
    chart.update_xaxes(type="category", side="bottom")
    chart.update_yaxes(type="category")
    chart.update_layout(height=420, margin={"t": 40, "b": 10})
    return chart


def grid_charts(grid: np.ndarray, heat: np.ndarray, key: str) -> None:
    """What the digits model sees (the 8x8 grid, with hover values) next to its saliency map laid over that grid."""
    left, right = st.columns(2)
    seen = px.imshow(grid, color_continuous_scale="gray_r", zmin=0, zmax=16, title="What the model sees (8×8)")
    cells = Image.fromarray((np.clip(heat, 0, 1) * 255).astype(np.uint8)).resize((96, 96), Image.Resampling.NEAREST)
    laid = overlay(digit_picture(grid), np.asarray(cells, dtype=np.float32) / 255)
    paid = px.imshow(np.asarray(laid), title="Saliency over the grid: what moved the answer")
    for chart in (seen, paid):
        chart.update_layout(height=300, margin={"t": 40, "b": 10}, coloraxis_showscale=False)
        chart.update_xaxes(showticklabels=False)
        chart.update_yaxes(showticklabels=False)
    paid.update_traces(hoverinfo="skip", hovertemplate=None)
    left.plotly_chart(seen, width="stretch", key=f"{key}_grid")
    right.plotly_chart(paid, width="stretch", key=f"{key}_saliency")


# ------------------------------------------------------------------ inputs
def read_picture(data: bytes, name: str, from_visitor: bool):
    """The one door for a picture: a visitor's bytes are decoded in a worker process with a hard memory cap and a
    deadline (engines.core.images.read_image_isolated, issue 26); the page's own presets in this process."""
    return (read_image_isolated if from_visitor else read_image)(data, name)


def picture_input(prefix: str, presets: dict[str, Callable[[], Image.Image]]) -> tuple[bytes, str, bool] | None:
    """A preset, an upload or a camera photo, as (bytes, file name, from the visitor); None when nothing is chosen
    yet."""
    sources = {"preset": "Preset", "upload": "Upload a picture", "camera": "Take a photo"}
    source = st.radio("Picture", list(sources), format_func=sources.get, horizontal=True, key=f"{prefix}_source")
    if source == "preset":
        name = st.selectbox("Preset", list(presets), key=f"{prefix}_preset")
        return png_bytes(presets[name]()), f"{name}.png", False
    if source == "upload":
        upload = st.file_uploader(
            f"A picture ({', '.join(t.upper() for t in IMAGE_TYPES[:6])}; up to {MAX_UPLOAD_BYTES // 2**20} MB)",
            type=IMAGE_TYPES,
            key=f"{prefix}_upload",
        )
        if upload is None:
            st.caption("A photo or a screenshot; it is read in memory and never stored.")
            return None
        return upload.getvalue(), ui.upload_name(upload), True
    shot = st.camera_input("Take a photo", key=f"{prefix}_camera")
    if shot is None:
        st.caption("Allow the camera in your browser, then press **Take photo**.")
        return None
    return shot.getvalue(), "camera photo", True


def show_notes(loaded: Any) -> None:
    """What read_image changed, and the original size and mode."""
    width, height = loaded.original_size
    described = f"{loaded.format or 'image'}, {width:,}×{height:,} pixels, mode {loaded.original_mode}"
    changes = " ".join(loaded.notes)
    st.caption(f"**Read:** {described}. {changes}")


def digits_served() -> tuple[Any, str] | None:
    """The digits network shown and where it comes from: this session's training, else the network saved for the
    current settings, else the one shipped with the gallery (the page's defaults); None when there is none."""
    if DIGITS_RESULT in st.session_state:
        return st.session_state[DIGITS_RESULT], "trained in this session"
    try:
        wanted = [digits_store.request(digits_config())]
    except InputError:
        wanted = []
    for request in [*wanted, digits_store.request(PAGE_DIGITS)]:
        found = lifecycle.cached_model(request)
        if found is not None:
            return found[0], found[1]
    return None


def digits_model() -> Any:
    """The digits network shown (see :func:`digits_served`), or None."""
    served = digits_served()
    return served[0] if served is not None else None


def train_digits_button(label: str, key: str) -> None:
    """A button that starts training the digits CNN with the current settings (used from other tabs)."""

    def start() -> None:  # a callback: it runs before the next rerun draws the tabs, so it may switch them
        start_digits(digits_config())
        st.session_state[TAB_KEY] = DIGITS_TAB

    st.button(label, key=key, type="primary", on_click=start, disabled=running(DIGITS_JOB) is not None)


def read_digit(result: Any, grid: np.ndarray, key: str, truth: int | None = None) -> None:
    """Top-k probabilities, the grid the model sees and its saliency map, for one 8x8 grid."""
    probs = dg.predict_digits(result.model, grid)[0]
    top = np.argsort(-probs, kind="stable")[:TOP_K]
    pairs = [(dg.CLASSES[i], float(probs[i])) for i in top]
    best, confidence = pairs[0]
    verdict = ""
    if truth is not None:
        verdict = " ✅ right" if int(best) == truth else f" ❌ wrong (it is a {truth})"
    st.markdown(f"The CNN reads **{best}** with {ui.percent(confidence)} confidence.{verdict}")
    st.plotly_chart(probability_chart(pairs, f"Top {TOP_K} digits"), width="stretch", key=f"{key}_probs")
    grid_charts(grid, dg.saliency(result.model, grid), key)
    st.caption(
        "Saliency is the size of the gradient of the winning digit's score with respect to each pixel: bright cells "
        "are where a small change of ink would change the score most."
    )


# ------------------------------------------------------------------ settings that survive tab visits
def widget_defaults() -> dict[str, Any]:
    return {
        "ic_epochs": PAGE_DIGITS.epochs,
        "ic_width": PAGE_DIGITS.width,
        "ic_augment": PAGE_DIGITS.augment,
        "ic_seed": PAGE_DIGITS.seed,
        "ic_digit_source": "test",
        "ic_digit_index": 0,
        "ic_data_source": EXAMPLE,
        "ic_custom_epochs": 30,
        "ic_test_fraction": 0.25,
    }


def keep_widget_state() -> None:
    """Only the open tab is drawn and Streamlit forgets undrawn widgets' values: keep them (as textgen does)."""
    for key, value in widget_defaults().items():
        st.session_state[key] = st.session_state.get(key, value)


def digits_config() -> dg.DigitsConfig:
    """The digits settings as the widgets hold them."""
    state = st.session_state
    return replace(
        PAGE_DIGITS,
        epochs=int(state["ic_epochs"]),
        width=int(state["ic_width"]),
        augment=bool(state["ic_augment"]),
        seed=int(state["ic_seed"]),
    )


keep_widget_state()
harvest_jobs()
settings = ui.settings_key()
with st.sidebar:
    for job_key, where in ((DIGITS_JOB, DIGITS_TAB), (CUSTOM_JOB, CUSTOM_TAB)):
        active = running(job_key)
        if active is not None and st.session_state.get(TAB_KEY) != where:
            jobs.sidebar_progress(active, f"⏳ {active.title} (see **{where}**)")


# ------------------------------------------------------------------ ✏️ digits
def render_live(job: TrainingJob, other: str, stop_key: str, curve_key: str) -> None:
    """Progress, live curve and the Stop button of a running training (polled once a second)."""
    jobs.live_panel(
        job,
        stop_key=stop_key,
        stop_help="Ends training after the current epoch and keeps the weights so far.",
        draw_curve=lambda curve: curves(curve, other, curve_key),
        waiting="The curve appears after the first epoch…",
    )


def digits_settings() -> None:
    with st.expander("Training settings"):
        columns = st.columns(4)
        columns[0].number_input(
            "Epochs", 1, 200, step=5, key="ic_epochs", bind="query-params", help="Passes over the 808 training digits."
        )
        columns[1].number_input(
            "Network width",
            4,
            128,
            step=4,
            key="ic_width",
            help="Filters in the first block (twice that in the second).",
        )
        columns[2].number_input("Seed", 0, 1_000_000, step=1, key="ic_seed", help="The same seed, the same network.")
        columns[3].checkbox(
            "Augmentation",
            key="ic_augment",
            help="Random shifts, rotations, scaling and shear of each training digit: it reads new writers better.",
        )


def render_digits() -> None:
    ui.source_caption(
        "scikit-learn digits (UCI optical handwritten digits)",
        "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        "bundled with scikit-learn; first half (898 digits) trains, second half (899, other writers) tests",
        "CC BY 4.0",
        "a small CNN (two convolution blocks) trained with PyTorch: shipped with the gallery, or retrained here",
    )
    st.markdown(
        "1,797 digits written by 43 people, scanned and shrunk to 8×8 cells of 17 grey levels. As in scikit-learn's "
        "example, the first half trains and the second half, **written by other people**, tests. Press **Train the "
        "CNN** and watch its loss and accuracy, epoch by epoch (the last tenth of the training half is the "
        "validation part). The network below comes trained; change the settings and press **Train the CNN** to "
        "watch one learn."
    )
    job = running(DIGITS_JOB)
    digits_settings()
    if st.button("Train the CNN", type="primary", key="ic_train_digits", disabled=job is not None):
        try:
            config = digits_config().validate()
        except InputError as exc:
            st.error(str(exc))
        else:
            job = start_digits(config)
    if job is not None:
        st.info(f"**Training the digits CNN** ({job.context.epochs} epochs, width {job.context.width}).", icon="⏳")
        render_live(job, "val", "ic_stop_digits", "ic_live")
        return
    problem = jobs.outcome(st.session_state.get(DIGITS_JOB))
    if problem:
        st.error(problem)
    served = digits_served()
    if served is None:
        st.caption("Not trained yet: it takes about ten seconds on two idle CPU cores.")
        return
    result, source = served
    st.caption(f"**Network shown:** {source} ({result.model.config.epochs} epochs, width {result.model.config.width}).")
    render_digits_result(result)
    st.divider()
    render_try_digit(result)


def render_digits_result(result: dg.DigitsResult) -> None:
    baseline = result.svc_baseline  # fitted with the network, on the same split (never in the page script)
    tiles = st.columns(4)
    tiles[0].metric(
        "CNN test accuracy",
        ui.percent(result.accuracy),
        delta=f"{(result.accuracy - baseline[0]) * 100:+.1f} points vs SVC" if baseline else None,
        help=f"{result.n_test} digits by writers the CNN never saw.",
    )
    tiles[1].metric(
        "SVC baseline", ui.percent(baseline[0]) if baseline else "–", help="scikit-learn's example: SVC(gamma=0.001)."
    )
    svc_time = f"SVC: {baseline[1]:.2f} s" if baseline else "SVC: not fitted"
    tiles[2].metric("Training time", f"{result.train_seconds:.1f} s", help=svc_time)
    tiles[3].metric("Epochs", f"{len(result.curve)}", help=f"ended: {result.stopped_by}")
    wrong = len(result.mistakes)
    st.caption(
        f"{wrong} of {result.n_test} test digits misread; {result.model.parameter_count():,} weights; training "
        f"ended: {result.stopped_by}."
    )
    curves([asdict(p) for p in result.curve], "val", "ic_final")
    st.plotly_chart(
        confusion_chart(result.confusion, list(dg.CLASSES), "Confusion matrix on the test half"),
        width="stretch",
        key="ic_confusion",
    )
    st.caption("Off the diagonal: how often a true digit (row) was read as another (column).")
    if result.mistakes:
        st.markdown("#### Its most confident mistakes")
        split = digits_split()
        # Inline pictures (data URIs), not st.image: twelve media files per run, which a quick rerun (a click while
        # they load) drops before the browser fetched them, left broken pictures under load (the 8-session run).
        cells = "".join(
            '<figure style="margin:0; text-align:center">'
            f'<img src="{inline_png(digit_picture(split.x_test[m.index], scale=10))}" width="80" height="80" '
            f'alt="a {m.true_label} read as {m.predicted}"/><figcaption style="font-size:0.85rem; color:#6b7280">'
            f"a {m.true_label}, read as {m.predicted} ({ui.percent(m.confidence, 0)})</figcaption></figure>"
            for m in result.mistakes[:12]
        )
        st.markdown(
            f'<div style="display:grid; grid-template-columns:repeat(6, 1fr); gap:12px">{cells}</div>',
            unsafe_allow_html=True,
        )


def render_try_digit(result: dg.DigitsResult) -> None:
    st.markdown("#### Try it")
    split = digits_split()
    sources = {
        "test": "A test digit",
        "drawn": "A drawn digit (preset)",
        "upload": "Upload a photo",
        "camera": "Take a photo",
    }
    source = st.radio(
        "Digit", list(sources), format_func=sources.get, horizontal=True, key="ic_digit_source", bind="query-params"
    )
    if source == "test":

        def pick_random() -> None:
            st.session_state["ic_digit_index"] = int(np.random.default_rng().integers(len(split.x_test)))

        left, right = st.columns([3, 1])
        index = left.number_input(
            f"Test digit (0 to {len(split.x_test) - 1})", 0, len(split.x_test) - 1, step=1, key="ic_digit_index"
        )
        right.button("🎲 Random test digit", key="ic_random_digit", on_click=pick_random, width="stretch")
        grid, truth = split.x_test[int(index)], int(split.y_test[int(index)])
        st.image(digit_picture(grid), caption=f"Test digit {int(index)} (a {truth})")
        read_digit(result, grid, "ic_try", truth)
        return
    if source == "drawn":
        digit = st.selectbox("Drawn digit", ["0", "1", "2", "4", "7"], key="ic_drawn_digit")
        chosen: tuple[bytes, str, bool] | None = (png_bytes(drawn_digit(digit)), f"drawn {digit}.png", False)
    elif source == "upload":
        upload = st.file_uploader(
            "A photo of one handwritten digit (dark ink on light paper, or the reverse)",
            type=IMAGE_TYPES,
            key="ic_digit_upload",
        )
        chosen = (upload.getvalue(), ui.upload_name(upload), True) if upload is not None else None
    else:
        shot = st.camera_input("Photograph one handwritten digit", key="ic_digit_camera")
        chosen = (shot.getvalue(), "camera photo", True) if shot is not None else None
    if chosen is None:
        st.caption("Write one digit large and thick on plain paper; it is cropped, centred and shrunk to 8×8.")
        return
    try:
        loaded = read_picture(*chosen)
        grid = to_digit_grid(loaded.image)
    except InputError as exc:
        st.error(str(exc))
        return
    left, right = st.columns(2)
    left.image(loaded.image, caption="Your picture", width=160)
    right.image(digit_picture(grid), caption="Shrunk to 8×8 as the training digits were")
    show_notes(loaded)
    read_digit(result, grid, "ic_photo_digit")


# ------------------------------------------------------------------ ⚡ optimise
def render_optimise() -> None:
    st.markdown(
        "A trained network can be made cheaper to run without retraining it. **Fusion** folds each batch "
        "normalisation into the convolution before it (the same arithmetic, fewer operations); **TorchScript** "
        "freezes the network into a graph without Python in the loop; **int8 quantization** stores weights and "
        "activations as 8-bit integers instead of 32-bit floats (four times smaller, with scales calibrated on "
        f"training digits). The target: at least {opt.TARGET_SPEEDUP:g}× faster per image while losing at most "
        f"{opt.MAX_ACCURACY_DROP * 100:g} points of test accuracy. Every variant is timed in the same run, one "
        "thread, interleaved, so a busy machine slows them all alike."
    )
    result = digits_model()
    if result is None:
        st.info("Train the digits CNN first (in the **✏️ Digits** tab, or here).", icon="⚡")
        train_digits_button("Train the CNN", "ic_train_from_optimise")
        return
    stored = st.session_state.get(OPTIMISED_KEY)
    if st.button("Optimise", type="primary", key="ic_optimise"):
        split = digits_split()
        try:
            with ui.progress_status("Building and timing the variants") as progress:
                report = opt.optimize(result.model, split.x_test, split.y_test, split.x_train, progress=progress)
        except InputError as exc:
            st.error(str(exc))
            return
        stored = (id(result), report)
        st.session_state[OPTIMISED_KEY] = stored
    if stored is None or stored[0] != id(result):
        st.caption("Press **Optimise**: it takes a few seconds.")
        return
    render_report(stored[1])


def render_report(report: opt.OptimizationReport) -> None:
    rows = [
        {
            "variant": v.name,
            "what": v.description,
            "size (KB)": v.size_bytes / 1024,
            "ms per image": v.latency_ms,
            "speedup": v.speedup,
            "images/s (batch 64)": v.throughput,
            "test accuracy": v.accuracy,
            "meets the target": "✅" if v.meets_target else "",
        }
        for v in report.variants
    ]
    table = pd.DataFrame(rows)
    best = report.variant(report.recommended)

    def highlight(row: pd.Series) -> list[str]:
        colour = "background-color: #dcfce7" if row["variant"] == report.recommended else ""
        return [colour] * len(row)

    st.dataframe(
        table.style.apply(highlight, axis=1).format(
            {
                "size (KB)": "{:,.1f}",
                "ms per image": "{:.3f}",
                "speedup": "{:.2f}×",
                "images/s (batch 64)": "{:,.0f}",
                "test accuracy": "{:.2%}",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if report.recommended == "float32":
        st.warning(
            f"No variant met the target in this run ({opt.TARGET_SPEEDUP:g}× faster, at most "
            f"{opt.MAX_ACCURACY_DROP * 100:g} points lost): the machine may be busy; press **Optimise** again.",
            icon="⚠️",
        )
    else:
        st.success(
            f"**Recommended: {best.name}** ({best.description}): {best.speedup:.1f}× faster per image, "
            f"{best.size_ratio:.0%} of the size, accuracy {ui.percent(best.accuracy, 2)} "
            f"({-best.accuracy_drop * 100:+.2f} points).",
            icon="✅",
        )
    colours = {True: "#16a34a", False: "#94a3b8"}
    table["recommended"] = table["variant"] == report.recommended
    left, right = st.columns(2)
    for column, value, title, key in (
        (left, "ms per image", "Time per image (lower is better)", "ic_opt_latency"),
        (right, "size (KB)", "Size of the saved model", "ic_opt_size"),
    ):
        chart = px.bar(table, x="variant", y=value, color="recommended", color_discrete_map=colours, title=title)
        chart.update_layout(height=320, margin={"t": 40, "b": 10}, showlegend=False)
        column.plotly_chart(chart, width="stretch", key=key)
    st.caption(
        f"Timed on {report.threads} thread; int8 backend: {report.quantized_engine or 'none'}. For a network this "
        "small, one image costs less in arithmetic than in Python and framework dispatch, which is why fusing and "
        "scripting gain as much as int8 does; on bigger networks int8's smaller arithmetic dominates."
    )
    for note in report.notes:
        st.caption(f"Not built: {note}")


# ------------------------------------------------------------------ 📷 any photo
def render_photo() -> None:
    classifier, why = pretrained_classifier(settings)
    tr = transfer_module()
    if classifier is not None:
        ui.source_caption(
            "ImageNet-1k",
            "https://www.image-net.org/",
            "pretrained on it",
            "non-commercial research",
            classifier.notice,
        )
    else:
        spec = tr.MODELS[0]
        ui.source_caption(
            "scikit-learn digits",
            "",
            "bundled with scikit-learn",
            "CC BY 4.0",
            "the digits CNN trained in this page (no pretrained ImageNet classifier here)",
        )
        st.info(
            f"**No pretrained ImageNet classifier here.** This tab would use {spec.title} "
            f"(`{spec.hub_id}`), then ResNet-50, EfficientNet-B0 or ViT. {why}",
            icon="ℹ️",
        )
        st.markdown("Meanwhile, every picture is **read as a handwritten digit** by the digits CNN.")
    chosen = picture_input("ic_photo", photo_presets())
    if chosen is None:
        return
    try:
        loaded = read_picture(*chosen)
    except InputError as exc:
        st.error(str(exc))
        return
    show_notes(loaded)
    if classifier is not None:
        render_pretrained(classifier, loaded.image)
    else:
        render_as_digit(loaded.image)


def render_pretrained(classifier: Any, picture: Image.Image) -> None:
    preview = preprocessed_preview(picture, classifier.preprocess)
    try:
        with st.spinner("Classifying…"):
            pairs = classifier.predict(picture, k=TOP_K)
            heat = classifier.saliency(picture, classifier.class_index(pairs[0][0]))
    except InputError as exc:
        st.error(str(exc))
        return
    columns = st.columns(3)
    columns[0].image(picture, caption="Your picture", width="stretch")
    size = classifier.preprocess.size
    columns[1].image(preview, caption=f"What the model sees ({size}×{size}, before normalisation)", width="stretch")
    columns[2].image(overlay(preview, heat), caption=f"Saliency for “{pairs[0][0]}”", width="stretch")
    st.plotly_chart(probability_chart(pairs, f"Top {TOP_K} ImageNet classes"), width="stretch", key="ic_imagenet")
    st.caption(
        "Saliency by occlusion: a grey patch is slid over the picture, and the redder a region, the more hiding it "
        "lowers the top class's probability."
    )
    for note in classifier.notes:
        st.caption(note)


def render_as_digit(picture: Image.Image) -> None:
    st.markdown("#### Read as a handwritten digit")
    columns = st.columns(2)
    columns[0].image(picture, caption="Your picture", width=200)
    columns[1].image(
        preprocessed_preview(picture, Preprocess(size=224)), caption="Centre-cropped to a square", width=200
    )
    result = digits_model()
    if result is None:
        st.info("No digits CNN here: train it (about ten seconds on two idle cores).", icon="✏️")
        train_digits_button("Train the digits CNN", "ic_train_from_photo")
        return
    try:
        grid = to_digit_grid(picture)
    except InputError as exc:
        st.warning(str(exc), icon="✏️")
        return
    st.image(digit_picture(grid), caption="The picture as the 8×8 digit the CNN reads")
    read_digit(result, grid, "ic_photo_read")
    st.caption("The digits CNN always answers a digit, even for a photo of something else: check its confidence.")


# ------------------------------------------------------------------ 🧺 your own classes
def load_dataset(data: bytes, name: str, provenance: str) -> LoadedDataset:
    """Unpack a ZIP of class folders into a fresh temporary folder (removed when the dataset is dropped)."""
    workdir = tempfile.TemporaryDirectory(prefix="gallery-imageclf-")
    try:
        with ui.progress_status(f"Checking {name}") as progress:
            dataset = zipdata.read_class_zip(data, workdir=workdir.name, filename=name, progress=progress)
    except BaseException:
        workdir.cleanup()
        raise
    return LoadedDataset(dataset, workdir, provenance)


def custom_dataset() -> LoadedDataset | None:
    """The dataset picked in the panel (the built-in example or an upload), or None after saying why."""
    options = {EXAMPLE: "Built-in example: circles, squares, triangles", UPLOAD: "Upload a ZIP"}
    source = st.radio("Images", list(options), format_func=options.get, horizontal=True, key="ic_data_source")
    if source == EXAMPLE:
        seen: Any = (EXAMPLE, EXAMPLE_PER_CLASS)
        read, name, provenance = example_zip, "shapes.zip", "generated example (drawn in code by the gallery)"
    else:
        upload = st.file_uploader(
            f"A ZIP with one folder of images per class (up to {MAX_UPLOAD_BYTES // 2**20} MB)",
            type=["zip"],
            key="ic_zip",
        )
        if upload is None:
            st.caption("Or pick the built-in example above to try the tab without your own pictures.")
            return None
        seen = (ui.upload_name(upload), upload.size, upload.file_id)
        read, name, provenance = upload.getvalue, ui.upload_name(upload), "user upload"
    stored = st.session_state.get(DATASET_KEY)
    if stored is None or stored[0] != seen:
        try:
            stored = (seen, load_dataset(read(), name, provenance), "")
        except InputError as exc:
            stored = (seen, None, str(exc))
        st.session_state[DATASET_KEY] = stored
    _, loaded, error = stored
    if loaded is None:
        st.error(error)
    return loaded


def render_dataset(loaded: LoadedDataset) -> None:
    dataset = loaded.dataset
    counts = dataset.counts
    st.caption(f"{len(dataset):,} images in {len(counts)} classes.")
    frame = pd.DataFrame({"class": list(counts), "images": list(counts.values())})
    left, right = st.columns([2, 3])
    left.dataframe(frame, hide_index=True, width="stretch")
    chart = px.bar(frame, x="class", y="images", title="Images per class")
    chart.update_layout(height=260, margin={"t": 40, "b": 10})
    right.plotly_chart(chart, width="stretch", key="ic_counts")
    if dataset.skipped:
        st.warning(dataset.skipped_summary(), icon="🧹")
        with st.expander("Which files were skipped"):
            for reason, names in dataset.skipped_examples.items():
                shown = ", ".join(f"`{ui.upload_name(n)}`" for n in names)  # a code span: no escapes, no backticks
                st.markdown(f"- {ui.escape_markdown(reason)}: {shown}")
    firsts = {label: path for path, label in reversed(dataset.items)}
    columns = st.columns(min(len(firsts), 6))
    for i, (label, path) in enumerate(sorted(firsts.items())[:6]):
        columns[i].image(str(path), caption=dataset.class_names[label], width=96)


def custom_config(pretrained_found: bool) -> Any:
    """The custom-classes settings as the widgets hold them (the engine's defaults for the rest)."""
    tr = transfer_module()
    with st.expander("Training settings"):
        columns = st.columns(2)
        if pretrained_found:
            columns[0].caption("The logistic regression is fitted (L-BFGS) until it converges: no epochs to choose.")
        else:
            columns[0].number_input("Epochs of the small CNN", 1, 500, step=5, key="ic_custom_epochs")
        columns[1].slider("Held out per class", 0.1, 0.5, step=0.05, key="ic_test_fraction")
    state = st.session_state
    return replace(
        tr.CustomConfig(),
        cnn_epochs=int(state["ic_custom_epochs"]),
        test_fraction=float(state["ic_test_fraction"]),
        max_seconds=300.0,  # a shared server's budget; the example trains in seconds
    )


def render_custom() -> None:
    st.markdown(
        "Teach the classifier classes of your own: zip one folder of pictures per class (the folder names are the "
        "class names; 10 or more pictures per class work best) and upload it, or start with the built-in example. "
        "Part of each class is held out to measure the model on pictures it never saw."
    )
    with st.expander("How to lay out the ZIP"):
        st.code(EXPECTED_LAYOUT, language=None)
        st.caption(
            "PNG, JPEG, GIF, BMP, WebP or TIFF; one top folder around the class folders is fine; other files, hidden "
            "files and `__MACOSX` are skipped. Images are re-encoded into a temporary folder and deleted with your "
            "session; nothing is kept."
        )
    classifier, _ = pretrained_classifier(settings)
    how = (
        f"frozen {classifier.name} features + a logistic regression (seconds)"
        if classifier is not None
        else "a small CNN trained from scratch at 64×64 (no pretrained network here; see **📷 Any photo**)"
    )
    loaded = custom_dataset()
    job = running(CUSTOM_JOB)
    if loaded is not None:
        name = ui.escape_markdown(loaded.dataset.source or "Your images")
        licence = "yours" if loaded.provenance == "user upload" else "CC0 (made by the gallery)"
        ui.source_caption(name, "", loaded.provenance, licence, how)
        render_dataset(loaded)
    else:
        st.caption(f"**Model:** {how}.")
    config = custom_config(classifier is not None)
    if st.button("Train", type="primary", key="ic_train_custom", disabled=job is not None or loaded is None):
        try:
            config = config.validate()
        except InputError as exc:
            st.error(str(exc))
        else:
            tr = transfer_module()
            dataset = loaded.dataset

            def work(job: TrainingJob) -> Any:
                return tr.train_custom(dataset, config, job.report, job.stop, classifier=classifier)

            # Private: the visitor's own pictures; cancelled by the queue once no page shows it.
            job = jobs.start(
                f"imageclf/custom/{loaded.id}", "Training your classifier", work, private=True, context=loaded
            )
            st.session_state[CUSTOM_JOB] = job
    if job is not None:
        st.info(f"**Training on {len(job.context.dataset):,} images** ({how}).", icon="⏳")
        render_custom_live(job)
        return
    problem = jobs.outcome(st.session_state.get(CUSTOM_JOB))
    if problem:
        st.error(problem)
    trained: CustomTrained | None = st.session_state.get(CUSTOM_RESULT)
    if trained is None:
        return
    render_custom_result(trained)
    st.divider()
    render_try_custom(trained)


def render_custom_live(job: TrainingJob) -> None:
    jobs.live_panel(
        job,
        stop_key="ic_stop_custom",
        stop_help="Ends training after the current epoch and keeps the weights so far.",
    )


def render_custom_result(trained: CustomTrained) -> None:
    result = trained.result
    st.success(f"**Trained: {result.backbone}** ({result.stopped_by}).", icon="✅")
    for note in result.notes:
        st.caption(note)
    tiles = st.columns(4)
    tiles[0].metric("Held-out accuracy", ui.percent(result.accuracy), help=f"{result.n_test} pictures never trained on")
    tiles[1].metric("Chance", ui.percent(1 / len(result.class_names)), help="Guessing a class at random.")
    tiles[2].metric("Training time", f"{result.train_seconds:.1f} s")
    tiles[3].metric("Pictures", f"{result.n_train} + {result.n_test}", help="training + held out")
    if result.curve:
        step = "epoch" if result.model.kind == "small_cnn" else "L-BFGS iteration"
        curves([asdict(p) for p in result.curve], "test", "ic_custom_curve", step)
    st.plotly_chart(
        confusion_chart(result.confusion, list(result.class_names), "Confusion matrix on the held-out pictures"),
        width="stretch",
        key="ic_custom_confusion",
    )
    if result.mistakes:
        st.markdown("#### Held-out mistakes")
        columns = st.columns(6)
        for i, mistake in enumerate(result.mistakes[:12]):
            columns[i % 6].image(
                mistake.path,
                caption=f"{mistake.true_class}, read as {mistake.predicted} ({ui.percent(mistake.confidence, 0)})",
                width=96,
            )


def render_try_custom(trained: CustomTrained) -> None:
    st.markdown("#### Classify a new picture")
    model = trained.result.model
    dataset = trained.loaded.dataset
    _, held_out = dataset.split(model.config.test_fraction, model.config.seed)
    presets: dict[str, Callable[[], Image.Image]] = {}
    for number, (path, label) in enumerate(held_out[:12]):
        presets[f"Held-out picture {number + 1} ({dataset.class_names[label]})"] = (
            lambda p=path: Image.open(p).convert("RGB")  # a JPEG the gallery itself wrote into the temp folder
        )
    if trained.loaded.provenance.startswith("generated"):
        for kind in EXAMPLE_CLASSES:
            presets[f"A new {kind[:-1]}"] = lambda k=kind: shape_picture(k, np.random.default_rng(1000 + len(k)))
    chosen = picture_input("ic_custom_try", presets)
    if chosen is None:
        return
    try:
        loaded = read_picture(*chosen)
        pairs = model.predict(loaded.image, k=min(TOP_K, len(model.class_names)))
        heat = model.saliency(loaded.image, model.class_names.index(pairs[0][0]))
    except InputError as exc:
        st.error(str(exc))
        return
    show_notes(loaded)
    preview = preprocessed_preview(loaded.image, model.preprocess)
    columns = st.columns(3)
    columns[0].image(loaded.image, caption="Your picture", width=180)
    side = model.preprocess.size
    columns[1].image(preview.resize((180, 180)), caption=f"What the model sees ({side}×{side})")
    columns[2].image(overlay(preview, heat).resize((180, 180)), caption=f"Saliency for “{pairs[0][0]}”")
    st.markdown(f"It reads **{ui.escape_markdown(pairs[0][0])}** with {ui.percent(pairs[0][1])} confidence.")
    st.plotly_chart(probability_chart(pairs, "Your classes"), width="stretch", key="ic_custom_probs")


# ------------------------------------------------------------------ 🪪 model card
def render_card() -> None:
    result = digits_model()
    trained: CustomTrained | None = st.session_state.get(CUSTOM_RESULT)
    if result is None and trained is None:
        st.info(
            "No model trained yet: train the digits CNN in **✏️ Digits** or your own classes in "
            "**🧺 Your own classes**, and its card appears here.",
            icon="🪪",
        )
        return
    if result is not None:
        ui.model_card(dg.model_card(result), file_name="model-card-imageclf-digits.md")
    if trained is not None:
        if result is not None:
            st.divider()
        tr = transfer_module()
        ui.model_card(
            tr.model_card(trained.result, provenance=trained.loaded.provenance),
            file_name="model-card-imageclf-custom.md",
        )


TABS = {
    DIGITS_TAB: render_digits,
    OPTIMISE_TAB: render_optimise,
    PHOTO_TAB: render_photo,
    CUSTOM_TAB: render_custom,
    CARD_TAB: render_card,
}
ui.stateful_tabs(TABS, key=TAB_KEY)
