"""Motion planning: kinematics, retargeting a reference onto a character, keyframes, feet, camera."""

from steadymotion.motion.directives import CameraDirectives, camera_path, parse_camera
from steadymotion.motion.kinematics import fit_base
from steadymotion.motion.plan import MotionPlan, plan_motion

__all__ = ["CameraDirectives", "MotionPlan", "camera_path", "fit_base", "parse_camera", "plan_motion"]
