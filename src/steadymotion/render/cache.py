"""Prepared characters kept between runs, found again by the image's content.

Preparing a master image (the puppet's rig: segmentation, part labels, texture-synthesis fills)
takes 3-20 s on a laptop CPU. Animating the same image again, with another reference clip, prompt
or camera, is the common case (a creator tries several dances on one character), so the prepared
character is stored once and read back in a fraction of a second.

The key is SHA-256 over the backend's name, the code's fingerprint and the image's shape and pixels
(and its own alpha); where entries live, how they are bounded and shared: :mod:`steadymotion.cache`.
Only backends that can ``save`` and ``load`` what they prepare are cached.
"""

from __future__ import annotations

import hashlib
import zipfile

import numpy as np

from steadymotion.cache import ENV, cache_dir, code_fingerprint, forget, lookup, store
from steadymotion.errors import SteadyMotionError

SUFFIX = ".prepared"


def cache_key(backend: str, rgb: np.ndarray, alpha: np.ndarray | None) -> str:
    h = hashlib.sha256()
    h.update(f"{backend}\0{code_fingerprint()}\0{rgb.shape}\0{rgb.dtype}".encode())
    h.update(np.ascontiguousarray(rgb).data)
    if alpha is not None:
        h.update(f"\0alpha{alpha.shape}{alpha.dtype}".encode())
        h.update(np.ascontiguousarray(alpha).data)
    return h.hexdigest()


def prepare_cached(backend, rgb: np.ndarray, alpha: np.ndarray | None = None, *, source: str = "image",
                   note: bool = True):
    """``backend.prepare(rgb, alpha, source=source)``, read from the cache when it was prepared before.

    With ``note`` the returned character's ``notes`` say when it came from the cache or could not
    be cached (leave it off for a character that is stored for good). Errors of ``prepare`` itself
    (no person in the image, …) are raised as they are and never cached.
    """
    folder = cache_dir()
    if folder is None or not (hasattr(backend, "save") and hasattr(backend, "load")):
        return backend.prepare(rgb, alpha, source=source)
    name = f"{backend.name}-{cache_key(backend.name, rgb, alpha)}{SUFFIX}"
    path = lookup(name)
    if path is not None:
        try:
            character = backend.load(path)
        except (SteadyMotionError, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            forget(name)  # damaged or from an older format: rebuilt below
        else:
            if note:
                character.notes = [*character.notes, f"prepared character read from the cache ({folder}); "
                                                      f"set {ENV}=off to rebuild it every time"]
            return character
    character = backend.prepare(rgb, alpha, source=source)
    why = store(name, lambda tmp: backend.save(character, tmp))
    if why is not None and note:
        character.notes = [*character.notes, f"{why}; the prepared character was not kept. "
                                              f"Set {ENV} to a writable folder, or to off"]
    return character
