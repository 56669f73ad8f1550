"""BVH motion capture files: read, forward kinematics, write.

The Biovision Hierarchy format (Meyer & Thingvold / Biovision, 1990s; as documented by
Thingvold, "Biovision BVH", and read by Blender's ``io_anim_bvh``): a ``HIERARCHY`` of joints,
each with an ``OFFSET`` from its parent and a list of ``CHANNELS``, then ``MOTION`` with one line
of channel values per frame. Rotation channels are Euler angles in degrees applied in the order
they are listed (intrinsic: ``Zrotation Xrotation Yrotation`` is ``Rz @ Rx @ Ry``); position
channels give the joint's local translation, replacing its offset (as Blender reads them).

No PyPI parser fits the project's pins: ``bvhio`` 1.5.4 pins ``pyglm==2.8.2`` and
``spatial-transform==1.3.3``, ``pybvh`` 0.9.0 requires matplotlib at import and ships a viewer
stack; the ``bvh`` package 0.3 is an sdist that only tokenises. Rotations here are scipy's
:class:`~scipy.spatial.transform.Rotation`, the one place this module does any mathematics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from steadymotion.errors import InputNotFoundError, SteadyMotionError

#: Files larger than this are refused (a long 120 fps capture of 60 joints is ~30 MB).
MAX_BVH_BYTES = 512 * 1024 * 1024
_POS = ("Xposition", "Yposition", "Zposition")
_ROT = ("Xrotation", "Yrotation", "Zrotation")


class InvalidBvhError(SteadyMotionError, ValueError):
    """A BVH file is malformed (the message says where) or holds no usable motion."""


@dataclass
class BvhJoint:
    """One joint: its name, parent (index, -1 for the root), offset, channels and end site."""

    name: str
    parent: int
    offset: np.ndarray  # (3,) float64
    channels: tuple[str, ...]
    end_site: np.ndarray | None = None  # (3,) offset of the "End Site" below it, if any


@dataclass
class Bvh:
    """A parsed BVH file.

    Attributes
    ----------
    joints : list of BvhJoint
        Parents before children (file order).
    motion : ndarray, (F, C) float64
        Channel values per frame, channels in joint order then each joint's channel order.
    frame_time : float
        Seconds per frame.
    """

    joints: list[BvhJoint]
    motion: np.ndarray
    frame_time: float
    source: str = ""
    _col: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.motion = np.asarray(self.motion, np.float64)
        n_ch = sum(len(j.channels) for j in self.joints)
        if self.motion.ndim != 2 or self.motion.shape[1] != n_ch:
            raise InvalidBvhError(f"motion must have shape (frames, {n_ch}), got {self.motion.shape}")
        if not (np.isfinite(self.frame_time) and self.frame_time > 0):
            raise InvalidBvhError(f"frame time must be a positive number of seconds, got {self.frame_time}")
        self._col = list(np.cumsum([0] + [len(j.channels) for j in self.joints])[:-1])

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def n_frames(self) -> int:
        return self.motion.shape[0]

    @property
    def duration_s(self) -> float:
        """The capture's length: frames times frame time."""
        return self.n_frames * self.frame_time

    def local(self) -> tuple[np.ndarray, list[Rotation]]:
        """Per joint, the local translation ``(F, J, 3)`` and rotation (a Rotation of F frames each)."""
        F, J = self.n_frames, len(self.joints)
        trans = np.empty((F, J, 3))
        rots = []
        for j, joint in enumerate(self.joints):
            c0 = self._col[j]
            trans[:, j] = joint.offset
            order, cols = "", []
            for k, ch in enumerate(joint.channels):
                if ch in _POS:
                    trans[:, j, _POS.index(ch)] = self.motion[:, c0 + k]
                else:
                    order += "XYZ"[_ROT.index(ch)]
                    cols.append(c0 + k)
            if order:
                rots.append(Rotation.from_euler(order, self.motion[:, cols], degrees=True))
            else:
                rots.append(Rotation.identity(F))
        return trans, rots

    def forward_kinematics(self, trans: np.ndarray | None = None, rots: list[Rotation] | None = None
                           ) -> tuple[np.ndarray, np.ndarray, list[Rotation]]:
        """World positions of the joints ``(F, J, 3)``, of their end sites ``(F, J, 3)`` (NaN where
        a joint has none) and each joint's world rotation.

        ``p_j = p_parent + R_parent t_j``, ``R_j = R_parent r_j`` down the tree (the root's ``t`` is
        its world position). ``trans``/``rots`` default to :meth:`local`.
        """
        if trans is None or rots is None:
            trans, rots = self.local()
        F, J = trans.shape[:2]
        pos = np.empty((F, J, 3))
        ends = np.full((F, J, 3), np.nan)
        world: list[Rotation] = []
        for j, joint in enumerate(self.joints):
            if joint.parent < 0:
                pos[:, j] = trans[:, j]
                world.append(rots[j])
            else:
                pr = world[joint.parent]
                pos[:, j] = pos[:, joint.parent] + pr.apply(trans[:, j])
                world.append(pr * rots[j])
            if joint.end_site is not None:
                ends[:, j] = pos[:, j] + world[j].apply(np.tile(joint.end_site, (F, 1)))
        return pos, ends, world

    def rest_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Joint and end-site positions ``(J, 3)`` of the rest pose (offsets only, no rotation)."""
        J = len(self.joints)
        pos = np.zeros((J, 3))
        ends = np.full((J, 3), np.nan)
        for j, joint in enumerate(self.joints):
            pos[j] = joint.offset + (pos[joint.parent] if joint.parent >= 0 else 0)
            if joint.end_site is not None:
                ends[j] = pos[j] + joint.end_site
        return pos, ends


def _floats(tokens: list[str], i: int, n: int, what: str) -> np.ndarray:
    try:
        vals = np.array([float(t) for t in tokens[i:i + n]])
    except ValueError:
        raise InvalidBvhError(f"{what}: expected {n} numbers, got {' '.join(tokens[i:i + n])!r}") from None
    if len(vals) != n or not np.isfinite(vals).all():
        raise InvalidBvhError(f"{what}: expected {n} finite numbers")
    return vals


def parse_bvh(text: str, source: str = "") -> Bvh:
    """Parse the text of a BVH file (see :func:`read_bvh`)."""
    tokens = text.split()
    if not tokens or tokens[0].upper() != "HIERARCHY":
        raise InvalidBvhError("not a BVH file: it does not start with HIERARCHY")
    joints: list[BvhJoint] = []
    stack: list[int] = []  # open joints; -2 marks an open End Site
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        up = tok.upper()
        if up in ("ROOT", "JOINT"):
            if up == "ROOT" and (joints or stack):
                raise InvalidBvhError("only one ROOT is supported (several skeletons in one file)")
            if i + 2 >= len(tokens) or tokens[i + 2] != "{":
                raise InvalidBvhError(f"{tok} needs a name and '{{'")
            parent = stack[-1] if stack else -1
            if parent == -2:
                raise InvalidBvhError("a JOINT inside an End Site")
            joints.append(BvhJoint(tokens[i + 1], parent, np.zeros(3), ()))
            stack.append(len(joints) - 1)
            i += 3
        elif up == "END":
            if not stack or stack[-1] < 0 or i + 2 >= len(tokens) or tokens[i + 2] != "{":
                raise InvalidBvhError("malformed End Site")
            stack.append(-2)
            i += 3
        elif up == "OFFSET":
            if not stack:
                raise InvalidBvhError("OFFSET outside a joint")
            off = _floats(tokens, i + 1, 3, f"OFFSET of {joints[stack[-1]].name if stack[-1] >= 0 else 'End Site'}")
            if stack[-1] == -2:
                joints[stack[-2]].end_site = off
            else:
                joints[stack[-1]].offset = off
            i += 4
        elif up == "CHANNELS":
            if not stack or stack[-1] < 0:
                raise InvalidBvhError("CHANNELS outside a joint")
            try:
                n = int(tokens[i + 1])
            except (ValueError, IndexError):
                raise InvalidBvhError(f"CHANNELS of {joints[stack[-1]].name}: expected a count") from None
            chans = tuple(tokens[i + 2:i + 2 + n])
            bad = [c for c in chans if c not in _POS + _ROT]
            if len(chans) != n or bad or len(set(chans)) != n:
                raise InvalidBvhError(f"CHANNELS of {joints[stack[-1]].name}: unknown or repeated channels {bad or chans}")
            joints[stack[-1]].channels = chans
            i += 2 + n
        elif tok == "}":
            if not stack:
                raise InvalidBvhError("unbalanced '}' in HIERARCHY")
            stack.pop()
            i += 1
        elif up == "MOTION":
            i += 1
            break
        else:
            raise InvalidBvhError(f"unexpected {tok!r} in HIERARCHY")
    else:
        raise InvalidBvhError("no MOTION section (the file is cut short, or only a skeleton)")
    if stack:
        raise InvalidBvhError("unbalanced '{' in HIERARCHY (a joint is not closed before MOTION)")
    if not joints:
        raise InvalidBvhError("no ROOT joint in HIERARCHY")
    # MOTION: "Frames: n" "Frame Time: t" then the values
    if [t.lower() for t in tokens[i:i + 1]] != ["frames:"]:
        raise InvalidBvhError("MOTION must start with 'Frames: N'")
    try:
        n_frames = int(tokens[i + 1])
    except (ValueError, IndexError):
        raise InvalidBvhError("MOTION: 'Frames:' must be followed by a whole number") from None
    if [t.lower() for t in tokens[i + 2:i + 4]] != ["frame", "time:"]:
        raise InvalidBvhError("MOTION: expected 'Frame Time: SECONDS' after the frame count")
    try:
        frame_time = float(tokens[i + 4])
    except (ValueError, IndexError):
        raise InvalidBvhError("MOTION: 'Frame Time:' must be followed by seconds per frame") from None
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise InvalidBvhError(f"MOTION: the frame time must be positive, got {frame_time}")
    if n_frames < 1:
        raise InvalidBvhError(f"MOTION holds {n_frames} frames; a capture needs at least one")
    n_ch = sum(len(j.channels) for j in joints)
    values = tokens[i + 5:]
    need = n_frames * n_ch
    if len(values) < need:
        raise InvalidBvhError(f"MOTION is cut short: {len(values)} values for {n_frames} frames x {n_ch} channels "
                              f"({need}); the file is truncated")
    try:
        motion = np.array(values[:need], np.float64).reshape(n_frames, n_ch)
    except ValueError:
        raise InvalidBvhError("MOTION holds something that is not a number") from None
    if not np.isfinite(motion).all():
        raise InvalidBvhError("MOTION holds non-finite values (nan/inf)")
    return Bvh(joints=joints, motion=motion, frame_time=frame_time, source=source)


def read_bvh(path: str | Path) -> Bvh:
    """Read a BVH file (any channel order, position channels on any joint, End Sites).

    Raises
    ------
    InputNotFoundError
        The path is not a file.
    InvalidBvhError
        The file is not BVH, is cut short, or holds no frames (the message says which and where).
    """
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(f"BVH file {str(p)!r} not found")
    if p.stat().st_size > MAX_BVH_BYTES:
        raise InvalidBvhError(f"{p.name} is larger than {MAX_BVH_BYTES >> 20} MB; trim the capture first")
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidBvhError(f"{p.name} is not a BVH file (not text); export the capture as BVH") from None
    try:
        return parse_bvh(text, source=str(p))
    except InvalidBvhError as exc:
        raise InvalidBvhError(f"{p.name}: {exc}") from None


def _fmt(v: np.ndarray) -> str:
    return " ".join(f"{x:.6f}" for x in v)


def bvh_text(bvh: Bvh) -> str:
    """The file text of ``bvh`` (tab-indented, as Blender and Maya write it)."""
    children: dict[int, list[int]] = {}
    for j, joint in enumerate(bvh.joints):
        children.setdefault(joint.parent, []).append(j)
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        joint, ind = bvh.joints[j], "\t" * depth
        lines.append(f"{ind}{'ROOT' if joint.parent < 0 else 'JOINT'} {joint.name}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}\tOFFSET {_fmt(joint.offset)}")
        lines.append(f"{ind}\tCHANNELS {len(joint.channels)} {' '.join(joint.channels)}")
        for c in children.get(j, []):
            emit(c, depth + 1)
        if joint.end_site is not None:
            lines.extend([f"{ind}\tEnd Site", f"{ind}\t{{", f"{ind}\t\tOFFSET {_fmt(joint.end_site)}", f"{ind}\t}}"])
        lines.append(f"{ind}}}")

    for root in children.get(-1, []):
        emit(root, 0)
    lines += ["MOTION", f"Frames: {bvh.n_frames}", f"Frame Time: {bvh.frame_time:.6f}"]
    lines += [_fmt(row) for row in bvh.motion]
    return "\n".join(lines) + "\n"


def write_bvh(path: str | Path, bvh: Bvh) -> Path:
    """Write ``bvh`` to ``path`` atomically (a temporary name renamed when complete)."""
    from steadymotion.io.atomic import atomic_output

    with atomic_output(path, suffix=".bvh") as tmp:
        Path(tmp).write_text(bvh_text(bvh))
    return Path(path)
