"""The words users choose options with, defined once: orientation, mode and camera language.

Every interface (CLI, web UI, Python API) validates an orientation with :meth:`Orientation.parse`
at its edge; the prompt linter and the renderer's camera directives read the same camera
vocabulary, so a rig word the linter accepts ("stationary camera") is one the renderer obeys.
"""

from __future__ import annotations

import re
from enum import Enum

from steadymotion.errors import InvalidOptionError


class _Choice(str, Enum):
    """A user's choice among named values, parsed once at an interface's edge (``option``: its flag)."""

    @classmethod
    def parse(cls, value):
        """The member named by ``value`` (any case, spaces around); an unknown name raises
        :class:`InvalidOptionError` naming the option and its choices."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidOptionError(f"--{cls.option()} must be one of {', '.join(m.value for m in cls)}, got {value!r}") from None

    @classmethod
    def option(cls) -> str:
        return cls.__name__.lower()

    def __str__(self) -> str:
        return self.value


class Orientation(_Choice):
    """How the character is placed in the frame.

    ``video``: position, scale, body rotation and the camera follow the reference video.
    ``image``: the character keeps the image's position, scale and facing; only the articulation
    (and the torso's lean) moves.
    """

    VIDEO = "video"
    IMAGE = "image"


#: The orientation names, for option help and choice lists.
ORIENTATIONS: tuple[str, ...] = tuple(o.value for o in Orientation)


class Mode(_Choice):
    """What the character is put into (the two modes of Wan2.2-Animate).

    ``animate``: the character performs the motion in its own image's scene (or a given background).
    ``replace``: the character takes the reference person's place in the reference video — its
    scene, light and camera — and the reference person is removed.
    """

    ANIMATE = "animate"
    REPLACE = "replace"


#: The mode names, for option help and choice lists.
MODES: tuple[str, ...] = tuple(m.value for m in Mode)


# --- camera language (lower case regular expressions, matched on word boundaries) -------------------
#: A locked-off camera: the renderer keeps the camera still and takes the reference camera's
#: motion out of the character's path; the linter counts these as naming a rig.
STATIC_CAMERA: tuple[str, ...] = (
    r"fixed (?:lens|camera|shot)", r"static (?:camera|shot)", r"tripod", r"locked[- ]off", r"still camera",
    r"stationary camera", r"no camera (?:movement|motion)", r"camera (?:is |stays |remains )?(?:static|still|fixed|locked|stationary)",
)
#: Moving rigs: named rigs the linter accepts; the puppet renderer cannot fly them (reported as ignored).
MOVING_RIGS: tuple[str, ...] = (r"steadicam", r"gimbal", r"hand[- ]?held", r"crane", r"drone")
#: A lens named by its 35 mm focal length ("85mm"): a framing.
LENS = r"(\d{2,3})\s?mm"
#: Zoom / dolly with an optional target: group 1 the verb, 2 in|out, 3 the target.
ZOOM = (r"(zoom(?:s|ing)?|dolly(?:ing)?|push(?:es|ing)?)\s+(in|out)\b(?:\s+(?:on|to|towards?)\s+"
        r"(?:the\s+|her\s+|his\s+|their\s+)?(full body|whole body|face|head|eyes?|hands?|body|feet|legs))?")
#: Pans and tilts: group 1 the verb, 2 the direction.
PAN = r"(pan(?:s|ning)?|tilt(?:s|ing)?|truck(?:s|ing)?)\s+(left|right|up|down)"
#: What a zoom can be aimed at (the prompt's word -> the body target).
ZOOM_TARGETS = {
    "face": "face", "head": "face", "eyes": "eyes", "eye": "eyes", "hands": "hands", "hand": "hands",
    "body": "body", "full body": "body", "whole body": "body", "feet": "feet", "legs": "feet",
}
#: Camera language the renderer recognises but does not render (reported back as ignored).
UNSUPPORTED_CAMERA: tuple[str, ...] = (
    r"orbit(?:ing|s)?", r"arc shot", r"shaky", r"tracking shot", r"follow(?:ing)? shot", r"rack focus", r"whip pan",
    r"dutch angle", r"roll(?:ing)? camera", r"aerial", r"fpv", r"bokeh", r"depth of field", r"rotate around", r"360",
) + MOVING_RIGS
#: Camera moves a prompt should give a target (the linter's UNTARGETED_CAMERA).
CAMERA_MOVES: tuple[str, ...] = (
    r"zoom(?:s|ing)? (?:in|out)", r"zooms?", r"dolly(?:ing)? (?:in|out)", r"push(?:es|ing)? in", r"pull(?:s|ing)? (?:out|back)",
    r"close[- ]up", r"track(?:s|ing)? shot", r"tracks", r"pans? (?:left|right)", r"tilts? (?:up|down)",
)
#: Any named rig or lens: a prompt with none of these gets NO_CAMERA_RIG from the linter.
CAMERA_RIG: tuple[str, ...] = STATIC_CAMERA + MOVING_RIGS + (r"dolly", LENS.replace("(", "(?:", 1))


def words(patterns: tuple[str, ...] | list[str]) -> str:
    """One regular expression matching any of ``patterns`` as whole words."""
    return r"\b(?:" + "|".join(patterns) + r")\b"


def compile_words(patterns: tuple[str, ...] | list[str] | str) -> re.Pattern:
    """:func:`words` compiled (a single pattern is wrapped in word boundaries)."""
    return re.compile(words((patterns,) if isinstance(patterns, str) else patterns))
