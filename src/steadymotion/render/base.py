"""The renderer seam: what every backend takes and gives.

A backend turns a character and a :class:`~steadymotion.motion.plan.MotionPlan` into frames. The
plan is backend-neutral (joints per output frame, draw order, camera); the character is whatever
the backend prepared from the master image (the puppet's rig; a generative backend's reference
latents), exposing at least its :class:`~steadymotion.types.RestPose` so the plan can be made.

Backends live one per module (:mod:`steadymotion.render.puppet`; generative ones later, each
importing its optional dependencies inside the module and failing with the exact ``pip install``
line when they are missing) and are found by name with :func:`steadymotion.render.get_backend`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from steadymotion.types import RestPose


@dataclass
class Scene:
    """Where the character is drawn.

    Attributes
    ----------
    size : (width, height)
        Output frame size in pixels.
    background : None, ndarray (3,) float32 or ndarray (H, W, 3) uint8
        ``None``: the character image's own scene (person removed); a colour in [0, 1]; or an image
        already fitted to ``size``.
    frames : iterable of ndarray (H, W, 3) uint8, optional
        A moving background, one frame per plan frame at ``size`` (a background clip, or in replace
        mode the reference video with its person removed); it replaces ``background``, and the
        plan's camera does not move it (it is already the camera's view).
    adjust : callable(frame, coverage) -> frame, optional
        Called with each drawn frame and the character's coverage ``(H, W) float32`` in [0, 1];
        returns the frame to output (replace mode matches the figure to the scene's light).
    """

    size: tuple[int, int]
    background: np.ndarray | None = None
    frames: Iterable[np.ndarray] | None = None
    adjust: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


@runtime_checkable
class PreparedCharacter(Protocol):
    """A character a backend has prepared (built once, reused for every clip)."""

    image: np.ndarray  # (H, W, 3) uint8: the master image
    notes: list[str]

    @property
    def size(self) -> tuple[int, int]: ...

    @property
    def rest_pose(self) -> RestPose: ...


@runtime_checkable
class Backend(Protocol):
    """A renderer: ``prepare`` a character once, then ``render`` any number of plans with it."""

    name: str

    def prepare(self, rgb: np.ndarray, alpha: np.ndarray | None = None, *, source: str = "image") -> PreparedCharacter:
        """Build the backend's character from a master image (``alpha``: its own transparency)."""
        ...

    def render(self, character: PreparedCharacter, plan, scene: Scene) -> Iterator[np.ndarray]:
        """The frames of ``plan`` as ``(H, W, 3) uint8`` RGB at ``scene.size``, one per plan frame, in order."""
        ...
