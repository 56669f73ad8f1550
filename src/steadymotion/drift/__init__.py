"""The drift meter: what drifted, when, and how badly, in any video (ours or another generator's).

:func:`analyze_video` (:mod:`.analyze`) runs the measurements (:mod:`.meter`), names the series
(:mod:`.series`), finds and scores events (:mod:`.events`) and reports them (:mod:`.report`).
"""

from steadymotion.drift.analyze import DriftReport, analyze_video
from steadymotion.drift.events import DriftEvent
from steadymotion.drift.series import KINDS, SEVERITIES

__all__ = ["KINDS", "SEVERITIES", "DriftEvent", "DriftReport", "analyze_video"]
