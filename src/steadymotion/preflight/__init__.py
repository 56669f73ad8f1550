"""Preflight: check a character image and a motion reference *before* any generation.

The checks and their calibrated thresholds are in :mod:`.check`; the scene pass in :mod:`.measures`.
"""

from steadymotion.preflight.check import (
    CAMERA_MIN_S, CAMERA_SPEED, CAMERA_ZOOM, CLUTTER_WARN, FAST_LIMB_DEG_S, FAST_MIN_S, HANDS_HIDDEN_MIN_S,
    IMAGE_ASPECT_RANGE, IMAGE_SIDE_RANGE, KLING_MAX_S, MIN_DURATION_S, MULTI_SHARE, SPIN_DEG_S, SPIN_MIN_S,
    TURN_AWAY_MIN_S, VIDEO_SIDE_RANGE, CheckReport, check_inputs,
)

__all__ = [
    "CAMERA_MIN_S", "CAMERA_SPEED", "CAMERA_ZOOM", "CLUTTER_WARN", "FAST_LIMB_DEG_S", "FAST_MIN_S", "HANDS_HIDDEN_MIN_S",
    "IMAGE_ASPECT_RANGE", "IMAGE_SIDE_RANGE", "KLING_MAX_S", "MIN_DURATION_S", "MULTI_SHARE", "SPIN_DEG_S", "SPIN_MIN_S",
    "TURN_AWAY_MIN_S", "VIDEO_SIDE_RANGE", "CheckReport", "check_inputs",
]
