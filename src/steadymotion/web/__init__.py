"""``steadymotion web``: the whole product in a browser (Gradio), see :mod:`.app`.

The names below are imported on first use (PEP 562): a job's child process imports
:mod:`steadymotion.web.jobs`, which must not pay for importing Gradio (about 5 s here, more under load).
"""

from __future__ import annotations

__all__ = ["Limits", "WebApp", "build_app", "launch"]


def __getattr__(name: str):
    if name in ("build_app", "launch"):
        from steadymotion.web import app

        return getattr(app, name)
    if name in ("Limits", "WebApp"):
        from steadymotion.web import state

        return getattr(state, name)
    raise AttributeError(f"module 'steadymotion.web' has no attribute {name!r}")
