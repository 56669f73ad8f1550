"""Core data types shared by every layer: plain dataclasses over NumPy arrays.

Shapes are written as ``(T, J, C)``: T frames, J joints, C channels. Coordinates are image pixels
(origin top-left) of the source video as displayed (rotation applied). Missing data is NaN, never
``(0, 0)``; presence masks say which frames hold a part.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from steadymotion.errors import InputNotFoundError, InvalidPoseDataError
from steadymotion.skeleton import N_BODY, N_FACE, N_HAND

POSE_FILE_VERSION = 1


def _check(name: str, a: np.ndarray, shape: tuple, dtype) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
        want = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
        raise InvalidPoseDataError(f"{name} must have shape {want}, got {a.shape}")
    if a.dtype != dtype:
        a = a.astype(dtype)
    return a


@dataclass
class PoseSequence:
    """Body, hand and face landmarks of one person over a video.

    Attributes
    ----------
    body : ndarray, (T, 33, 4) float32
        MediaPipe Pose landmarks: ``x, y`` in pixels, ``z`` relative depth in the same pixel scale
        as ``x`` (origin at the hips, smaller is nearer the camera), ``visibility`` in [0, 1].
        Names in :data:`steadymotion.skeleton.BODY_NAMES`.
    hands : ndarray, (T, 2, 21, 3) float32
        Hand landmarks ``x, y, z`` (z relative to the wrist); index 0 is the subject's **left**
        hand, 1 the right.
    face : ndarray, (T, 478, 3) float32
        Face mesh with iris (468-472 right iris, 473-477 left iris), ``x, y, z``.
    body_present : ndarray, (T,) bool
    hands_present : ndarray, (T, 2) bool
    face_present : ndarray, (T,) bool
        True where the part was detected (or filled, see ``*_filled``); elsewhere values are NaN.
    times : ndarray, (T,) float64
        Presentation time of each frame in seconds (variable frame rate honoured).
    fps : Fraction
        Nominal frame rate of the source.
    size : tuple of int
        ``(width, height)`` of the source frames in pixels.
    body_filled, face_filled : ndarray, (T,) bool
    hands_filled : ndarray, (T, 2) bool
        True where a short dropout was filled by interpolation rather than detected.
    source : str
        Where the motion came from (a video path), informational.
    world : ndarray, (T, 33, 3) float32, optional
        MediaPipe's 3D world landmarks (BlazePose GHUM: metres, origin between the hips, axes as
        the image's: x right, y down, z away from the camera), where the body was tracked; NaN
        elsewhere. ``None`` for motion that has none (older files, BVH captures).
    """

    body: np.ndarray
    hands: np.ndarray
    face: np.ndarray
    body_present: np.ndarray
    hands_present: np.ndarray
    face_present: np.ndarray
    times: np.ndarray
    fps: Fraction
    size: tuple[int, int]
    body_filled: np.ndarray | None = None
    hands_filled: np.ndarray | None = None
    face_filled: np.ndarray | None = None
    source: str = ""
    world: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.body = _check("body", self.body, (None, N_BODY, 4), np.float32)
        T = self.body.shape[0]
        self.hands = _check("hands", self.hands, (T, 2, N_HAND, 3), np.float32)
        self.face = _check("face", self.face, (T, N_FACE, 3), np.float32)
        self.body_present = _check("body_present", self.body_present, (T,), bool)
        self.hands_present = _check("hands_present", self.hands_present, (T, 2), bool)
        self.face_present = _check("face_present", self.face_present, (T,), bool)
        self.times = _check("times", self.times, (T,), np.float64)
        for name, shape in (("body_filled", (T,)), ("hands_filled", (T, 2)), ("face_filled", (T,))):
            value = getattr(self, name)
            setattr(self, name, np.zeros(shape, bool) if value is None else _check(name, value, shape, bool))
        if self.world is not None:
            self.world = _check("world", self.world, (T, N_BODY, 3), np.float32)
        self.fps = Fraction(self.fps)
        if self.fps <= 0:
            raise InvalidPoseDataError(f"fps must be positive, got {self.fps}")
        w, h = (int(v) for v in self.size)
        if w <= 0 or h <= 0:
            raise InvalidPoseDataError(f"size must be positive (width, height), got {self.size}")
        self.size = (w, h)
        if T > 1 and np.any(np.diff(self.times) <= 0):
            raise InvalidPoseDataError("times must be strictly increasing")
        for name, arr, mask in (
            ("body", self.body[..., :3], self.body_present),
            ("face", self.face, self.face_present),
        ):
            if np.isfinite(arr[~mask]).any():
                raise InvalidPoseDataError(f"{name} has values in frames where {name}_present is False (use NaN)")
        if np.isfinite(self.hands[~self.hands_present]).any():
            raise InvalidPoseDataError("hands has values where hands_present is False (use NaN)")

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def empty(cls, n: int, fps: Fraction, size: tuple[int, int], times: np.ndarray | None = None) -> PoseSequence:
        """A sequence of ``n`` frames with nothing detected (all NaN)."""
        if times is None:
            times = np.arange(n, dtype=np.float64) / float(fps)
        return cls(
            body=np.full((n, N_BODY, 4), np.nan, np.float32),
            hands=np.full((n, 2, N_HAND, 3), np.nan, np.float32),
            face=np.full((n, N_FACE, 3), np.nan, np.float32),
            body_present=np.zeros(n, bool),
            hands_present=np.zeros((n, 2), bool),
            face_present=np.zeros(n, bool),
            times=times,
            fps=fps,
            size=size,
        )

    @classmethod
    def concatenate(cls, parts: list[PoseSequence]) -> PoseSequence:
        """Join consecutive pieces of one video (e.g. chunks extracted in parallel)."""
        if not parts:
            raise InvalidPoseDataError("nothing to concatenate")
        first = parts[0]
        arrays = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(cls)
            if isinstance(getattr(first, f.name), np.ndarray)
        }
        return replace(first, **arrays, meta=dict(first.meta))

    # -- basics ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.body.shape[0]

    @property
    def duration_s(self) -> float:
        """Duration covered: last timestamp plus one nominal frame."""
        return float(self.times[-1] + 1.0 / float(self.fps)) if len(self) else 0.0

    def __getitem__(self, index: slice) -> PoseSequence:
        """Frames ``index`` (a slice) as a new sequence (arrays are views, as NumPy slicing gives)."""
        if not isinstance(index, slice):
            raise TypeError("index a PoseSequence with a slice, e.g. seq[10:20]")
        arrays = {f.name: getattr(self, f.name)[index] for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}
        return replace(self, **arrays, meta=dict(self.meta))

    def copy(self) -> PoseSequence:
        """A deep copy (arrays are copied, not shared)."""
        arrays = {f.name: getattr(self, f.name).copy() for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}
        return replace(self, **arrays, meta=dict(self.meta))

    def coverage(self) -> dict[str, float]:
        """Fraction of frames holding body, hands (either, left, right) and face."""
        n = max(len(self), 1)
        return {
            "body": float(self.body_present.sum()) / n,
            "hands": float(self.hands_present.any(axis=1).sum()) / n,
            "left_hand": float(self.hands_present[:, 0].sum()) / n,
            "right_hand": float(self.hands_present[:, 1].sum()) / n,
            "face": float(self.face_present.sum()) / n,
        }

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save as compressed ``.npz`` (written atomically). :meth:`load` restores it exactly."""
        from steadymotion.io.atomic import atomic_output

        with atomic_output(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(
                    fh,
                    version=np.int64(POSE_FILE_VERSION),
                    body=self.body,
                    hands=self.hands,
                    face=self.face,
                    body_present=self.body_present,
                    hands_present=self.hands_present,
                    face_present=self.face_present,
                    body_filled=self.body_filled,
                    hands_filled=self.hands_filled,
                    face_filled=self.face_filled,
                    times=self.times,
                    fps=np.float64(self.fps),
                    fps_fraction=np.array([self.fps.numerator, self.fps.denominator], np.int64),
                    size=np.array(self.size, np.int64),
                    source=np.str_(self.source),
                    **({} if self.world is None else {"world": self.world}),
                    # a motion capture's provenance (naming, projection): no camera, no hands to check
                    **({"bvh": np.str_(json.dumps(self.meta["bvh"]))} if "bvh" in self.meta else {}),
                )
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> PoseSequence:
        """Load a ``.npz`` written by :meth:`save`."""
        p = Path(path)
        if not p.is_file():
            raise InputNotFoundError(f"pose file {str(p)!r} not found; create one with `steadymotion pose VIDEO -o {p.name}`")
        try:
            with np.load(p, allow_pickle=False) as z:
                version = int(z["version"]) if "version" in z else 1
                if version > POSE_FILE_VERSION:
                    raise InvalidPoseDataError(f"{p.name} was written by a newer steadymotion (format {version}); upgrade")
                num, den = (int(v) for v in z["fps_fraction"])
                kw = {k: z[k] for k in ("body", "hands", "face", "body_present", "hands_present", "face_present", "times")}
                for k in ("body_filled", "hands_filled", "face_filled", "world"):
                    kw[k] = z[k] if k in z else None
                meta = {"bvh": json.loads(str(z["bvh"]))} if "bvh" in z else {}
                return cls(**kw, fps=Fraction(num, den), size=tuple(int(v) for v in z["size"]),
                           source=str(z["source"]) if "source" in z else "", meta=meta)
        except KeyError as exc:
            raise InvalidPoseDataError(f"{p.name} is not a steadymotion pose file (missing {exc})") from None
        except (ValueError, OSError) as exc:
            if isinstance(exc, InvalidPoseDataError):
                raise
            raise InvalidPoseDataError(f"{p.name} is not a readable .npz pose file ({exc})") from None


@dataclass
class RestPose:
    """What motion planning needs to know of a character: its pose in the master image.

    The renderer seam: :func:`steadymotion.motion.plan.plan_motion` takes this, never a backend's
    own structures (the puppet's rig), so any backend that can say where the character's joints are
    in its image can be driven by the same plan.

    Attributes
    ----------
    keypoints : ndarray, (K, 3) float32
        Joints ``x, y, z`` in master-image pixels, in :data:`steadymotion.skeleton.KP_NAMES` order.
    present : ndarray, (P,) bool
        Parts the image shows, in :data:`steadymotion.skeleton.PARTS` order (a portrait has no legs).
    size : (width, height)
        The master image's size in pixels.
    face : ndarray, (468+, 2|3) float32, optional
        The face mesh's landmarks in master-image pixels (MediaPipe's order; depth scaled like x when
        given), when the image shows a face: the plan carries the reference's expressions onto them,
        and with depth its head's turn in depth.
    """

    keypoints: np.ndarray
    present: np.ndarray
    size: tuple[int, int]
    face: np.ndarray | None = None

    def __post_init__(self) -> None:
        from steadymotion.skeleton import KP_NAMES, PARTS

        self.keypoints = _check("keypoints", self.keypoints, (len(KP_NAMES), None), np.float32)
        if self.keypoints.shape[1] not in (2, 3):
            raise InvalidPoseDataError(f"keypoints must have shape ({len(KP_NAMES)}, 2|3), got {self.keypoints.shape}")
        self.present = _check("present", self.present, (len(PARTS),), bool)
        w, h = (int(v) for v in self.size)
        if w <= 0 or h <= 0:
            raise InvalidPoseDataError(f"size must be positive (width, height), got {self.size}")
        self.size = (w, h)
        if self.face is not None:
            self.face = np.asarray(self.face, np.float32)
            if self.face.ndim != 2 or self.face.shape[0] < 468 or self.face.shape[1] < 2:
                raise InvalidPoseDataError(f"face must have shape (468+, 2|3), got {self.face.shape}")
            self.face = self.face[:, :3]

    def has(self, part: str) -> bool:
        """Whether the image shows ``part`` (a name from :data:`steadymotion.skeleton.PARTS`)."""
        from steadymotion.skeleton import PART

        return bool(self.present[PART[part]])
