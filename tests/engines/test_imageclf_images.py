"""The image classifier's input layer: safe image decoding, model inputs, digit grids, class ZIPs and folders."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engines.core.errors import InputError
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.imageclf import images, zipdata
from engines.imageclf.images import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Preprocess,
    load_image,
    preprocessed_preview,
    read_image,
    to_batch,
    to_digit_grid,
    to_tensor,
)
from engines.imageclf.zipdata import from_folder, iter_batches, read_class_zip
from tests import image_files as files

# --- decoding ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("RGB", "PNG"),
        ("RGB", "JPEG"),
        ("RGB", "BMP"),
        ("RGB", "WEBP"),
        ("RGB", "TIFF"),
        ("P", "GIF"),
        ("L", "PNG"),
        ("L", "JPEG"),
        ("LA", "PNG"),
        ("P", "PNG"),
        ("1", "PNG"),
        ("1", "BMP"),
        ("1", "TIFF"),
        ("CMYK", "JPEG"),
        ("CMYK", "TIFF"),
        ("RGBA", "TIFF"),
        ("I", "TIFF"),
        ("F", "TIFF"),
    ],
)
def test_every_mode_and_format_becomes_the_same_rgb_picture(mode, fmt):
    loaded = read_image(files.image_bytes(mode, fmt, 64, 48), f"pic.{fmt.lower()}")
    pixels = np.asarray(loaded.image, dtype=np.int16)
    assert loaded.image.mode == "RGB"
    assert loaded.image.size == loaded.original_size == (64, 48)
    # the gradient runs dark -> light left to right in every mode (not black, not clipped to white)
    left, right = pixels[2, 1].mean(), pixels[2, -2].mean()
    assert left < 40 and right > 200, (left, right)
    if mode not in ("RGB", "P", "1") and fmt != "WEBP":
        assert loaded.original_mode == mode
        assert any(note.startswith("Converted from") for note in loaded.notes)


def test_rgb_needs_no_notes_and_load_image_is_the_thin_form():
    data = files.image_bytes("RGB", "PNG")
    loaded = read_image(data, "plain.png")
    assert loaded.notes == ()
    assert loaded.format == "PNG"
    assert np.array_equal(np.asarray(load_image(data)), np.asarray(loaded.image))


def test_cmyk_jpeg_keeps_its_colours():
    loaded = read_image(files.image_bytes("CMYK", "JPEG", 64, 48, quality=95), "print.jpg")
    r, g, b = loaded.image.getpixel((32, 24))  # the red square
    assert r > 180 and g < 80 and b < 80
    assert "Converted from CMYK to RGB." in loaded.notes


def test_transparent_background_becomes_white_not_black():
    loaded = read_image(files.transparent_png(), "logo.png")
    assert loaded.image.getpixel((1, 1)) == (255, 255, 255)
    assert loaded.image.getpixel((20, 20)) == files.RED
    assert "Filled transparent areas with white." in loaded.notes


def test_palette_transparency_becomes_white():
    loaded = read_image(files.palette_png_with_transparency(), "icon.png")
    assert loaded.original_mode == "P"
    assert loaded.image.getpixel((1, 1)) == (255, 255, 255)
    assert loaded.image.getpixel((20, 20)) == files.RED


def test_16_bit_png_is_scaled_over_the_whole_8_bit_range():
    loaded = read_image(files.gradient_16bit_png(256, 16), "scan.png")
    row = np.asarray(loaded.image)[8, :, 0].astype(int)
    assert loaded.original_mode.startswith("I;16")
    assert row[0] == 0 and row[-1] == 255
    assert 120 <= row[128] <= 135  # the middle of the ramp is mid-grey, not white
    assert np.all(np.diff(row) >= 0) and len(np.unique(row)) > 200
    assert "Scaled 16-bit values to 8 bits." in loaded.notes


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (-5.0, 1000.0)])
def test_float_tiff_is_scaled_over_the_whole_8_bit_range(low, high):
    loaded = read_image(files.float_tiff(low, high), "depth.tif")
    row = np.asarray(loaded.image)[4, :, 0].astype(int)
    assert loaded.original_mode == "F"
    assert row[0] == 0 and row[-1] == 255 and np.all(np.diff(row) >= 0)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animation_uses_the_first_frame_and_says_so(fmt):
    loaded = read_image(files.animated(fmt, frames=3), f"anim.{fmt.lower()}")
    r, g, b = loaded.image.getpixel((16, 16))
    assert r > 180 and g < 80 and b < 80  # frame 0 is red; later frames are green and blue
    assert any("first of 3 frames" in note for note in loaded.notes), loaded.notes


def test_multi_page_tiff_uses_the_first_page():
    loaded = read_image(files.animated("TIFF", frames=4), "pages.tif")
    assert loaded.image.getpixel((16, 16)) == files.RED
    assert any("first of 4 pages" in note for note in loaded.notes)


def test_exif_orientation_turns_the_photo_upright():
    loaded = read_image(files.exif_rotated_jpeg(60, 40, orientation=6), "phone.jpg")
    assert loaded.image.size == (40, 60) == loaded.original_size
    assert any("EXIF" in note for note in loaded.notes)
    # stored: dark on the left, light on the right; rotated 90° clockwise: dark at the top
    pixels = np.asarray(loaded.image.convert("L"), dtype=int)
    assert pixels[1, 2] < 60 and pixels[-2, 2] > 190


def test_large_photo_is_downscaled_cheaply_with_a_note():
    loaded = read_image(files.large_jpeg(9000, 6000), "big.jpg")
    assert loaded.original_size == (9000, 6000)
    assert loaded.image.size == (1024, 683)
    assert "Downscaled from 9000×6000 to 1024×683." in loaded.notes
    assert loaded.image.getpixel((512, 341))[0] > 180  # the red rectangle survived


def test_max_side_is_respected_and_aspect_kept():
    loaded = read_image(files.image_bytes("RGB", "PNG", 400, 100), "wide.png", max_side=100)
    assert loaded.image.size == (100, 25)


def test_above_pillows_warning_threshold_is_accepted_without_a_warning(recwarn):
    data = files.encode(Image.new("1", (10_000, 9_000), 1), "PNG")  # 90 MP: Pillow warns above 89.5 MP
    loaded = read_image(data, "huge.png", max_side=256)
    assert loaded.image.size == (256, 230)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


@pytest.mark.parametrize(("size", "match"), [((20_000, 20_000), "pixels"), ((11_000, 10_000), "110 megapixels")])
def test_decompression_bomb_is_refused_before_decoding(size, match):
    with pytest.raises(InputError, match=match):
        read_image(files.png_header_only(*size), "bomb.png")


def test_pixel_limit_is_a_parameter():
    with pytest.raises(InputError, match="limit is 1 megapixels"):
        read_image(files.image_bytes("RGB", "PNG", 1200, 1000), "x.png", max_pixels=1_000_000)


def test_the_global_pillow_limit_is_left_alone():
    before = Image.MAX_IMAGE_PIXELS
    read_image(files.image_bytes(), "x.png")
    with pytest.raises(InputError):
        read_image(files.png_header_only(20_000, 20_000), "bomb.png")
    assert before == Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    ("data", "name", "match"),
    [
        (b"", "empty.png", "is empty"),
        (b"just some text, renamed\n" * 10, "notes.png", "not an image Pillow can read"),
        (b"%PDF-1.7 ...", "doc.png", "is a PDF"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "IMG_0001.HEIC", "HEIC"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png", "damaged"),
    ],
)
def test_unreadable_files_are_input_errors(data, name, match):
    with pytest.raises(InputError, match=match):
        read_image(data, name)


@pytest.mark.parametrize(
    "make",
    [
        lambda: files.noisy_png(),
        lambda: files.encode(Image.fromarray(np.random.default_rng(1).integers(0, 255, (80, 80, 3), np.uint8)), "JPEG"),
        lambda: files.image_bytes("P", "GIF", 200, 200),
        lambda: files.image_bytes("RGB", "BMP", 200, 200),
        lambda: files.image_bytes("RGB", "TIFF", 200, 200),
        lambda: files.image_bytes("RGB", "WEBP", 200, 200),
    ],
    ids=["png", "jpeg", "gif", "bmp", "tiff", "webp"],
)
def test_truncated_images_are_refused_not_half_decoded(make):
    with pytest.raises(InputError, match="damaged or incomplete"):
        read_image(files.truncated(make()), "cut.img")


def test_oversize_upload_names_the_limit():
    with pytest.raises(InputError, match=f"limit is {MAX_UPLOAD_BYTES / 2**20:.0f} MB"):
        read_image(b"\x89PNG" + bytes(MAX_UPLOAD_BYTES), "huge.png")


def test_formats_that_run_programs_are_never_opened():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    with pytest.raises(InputError, match="not an image"):
        read_image(eps, "drawing.eps")


def test_reading_images_does_not_import_torch():
    code = (
        "import sys; from engines.imageclf import images, zipdata;"
        "from tests.image_files import image_bytes; images.read_image(image_bytes());"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- model inputs ----------------------------------------------------------------------------------------------


def test_to_tensor_normalises_with_the_imagenet_statistics():
    grey = Image.new("RGB", (300, 200), (128, 128, 128))
    tensor = to_tensor(grey)
    assert tuple(tensor.shape) == (3, 224, 224)
    assert str(tensor.dtype) == "torch.float32"
    expected = [(128 / 255 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True)]
    assert np.allclose(tensor.mean(dim=(1, 2)).numpy(), expected, atol=1e-4)


def test_crop_keeps_the_centre_and_pad_keeps_everything():
    image = Image.new("RGB", (400, 100), (0, 0, 255))
    ImageDraw.Draw(image).rectangle((0, 0, 40, 100), fill=(255, 0, 0))  # a red band on the far left
    crop = np.asarray(preprocessed_preview(image, Preprocess(size=64)))
    pad = np.asarray(preprocessed_preview(image, Preprocess(size=64, fit="pad")))
    assert crop.shape == pad.shape == (64, 64, 3)
    assert (crop[..., 0] > 200).sum() == 0  # the left band was cropped away
    assert (pad[..., 0] > 200).sum() > 0  # ... and kept when padding
    assert tuple(pad[0, 32]) == Preprocess().pad_color  # padding is the mean colour (zero after normalising)


def test_to_batch_stacks_the_same_tensors_as_to_tensor():
    pictures = [files.rgb_picture(64, 48), files.rgb_picture(30, 90, color=(0, 200, 0))]
    preprocess = Preprocess(size=32, fit="pad")
    batch = to_batch(pictures, preprocess)
    assert tuple(batch.shape) == (2, 3, 32, 32)
    for i, picture in enumerate(pictures):
        assert np.allclose(batch[i].numpy(), to_tensor(picture, preprocess).numpy())
    with pytest.raises(InputError, match="no images"):
        to_batch([], preprocess)


@pytest.mark.parametrize(
    "kwargs", [{"size": 4}, {"fit": "stretch"}, {"crop_ratio": 0.0}, {"std": (0.2, 0.0, 0.2)}, {"mean": (0.5,)}]
)
def test_preprocess_rejects_bad_settings(kwargs):
    with pytest.raises(InputError, match="Preprocess"):
        Preprocess(**kwargs)


def test_preview_of_a_transparent_picture_is_on_white():
    preview = preprocessed_preview(Image.new("RGBA", (50, 50), (0, 0, 0, 0)), Preprocess(size=16))
    assert preview.mode == "RGB" and preview.getpixel((8, 8)) == (255, 255, 255)


# --- digits ------------------------------------------------------------------------------------------------------


def _render_digit(grid: np.ndarray, *, light_background: bool = True) -> bytes:
    """A scikit-learn digit drawn 8x larger, dark on white, off-centre on a larger page, as a PNG."""
    ink = (grid * 255 / 16).astype(np.uint8)
    cells = Image.fromarray(255 - ink if light_background else ink).resize((64, 64), Image.Resampling.NEAREST)
    page = Image.new("L", (200, 160), 255 if light_background else 0)
    page.paste(cells, (100, 30))
    return files.encode(page, "PNG")


def test_digit_grid_round_trips_sklearn_digits():
    from sklearn.datasets import load_digits

    digits = load_digits().images[:100]
    errors, correlations = [], []
    for grid in digits:
        back = to_digit_grid(load_image(_render_digit(grid)))
        assert back.shape == (8, 8) and back.min() >= 0 and back.max() <= 16
        errors.append(np.abs(back - grid).mean())
        correlations.append(np.corrcoef(back.ravel(), grid.ravel())[0, 1])
    assert np.mean(errors) < 1.5, np.mean(errors)
    assert np.mean(correlations) > 0.9
    # digits already centred come back almost exactly; the others are centred, so shifted by one column
    assert np.mean(np.array(errors) < 0.25) > 0.25


def test_digit_grid_ignores_which_way_round_the_colours_are():
    from sklearn.datasets import load_digits

    grid = load_digits().images[7]
    dark_on_light = to_digit_grid(load_image(_render_digit(grid, light_background=True)))
    light_on_dark = to_digit_grid(load_image(_render_digit(grid, light_background=False)))
    assert np.allclose(dark_on_light, light_on_dark, atol=0.5)


@pytest.mark.parametrize("pen", [4, 30])
def test_drawn_digits_are_recognised_by_a_model_of_sklearn_digits(pen):
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    data = load_digits()
    model = SVC(gamma=0.001).fit(data.data, data.target)
    strokes = {
        1: [(200, 60), (200, 340)],
        7: [(120, 70), (290, 70), (170, 340)],
        4: [(240, 340), (240, 60), (110, 250), (300, 250)],
    }
    for digit, points in strokes.items():
        photo = Image.new("RGB", (400, 400), (235, 230, 220))  # off-white paper, dark-blue pen
        ImageDraw.Draw(photo).line(points, fill=(30, 30, 60), width=pen, joint="curve")
        assert model.predict(to_digit_grid(photo).reshape(1, -1))[0] == digit
    zero = Image.new("RGB", (400, 400), (235, 230, 220))
    ImageDraw.Draw(zero).ellipse((120, 60, 280, 340), outline=(30, 30, 60), width=pen)
    assert model.predict(to_digit_grid(zero).reshape(1, -1))[0] == 0


def test_blank_picture_has_no_digit():
    with pytest.raises(InputError, match="No digit found"):
        to_digit_grid(Image.new("RGB", (100, 100), (250, 250, 250)))


# --- class ZIPs ----------------------------------------------------------------------------------------------------


def _tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.fixture
def workdir(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    return work


def _outside(tmp_path, workdir):
    return [p for p in _tree(tmp_path) if not p.startswith(workdir.name)]


def test_good_zip_with_top_folder_and_junk(tmp_path, workdir):
    entries = files.class_entries({"dogs": 4, "cats": 3}, prefix="pets/")
    entries["__MACOSX/pets/cats/._img_0.png"] = b"\x00\x05\x16\x07 resource fork"
    entries["pets/.DS_Store"] = b"\x00\x00\x00\x01Bud1"
    entries["pets/cats/Thumbs.db"] = b"\xd0\xcf\x11\xe0"
    entries["pets/README.txt"] = b"my pets"
    entries["pets/dogs/broken.png"] = files.truncated(files.noisy_png())
    entries["pets/dogs/evil name; rm -rf.png"] = files.image_bytes()
    before = _outside(tmp_path, workdir)
    reports = []
    dataset = read_class_zip(
        files.make_zip(entries), workdir=workdir, filename="pets.zip", progress=lambda f, m: reports.append((f, m))
    )
    assert dataset.class_names == ("cats", "dogs")
    assert dataset.counts == {"cats": 3, "dogs": 5}
    assert dataset.skipped == {zipdata.SKIP_SYSTEM: 3, zipdata.SKIP_NOT_IMAGE: 1, zipdata.SKIP_UNREADABLE: 1}
    assert dataset.skipped_examples[zipdata.SKIP_UNREADABLE] == ("pets/dogs/broken.png",)
    assert "Skipped 5 files" in dataset.skipped_summary()
    one = zipdata.ImageFolderDataset(
        dataset.root, dataset.class_names, dataset.items, {zipdata.SKIP_NOT_IMAGE: 1}, {}, dataset.source
    )
    assert one.skipped_summary() == "Skipped 1 file: 1 file that is not an image."
    # everything written lies inside workdir, under generated names; nothing appeared anywhere else
    assert _outside(tmp_path, workdir) == before
    written = {p for p in workdir.rglob("*") if p.is_file()}
    assert written == {path for path, _ in dataset.items}
    assert all(path.is_relative_to(dataset.root) and dataset.root.parent == workdir for path in written)
    assert not any("evil" in str(path) or "img_" in str(path) for path in written)
    # stored images are the decoded pictures, labelled by their folder
    cat = next(path for path, label in dataset.items if label == 0)
    assert Image.open(cat).getpixel((5, 5))[1] > 140  # cats were drawn green, dogs red
    assert reports[-1][0] == 1.0 and all(0 <= f <= 1 for f, _ in reports)


def test_zip_without_a_top_folder_and_deeper_folders(workdir):
    entries = files.class_entries({"a": 2, "b": 2})
    entries["a/more/deep.png"] = files.image_bytes()
    dataset = read_class_zip(files.make_zip(entries), workdir=workdir)
    assert dataset.counts == {"a": 3, "b": 2}


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("../evil.png", r"'\.\.'"),
        ("/abs.png", "absolute path"),
        ("C:/win.png", "drive letter"),
        ("a/../../x.png", r"\.\."),
    ],
)
def test_path_traversal_refuses_the_zip(tmp_path, workdir, name, match):
    data = files.make_zip({**files.class_entries({"a": 2, "b": 2}), name: files.image_bytes()})
    before = _tree(tmp_path)
    with pytest.raises(InputError, match=match):
        read_class_zip(data, workdir=workdir)
    assert _tree(tmp_path) == before


def test_symlink_entry_refuses_the_zip(tmp_path, workdir):
    data = files.zip_with_symlink(files.class_entries({"a": 2, "b": 2}), "a/passwd.png")
    with pytest.raises(InputError, match="symbolic link"):
        read_class_zip(data, workdir=workdir)
    assert _tree(workdir) == []


def test_password_protected_entry_refuses_the_zip(workdir):
    data = files.mark_encrypted(files.make_zip(files.class_entries({"a": 2, "b": 2})), "b/img_1.png")
    with pytest.raises(InputError, match="password"):
        read_class_zip(data, workdir=workdir)


def test_zip_bomb_by_total_size(workdir):
    data = files.make_zip({**files.class_entries({"a": 2, "b": 2}), "a/zeros.bmp": bytes(5_000_000)})
    assert len(data) < 50_000
    with pytest.raises(InputError, match="unpacks to 5 MB"):
        read_class_zip(data, workdir=workdir, max_total_bytes=1_000_000)
    assert _tree(workdir) == []


def test_zip_bomb_by_compression_ratio(workdir):
    data = files.make_zip({**files.class_entries({"a": 2, "b": 2}), "a/zeros.bmp": bytes(5_000_000)})
    with pytest.raises(InputError, match=r"expands .* times"):
        read_class_zip(data, workdir=workdir)


@pytest.mark.parametrize("claimed", [10, 500])
def test_lying_size_header_is_caught_while_reading(workdir, claimed):
    data = files.understate_size(files.make_zip(files.class_entries({"a": 2, "b": 2})), "a/img_0.png", claimed)
    with pytest.raises(InputError, match=r"damaged|declares"):
        read_class_zip(data, workdir=workdir)
    assert _tree(workdir) == []  # the half-made folder is removed


def test_read_entry_stops_at_the_byte_budget():
    data = files.make_zip({"a/x.png": bytes(100_000)})
    with (
        zipfile.ZipFile(io.BytesIO(data)) as archive,
        pytest.raises(InputError, match="more data than its header declares"),
    ):
        zipdata._read_entry(archive, archive.getinfo("a/x.png"), budget=1000)


def test_class_with_one_image_is_named(workdir):
    data = files.make_zip(files.class_entries({"cats": 3, "dogs": 1}))
    with pytest.raises(InputError, match=r"`dogs` \(1\).*Add images to them or remove"):
        read_class_zip(data, workdir=workdir)


def test_class_left_with_one_readable_image_is_named(workdir):
    entries = files.class_entries({"cats": 3, "dogs": 1})
    entries["dogs/bad.png"] = b"not really a png"
    with pytest.raises(InputError, match="`dogs` \\(1\\)"):
        read_class_zip(files.make_zip(entries), workdir=workdir)
    assert _tree(workdir) == []


def test_single_class_is_refused(workdir):
    with pytest.raises(InputError, match="only one class folder \\(`cats`\\)"):
        read_class_zip(files.make_zip(files.class_entries({"cats": 4}, prefix="top/")), workdir=workdir)


def test_zip_without_images(workdir):
    data = files.make_zip({"notes/a.txt": b"hello", "__MACOSX/._a.txt": b"x", "b.png": files.image_bytes()})
    with pytest.raises(InputError, match=r"no usable images.*1 images outside any class folder"):
        read_class_zip(data, workdir=workdir)


@pytest.mark.parametrize(
    ("data", "match"),
    [(b"", "empty"), (b"this is not a zip", "not a ZIP"), (b"PK\x03\x04" + b"\x00" * 60, "not a ZIP")],
)
def test_not_a_zip(workdir, data, match):
    with pytest.raises(InputError, match=match):
        read_class_zip(data, workdir=workdir)


def test_truncated_zip(workdir):
    data = files.make_zip(files.class_entries({"a": 3, "b": 3}))
    with pytest.raises(InputError, match="not a ZIP"):
        read_class_zip(files.truncated(data), workdir=workdir)


def test_too_many_files_and_classes(workdir):
    data = files.make_zip(files.class_entries({"a": 3, "b": 3, "c": 2}, size=4))
    with pytest.raises(InputError, match="limit is 5"):
        read_class_zip(data, workdir=workdir, max_files=5)
    with pytest.raises(InputError, match="3 class folders; the limit is 2"):
        read_class_zip(data, workdir=workdir, max_classes=2)


# --- datasets: split, streaming, folders ------------------------------------------------------------------------


@pytest.fixture
def dataset(workdir):
    return read_class_zip(files.make_zip(files.class_entries({"a": 2, "b": 5, "c": 8}, size=16)), workdir=workdir)


def test_split_is_stratified_and_repeatable(dataset):
    train, test = dataset.split(test_fraction=0.25, seed=3)
    assert sorted(train + test) == sorted(dataset.items)
    for label, count in enumerate([2, 5, 8]):
        in_test = sum(1 for _, y in test if y == label)
        assert 1 <= in_test <= count - 1
    assert sum(1 for _, y in test if y == 2) == 2
    assert dataset.split(test_fraction=0.25, seed=3) == (train, test)
    assert dataset.split(test_fraction=0.25, seed=4) != (train, test)
    with pytest.raises(InputError, match="test fraction"):
        dataset.split(test_fraction=1.0)


def test_iter_batches_streams_from_disk(dataset, monkeypatch):
    opened = []
    real = zipdata._load_item
    monkeypatch.setattr(zipdata, "_load_item", lambda path: opened.append(path) or real(path))
    batches = iter_batches(dataset.items, 4, Preprocess(size=16))
    assert opened == []  # lazy: nothing read before the first batch is asked for
    x, y = next(batches)
    assert tuple(x.shape) == (4, 3, 16, 16) and str(x.dtype) == "torch.float32"
    assert len(opened) == 4  # only one batch was decoded
    rest = list(batches)
    assert [len(labels) for _, labels in rest] == [4, 4, 3]
    labels = [int(v) for v in y] + [int(v) for _, labels in rest for v in labels]
    assert labels == [label for _, label in dataset.items]
    assert len(opened) == len(dataset)


def test_iter_batches_shuffles_with_a_seed(dataset):
    labels = [int(v) for _, y in iter_batches(dataset.items, 5, Preprocess(size=8), seed=1) for v in y]
    assert sorted(labels) == sorted(label for _, label in dataset.items)
    assert labels != [label for _, label in dataset.items]
    with pytest.raises(InputError, match="batch size"):
        iter_batches(dataset.items, 0)


def test_from_folder_uses_the_same_rules(tmp_path):
    root = tmp_path / "data"
    entries = files.class_entries({"ships": 3, "cars": 2}, prefix="set/")
    entries["set/ships/.hidden.png"] = files.image_bytes()
    entries["set/cars/bad.jpg"] = b"nope"
    entries["set/LICENSE"] = b"CC-BY"
    for name, content in entries.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    before = _tree(tmp_path)
    dataset = from_folder(root)
    assert _tree(tmp_path) == before  # nothing copied or written
    assert dataset.class_names == ("cars", "ships")
    assert dataset.counts == {"cars": 2, "ships": 3}
    assert dataset.skipped == {zipdata.SKIP_SYSTEM: 1, zipdata.SKIP_NOT_IMAGE: 1, zipdata.SKIP_UNREADABLE: 1}
    assert all(path.is_relative_to(root) for path, _ in dataset.items)
    x, y = next(iter_batches(dataset.items, 8, Preprocess(size=8)))
    assert tuple(x.shape) == (5, 3, 8, 8) and sorted(int(v) for v in y) == [0, 0, 1, 1, 1]
    (root / "set/cars/img_1.png").unlink()
    with pytest.raises(InputError, match="`cars` \\(1\\)"):
        from_folder(root)
    with pytest.raises(InputError, match="not a folder"):
        from_folder(tmp_path / "missing")


def test_decompression_warning_filter_does_not_leak():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_image(files.image_bytes(), "x.png")
        warnings.warn("still visible", Image.DecompressionBombWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["still visible"]


def test_module_constants_are_consistent():
    assert images.MAX_PIXELS > 50_000_000  # a 50-megapixel photo is accepted
    assert all(images.is_image_name(f"x{ext.upper()}") for ext in images.IMAGE_EXTENSIONS)
    assert not images.is_image_name("x.heic")
