"""The puppet backend (default, CPU, no model weights): the character image rigged as a layered 2D
puppet (:mod:`.rig`, :mod:`.cutout`, :mod:`.fill`, :mod:`.mesh`) and deformed per frame
(:mod:`.renderer`). Every pixel of the character comes from the master image, so identity cannot drift.
"""

from steadymotion.render.puppet.backend import PuppetBackend
from steadymotion.render.puppet.renderer import Pose2D, PuppetRenderer, part_transforms, rest_order
from steadymotion.render.puppet.rig import RIG_VERSION, Rig, build_rig

__all__ = ["RIG_VERSION", "Pose2D", "PuppetBackend", "PuppetRenderer", "Rig", "build_rig", "part_transforms", "rest_order"]
