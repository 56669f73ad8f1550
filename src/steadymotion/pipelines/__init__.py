"""Pipelines: the compositions every interface (CLI, web UI, Python API, batch) calls.

- :func:`make_video` — preflight, animate, drift measurement as options of one call.
- :func:`animate` — the render step alone.
- :func:`repair_video` — measure drift, undo what was found (flicker, colour, jitter, joins), measure again.
- :func:`steadymotion.drift.analyze_video` and :func:`steadymotion.preflight.check_inputs` are
  pipelines of one step and live with their domains.
"""

from steadymotion.pipelines.animate import (
    AnimateResult, MakeResult, PreflightFailed, animate, fit_background, load_character, make_video, output_size,
    parse_background, parse_size,
)
from steadymotion.pipelines.repair import RepairResult, repair_video

__all__ = ["AnimateResult", "MakeResult", "PreflightFailed", "animate", "fit_background", "load_character", "make_video",
           "output_size", "parse_background", "parse_size", "RepairResult", "repair_video"]
