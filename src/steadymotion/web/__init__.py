"""``steadymotion web``: the whole product in a browser (Gradio), see :mod:`.app`."""

from steadymotion.web.app import Limits, WebApp, build_app, launch

__all__ = ["Limits", "WebApp", "build_app", "launch"]
