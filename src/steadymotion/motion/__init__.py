"""Motion planning: retargeting a reference onto a rig, keyframes, feet, camera directives."""

from steadymotion.motion.directives import CameraDirectives, parse_camera
from steadymotion.motion.plan import ORIENTATIONS, MotionPlan, fit_base, plan_motion

__all__ = ["ORIENTATIONS", "CameraDirectives", "MotionPlan", "fit_base", "parse_camera", "plan_motion"]
