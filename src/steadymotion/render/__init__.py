"""Render backends. ``puppet`` (default): a layered 2D puppet rigged from the character image."""

from steadymotion.render.puppet import Pose2D, PuppetRenderer, part_transforms, rest_order
from steadymotion.render.rig import KP, KP_NAMES, PART, PARTS, Rig, build_rig, keypoints_from_body

__all__ = ["KP", "KP_NAMES", "PART", "PARTS", "Pose2D", "PuppetRenderer", "Rig", "build_rig",
           "keypoints_from_body", "part_transforms", "rest_order"]
