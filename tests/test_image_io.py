"""Image reading: EXIF orientation, alpha, greyscale, 16-bit, and bad files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage

from steadymotion.errors import ImageTooLargeError, InputNotFoundError, NotAnImageError
from steadymotion.io.image import read_image, write_image


def _marked(w=60, h=40) -> np.ndarray:
    img = np.full((h, w, 3), 128, np.uint8)
    img[:10, :10] = (255, 0, 0)  # red top-left mark
    return img


def test_exif_orientation_is_applied(tmp_path):
    # given a JPEG stored sideways with EXIF orientation 6 ("rotate 90 CW to display"), as phones write
    stored = _marked()
    exif = PILImage.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    PILImage.fromarray(stored).save(path, exif=exif, quality=95)
    # when read
    img = read_image(path)
    # then it is upright: rotated 90 degrees clockwise, the mark now top-right
    assert img.rgb.shape == (60, 40, 3)
    assert img.rgb[:8, -8:, 0].mean() > 200 and img.rgb[:8, -8:, 1].mean() < 60


def test_rgba_keeps_alpha(tmp_path):
    rgba = np.dstack([_marked(), np.full((40, 60), 255, np.uint8)])
    rgba[20:, :, 3] = 0
    path = tmp_path / "cutout.png"
    PILImage.fromarray(rgba).save(path)
    img = read_image(path)
    assert img.alpha is not None and img.alpha[30, 5] == 0 and img.alpha[5, 5] == 255
    assert img.rgb[5, 5].tolist() == [255, 0, 0]


def test_opaque_alpha_is_dropped(tmp_path):
    rgba = np.dstack([_marked(), np.full((40, 60), 255, np.uint8)])
    path = tmp_path / "opaque.png"
    PILImage.fromarray(rgba).save(path)
    assert read_image(path).alpha is None


def test_greyscale_becomes_rgb(tmp_path):
    path = tmp_path / "grey.png"
    PILImage.fromarray(np.full((40, 60), 77, np.uint8)).save(path)
    img = read_image(path)
    assert img.rgb.shape == (40, 60, 3) and (img.rgb == 77).all()


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    grey16 = np.zeros((40, 60), np.uint16)
    grey16[:, 30:] = 65535
    grey16[:, :10] = 32768
    path = tmp_path / "deep.png"
    PILImage.fromarray(grey16).save(path)
    img = read_image(path)
    assert img.rgb[0, 45, 0] == 255 and img.rgb[0, 15, 0] == 0 and 126 <= img.rgb[0, 5, 0] <= 129


def test_palette_with_transparency(tmp_path):
    p = PILImage.new("P", (60, 40), 0)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    p.paste(1, (0, 0, 30, 40))
    p.info["transparency"] = 0
    path = tmp_path / "pal.png"
    p.save(path, transparency=0)
    img = read_image(path)
    assert img.alpha is not None and img.alpha[0, 45] == 0 and img.alpha[0, 5] == 255
    assert img.rgb[0, 5].tolist() == [255, 0, 0]


def test_write_image_roundtrip(tmp_path):
    out = write_image(tmp_path / "x.png", _marked())
    assert (read_image(out).rgb == _marked()).all()


def test_real_reference_images(media):
    for name, size in (("mooreanimateanyone__anyone-3.png", (614, 922)), ("mimicmotion__demo1.jpg", (1080, 1920))):
        img = read_image(media(name))
        assert img.size == size and img.rgb.dtype == np.uint8


def test_bad_images(tmp_path):
    with pytest.raises(InputNotFoundError):
        read_image(tmp_path / "missing.png")
    (tmp_path / "empty.png").touch()
    with pytest.raises(NotAnImageError, match="empty"):
        read_image(tmp_path / "empty.png")
    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(NotAnImageError, match="not an image"):
        read_image(tmp_path / "text.png")
    PILImage.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "tiny.png")
    with pytest.raises(NotAnImageError, match="at least"):
        read_image(tmp_path / "tiny.png")
    good = tmp_path / "cut.jpg"
    PILImage.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(good, quality=90)
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    with pytest.raises(NotAnImageError, match="damaged or truncated"):
        read_image(good)


def test_huge_image_is_refused(tmp_path):
    path = tmp_path / "huge.png"
    PILImage.new("L", (20000, 20), 0).save(path)
    with pytest.raises(ImageTooLargeError, match="20000x20"):
        read_image(path)
