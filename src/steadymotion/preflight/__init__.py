"""Preflight: check a character image and a motion reference *before* any generation.

The checks and their calibrated thresholds are in :mod:`.check`; the scene pass and the puppet's
view of the character image in :mod:`.measures`.
"""

from steadymotion.preflight.check import (
    ARM_CONTACT, CAMERA_MIN_S, CAMERA_SPEED, CAMERA_ZOOM, CLUTTER_WARN, FAST_LIMB_DEG_S, FAST_MIN_S, HAIR_ON_ARM,
    HAND_ENCLOSED, HAND_IN_BODY, HANDS_HIDDEN_MIN_S, IMAGE_ASPECT_RANGE, IMAGE_SIDE_RANGE, KLING_MAX_S, MIN_DURATION_S,
    MULTI_SHARE, SKIRT_RATIO, SPIN_DEG_S, SPIN_MIN_S, TURN_AWAY_MIN_S, VIDEO_SIDE_RANGE, CheckReport, check_inputs,
)

__all__ = [
    "ARM_CONTACT", "CAMERA_MIN_S", "CAMERA_SPEED", "CAMERA_ZOOM", "CLUTTER_WARN", "FAST_LIMB_DEG_S", "FAST_MIN_S",
    "HAIR_ON_ARM", "HANDS_HIDDEN_MIN_S", "HAND_ENCLOSED", "HAND_IN_BODY", "IMAGE_ASPECT_RANGE", "IMAGE_SIDE_RANGE",
    "KLING_MAX_S", "MIN_DURATION_S", "MULTI_SHARE", "SKIRT_RATIO", "SPIN_DEG_S", "SPIN_MIN_S", "TURN_AWAY_MIN_S",
    "VIDEO_SIDE_RANGE", "CheckReport", "check_inputs",
]
