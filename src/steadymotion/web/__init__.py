"""``steadymotion web``: the whole product in a browser (Gradio), see :mod:`.app`."""

from steadymotion.web.app import build_app, launch
from steadymotion.web.state import Limits, WebApp

__all__ = ["Limits", "WebApp", "build_app", "launch"]
