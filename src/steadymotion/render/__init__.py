"""Render backends behind one seam (:mod:`.base`): ``puppet`` (default, CPU, no weights) today.

>>> backend = get_backend("puppet")      # doctest: +SKIP
>>> character = backend.prepare(rgb)     # once per character
>>> frames = backend.render(character, plan, Scene(size=(720, 1280)))
"""

from __future__ import annotations

import importlib

from steadymotion.errors import InvalidOptionError
from steadymotion.render.base import Backend, PreparedCharacter, Scene

#: Backend name -> "module:class". A generative backend adds one line here and one module.
BACKENDS: dict[str, str] = {"puppet": "steadymotion.render.puppet.backend:PuppetBackend"}
DEFAULT_BACKEND = "puppet"


def get_backend(name: str = DEFAULT_BACKEND) -> Backend:
    """An instance of the backend called ``name`` (its module is imported only now)."""
    if name not in BACKENDS:
        raise InvalidOptionError(f"--backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)()


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Backend", "PreparedCharacter", "Scene", "get_backend"]
