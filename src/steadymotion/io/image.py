"""Still images in, as upright 8-bit RGB plus an optional alpha mask (Pillow).

Handles what real character images throw at a pipeline: EXIF orientation (phone photos),
transparency (RGBA, LA, palette with a transparent colour), greyscale, and 16-bit or float
samples (scaled to 8 bits by their actual range, not clipped).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from steadymotion.errors import ImageTooLargeError, InputNotFoundError, NotAnImageError, OutputError
from steadymotion.io.atomic import atomic_output

#: Largest image accepted (the long side); Kling's own limit is 65536 but nothing here needs more.
MAX_IMAGE_SIDE = 16384
MIN_IMAGE_SIDE = 16


@dataclass(frozen=True)
class Image:
    """A decoded image.

    Attributes
    ----------
    rgb : ndarray, (H, W, 3) uint8
        Colour pixels, upright (EXIF orientation applied).
    alpha : ndarray, (H, W) uint8, or None
        Opacity (255 = opaque) when the file had transparency, else ``None``.
    path : Path or None
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    path: Path | None = None

    def __post_init__(self) -> None:
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3 or self.rgb.dtype != np.uint8:
            raise ValueError(f"rgb must be (H, W, 3) uint8, got {self.rgb.shape} {self.rgb.dtype}")
        if self.alpha is not None and self.alpha.shape != self.rgb.shape[:2]:
            raise ValueError(f"alpha must be {self.rgb.shape[:2]}, got {self.alpha.shape}")

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``."""
        return (self.rgb.shape[1], self.rgb.shape[0])


def _to_uint8(a: np.ndarray) -> np.ndarray:
    """Scale integer or float samples of any depth to uint8 by the type's (or data's) range."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.uint8) * 255
    if np.issubdtype(a.dtype, np.floating):
        finite = a[np.isfinite(a)]
        hi = float(finite.max()) if finite.size else 1.0
        scale = 255.0 if hi <= 1.0 else 255.0 / hi
        return np.clip(np.nan_to_num(a) * scale, 0, 255).round().astype(np.uint8)
    hi = float(a.max()) if a.size else 0.0
    full = 65535.0 if hi > 255 else 255.0  # 16-bit data in a 32-bit container ("I" mode) is common
    return np.clip(a.astype(np.float64) * (255.0 / full), 0, 255).round().astype(np.uint8)


def read_image(path: str | Path) -> Image:
    """Read an image file as upright RGB uint8 (+ alpha).

    Raises
    ------
    InputNotFoundError, NotAnImageError, ImageTooLargeError
    """
    p = Path(path)
    if not p.exists():
        raise InputNotFoundError(f"image {str(p)!r} not found; check the path")
    if p.is_dir():
        raise InputNotFoundError(f"{str(p)!r} is a folder, not an image file")
    if p.stat().st_size == 0:
        raise NotAnImageError(f"image {str(p)!r} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(p) as im:
                w, h = im.size
                if max(w, h) > MAX_IMAGE_SIDE:
                    raise ImageTooLargeError(
                        f"image {p.name!r} is {w}x{h}; the longest side may be at most {MAX_IMAGE_SIDE} px — downscale it"
                    )
                im.load()
                im = ImageOps.exif_transpose(im)
                return _decode(im, p)
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ImageTooLargeError(f"image {p.name!r} is too large to decode safely; downscale it") from None
    except UnidentifiedImageError:
        raise NotAnImageError(f"{str(p)!r} is not an image Pillow can read (PNG, JPEG, WebP, TIFF ...)") from None
    except OSError as exc:
        raise NotAnImageError(f"image {str(p)!r} is damaged or truncated ({exc}); re-export it") from None


def _decode(im: PILImage.Image, p: Path) -> Image:
    w, h = im.size
    if min(w, h) < MIN_IMAGE_SIDE:
        raise NotAnImageError(f"image {p.name!r} is only {w}x{h} px; give an image at least {MIN_IMAGE_SIDE} px on each side")
    alpha = None
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        alpha = np.asarray(im.getchannel("A"))
        alpha = _to_uint8(alpha)
        if alpha.min() == 255:
            alpha = None
        im = im.convert("RGB") if im.mode != "LA" else im.convert("L")
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        gray = _to_uint8(np.asarray(im))
        rgb = np.repeat(gray[..., None], 3, axis=2)
    elif im.mode in ("L", "1"):
        rgb = np.repeat(_to_uint8(np.asarray(im))[..., None], 3, axis=2)
    elif im.mode == "RGB":
        rgb = np.asarray(im)
        if rgb.dtype != np.uint8:
            rgb = _to_uint8(rgb)
    else:  # CMYK, YCbCr, LAB, HSV, 16-bit RGB variants
        rgb = np.asarray(im.convert("RGB"))
    return Image(rgb=np.ascontiguousarray(rgb), alpha=alpha, path=p)


def write_image(path: str | Path, rgb: np.ndarray, alpha: np.ndarray | None = None) -> Path:
    """Write an RGB(A) uint8 image atomically; the format follows the extension."""
    arr = rgb if alpha is None else np.dstack([rgb, alpha])
    with atomic_output(path) as tmp:
        try:
            PILImage.fromarray(np.ascontiguousarray(arr)).save(tmp, format=_format_for(Path(path)))
        except (KeyError, ValueError) as exc:
            raise OutputError(f"cannot write image {str(path)!r}: {exc}") from None
    return Path(path)


def _format_for(p: Path) -> str:
    ext = p.suffix.lower().lstrip(".")
    return {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tif": "TIFF", "tiff": "TIFF", "bmp": "BMP"}.get(ext, "PNG")
