"""The puppet as a :class:`~steadymotion.render.base.Backend`: rig once, draw a plan frame by frame."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from steadymotion.render.base import Scene
from steadymotion.render.puppet.renderer import Pose2D, PuppetRenderer
from steadymotion.render.puppet.rig import Rig, build_rig


class PuppetBackend:
    """CPU puppet renderer; needs no model weights."""

    name = "puppet"

    def prepare(self, rgb: np.ndarray, alpha: np.ndarray | None = None, *, source: str = "image") -> Rig:
        return build_rig(rgb, alpha=alpha, source=source)

    def save(self, character: Rig, path) -> None:
        character.save(path)

    def load(self, path) -> Rig:
        return Rig.load(path)

    def render(self, character: Rig, plan, scene: Scene) -> Iterator[np.ndarray]:
        renderer = PuppetRenderer(character, scene.size, plan.base, background=scene.background)
        frames = iter(scene.frames) if scene.frames is not None else None
        for i in range(len(plan)):
            pose = Pose2D(plan.keypoints[i], float(plan.scale[i]), tuple(int(x) for x in plan.order[i]), plan.camera[i],
                          None if plan.face is None else plan.face[i],
                          0.0 if plan.head_roll is None else float(plan.head_roll[i]))
            out = renderer.render(pose, coverage=scene.adjust is not None,
                                  background=next(frames) if frames is not None else None)
            yield out if scene.adjust is None else scene.adjust(out, renderer.last_coverage)
