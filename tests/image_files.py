"""Images and ZIPs made by tests, in memory: every Pillow mode the image reader handles, broken files, hostile ZIPs.

Nothing binary is committed: each helper draws its picture (a gradient or shapes) and returns the encoded bytes.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image, ImageDraw

RED = (220, 30, 30)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """An image's bytes in a format (params go to Image.save)."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def rgb_picture(width: int = 64, height: int = 48, color: tuple[int, int, int] = RED) -> Image.Image:
    """A horizontal grey gradient with a coloured square in the middle (so orientation and colour are checkable)."""
    ramp = np.linspace(0, 255, width, dtype=np.float32)
    pixels = np.repeat(np.repeat(ramp[None, :, None], height, axis=0), 3, axis=2).astype(np.uint8)
    image = Image.fromarray(pixels)
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=color)
    return image


def picture(mode: str, width: int = 64, height: int = 48) -> Image.Image:
    """The RGB picture converted to a Pillow mode (L, LA, P, RGBA, CMYK, 1, ...)."""
    return rgb_picture(width, height).convert(mode)


def image_bytes(mode: str = "RGB", fmt: str = "PNG", width: int = 64, height: int = 48, **params) -> bytes:
    """A picture in a given mode and format."""
    return encode(picture(mode, width, height), fmt, **params)


def gradient_16bit_png(width: int = 256, height: int = 16) -> bytes:
    """A 16-bit grayscale PNG (mode I;16) ramping from 0 to 65535 left to right."""
    ramp = np.linspace(0, 65535, width).astype(np.uint16)
    return encode(Image.fromarray(np.repeat(ramp[None, :], height, axis=0)), "PNG")


def float_tiff(low: float = 0.0, high: float = 1.0, width: int = 64, height: int = 16) -> bytes:
    """A 32-bit float TIFF (mode F) ramping from low to high left to right."""
    ramp = np.linspace(low, high, width, dtype=np.float32)
    return encode(Image.fromarray(np.repeat(ramp[None, :], height, axis=0)), "TIFF")


def transparent_png(width: int = 40, height: int = 40) -> bytes:
    """RGBA: fully transparent (black underneath) except an opaque red square in the middle."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(*RED, 255))
    return encode(image, "PNG")


def palette_png_with_transparency(width: int = 40, height: int = 40) -> bytes:
    """Mode P whose index 0 (black) is transparent, with a red square (index 1) in the middle."""
    image = Image.new("P", (width, height), 0)
    image.putpalette([0, 0, 0, *RED] + [0, 0, 0] * 254)
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=1)
    return encode(image, "PNG", transparency=0)


def animated(fmt: str = "GIF", frames: int = 3, width: int = 32, height: int = 32) -> bytes:
    """An animation whose frame i is filled with a different colour (frame 0 red)."""
    colors = [RED, (30, 200, 30), (30, 30, 220), (200, 200, 30)]
    images = [Image.new("RGB", (width, height), colors[i % len(colors)]) for i in range(frames)]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=100, loop=0)


def exif_rotated_jpeg(width: int = 60, height: int = 40, orientation: int = 6) -> bytes:
    """A JPEG stored width x height whose EXIF says to rotate it (6: 90° clockwise)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(rgb_picture(width, height), "JPEG", exif=exif.tobytes(), quality=90)


def large_jpeg(width: int = 9000, height: int = 6000) -> bytes:
    """A big photo-sized JPEG that is quick to make: one colour and a rectangle."""
    image = Image.new("RGB", (width, height), (40, 90, 160))
    ImageDraw.Draw(image).rectangle((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill=RED)
    return encode(image, "JPEG", quality=70)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size but carries no pixels (what a decompression bomb's header looks like)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IEND", b"")


def truncated(data: bytes) -> bytes:
    """The first half of a file (a download that stopped midway)."""
    return data[: len(data) // 2]


def noisy_png(width: int = 64, height: int = 64, seed: int = 0) -> bytes:
    """Random pixels: a PNG that does not compress, so truncating it cuts into the pixel data."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels), "PNG")


# --- ZIPs ------------------------------------------------------------------------------------------------


def make_zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP holding the given names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def class_entries(classes: dict[str, int], *, prefix: str = "", fmt: str = "PNG", size: int = 24) -> dict[str, bytes]:
    """``{prefix + class/img_i.ext: bytes}``: each class a different colour, each image a different shade."""
    palette = [RED, (30, 160, 30), (30, 60, 200), (200, 160, 30), (120, 30, 160)]
    ext = {"PNG": "png", "JPEG": "jpg"}[fmt]
    entries = {}
    for c, (name, count) in enumerate(classes.items()):
        base = np.array(palette[c % len(palette)], dtype=np.int32)
        for i in range(count):
            color = tuple(int(v) for v in np.clip(base + 7 * i, 0, 255))
            entries[f"{prefix}{name}/img_{i}.{ext}"] = encode(Image.new("RGB", (size, size), color), fmt)
    return entries


def zip_with_symlink(entries: dict[str, bytes], link_name: str, target: str = "/etc/passwd") -> bytes:
    """A ZIP whose entry ``link_name`` is a Unix symbolic link to ``target``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        info = zipfile.ZipInfo(link_name)
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, target)
    return buffer.getvalue()


def _central_entries(data: bytes):
    """(offset, name) of each central-directory record."""
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        yield offset, data[offset + 46 : offset + 46 + name_length].decode()
        offset = data.find(b"PK\x01\x02", offset + 46)


def mark_encrypted(data: bytes, name: str) -> bytes:
    """The ZIP with ``name`` flagged as password-protected (bit 0 of its flags, local and central headers)."""
    patched = bytearray(data)
    for offset, entry in _central_entries(data):
        if entry == name:
            patched[offset + 8] |= 0x01
            local = struct.unpack_from("<I", data, offset + 42)[0]
            patched[local + 6] |= 0x01
    return bytes(patched)


def understate_size(data: bytes, name: str, claimed: int) -> bytes:
    """The ZIP with ``name``'s uncompressed size in both headers replaced by ``claimed`` (a lying header)."""
    patched = bytearray(data)
    for offset, entry in _central_entries(data):
        if entry == name:
            struct.pack_into("<I", patched, offset + 24, claimed)
            local = struct.unpack_from("<I", data, offset + 42)[0]
            struct.pack_into("<I", patched, local + 22, claimed)
    return bytes(patched)
