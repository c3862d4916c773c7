"""blueprints/people/service.process_avatar on its own: what comes out of a picture."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from blueprints.people.service import AVATAR_SIZE, process_avatar
from errors import BadRequest


def _jpeg(img: Image.Image, orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    img.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def _halves(width: int, height: int) -> Image.Image:
    """Red on the left half, blue on the right."""
    img = Image.new("RGB", (width, height), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, width // 2, height))
    return img


def _colour(img: Image.Image, xy) -> str:
    r, g, b = img.convert("RGB").getpixel(xy)[:3]
    return "red" if r > 200 and b < 60 else "blue" if b > 200 and r < 60 else f"{(r, g, b)}"


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    # Orientation 6: the camera was turned; viewers rotate 90 degrees clockwise,
    # so the left (red) half ends up on top.
    out = Image.open(io.BytesIO(process_avatar(_jpeg(_halves(400, 400), orientation=6))))
    assert out.size == (AVATAR_SIZE, AVATAR_SIZE)
    assert _colour(out, (128, 20)) == "red" and _colour(out, (128, 236)) == "blue"
    unturned = Image.open(io.BytesIO(process_avatar(_jpeg(_halves(400, 400)))))
    assert _colour(unturned, (20, 128)) == "red" and _colour(unturned, (236, 128)) == "blue"


def test_a_wide_picture_is_cropped_to_its_centre():
    img = Image.new("RGB", (900, 300), (255, 0, 0))
    img.paste((0, 0, 255), (300, 0, 600, 300))  # the middle third is blue
    out = Image.open(io.BytesIO(process_avatar(_jpeg(img))))
    assert out.size == (AVATAR_SIZE, AVATAR_SIZE)
    assert {_colour(out, (x, 128)) for x in (10, 128, 245)} == {"blue"}


def test_transparency_is_kept():
    img = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    out = io.BytesIO()
    img.save(out, "PNG")
    result = Image.open(io.BytesIO(process_avatar(out.getvalue())))
    assert result.mode == "RGBA" and result.getpixel((5, 5))[3] == 0


def test_an_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = Image.open(io.BytesIO(process_avatar(out.getvalue())))
    assert getattr(result, "n_frames", 1) == 1 and _colour(result, (10, 10)) == "red"


def test_garbage_is_a_bad_request():
    with pytest.raises(BadRequest):
        process_avatar(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
