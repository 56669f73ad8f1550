"""Named time series the drift meter produces, and what each one means.

Every series has a kind (the drift family it belongs to), a unit, and thresholds for the three
severities. ``baseline`` says what "no drift" is: ``"zero"`` (the value is already a difference to
the reference, e.g. a CIEDE2000 distance) or ``"start"`` (the level of the opening seconds).
Thresholds were calibrated on the real camera footage in ../shared/media (see
``benchmarks/drift_calibration.py``): real clips must stay below ``minor``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("identity", "color", "flicker", "structure", "jitter", "skeleton", "hands", "physics", "fidelity", "cut")
SEVERITIES = ("minor", "major", "severe")


@dataclass(frozen=True)
class SeriesSpec:
    """How to read and judge one series."""

    name: str
    kind: str
    unit: str
    description: str
    minor: float
    major: float
    severe: float
    baseline: str = "zero"  # "zero": the value is the departure; "start": departure from the opening level
    min_event_s: float = 0.5
    what: str = ""  # words for event details ("eye colour"), followed by the value and unit

    def severity(self, departure: float) -> str | None:
        if departure >= self.severe:
            return "severe"
        if departure >= self.major:
            return "major"
        if departure >= self.minor:
            return "minor"
        return None


SPECS: dict[str, SeriesSpec] = {s.name: s for s in (
    SeriesSpec("identity.face_distance", "identity", "dlib distance",
               "distance of the face descriptor to the reference face (same person < 0.6)",
               0.55, 0.65, 0.75, what="face descriptor distance"),
    SeriesSpec("identity.person_change", "identity", "× own variation",
               "face-descriptor distance to the reference divided by the clip's own same-person variation "
               "(its opening); another person scores 3 or more, one face's expressions stay below 2.4",
               2.4, 3.0, 4.5, what="face change relative to the clip's own variation"),
    SeriesSpec("color.iris", "color", "ΔE00", "eye colour difference to the reference (CIEDE2000, lightness matched)",
               12.0, 18.0, 28.0, min_event_s=1.0, what="eye colour"),
    SeriesSpec("color.skin", "color", "ΔE00", "skin colour difference to the reference (CIEDE2000, lightness matched)",
               8.0, 12.0, 20.0, what="skin colour"),
    SeriesSpec("color.hair", "color", "ΔE00", "hair colour difference to the reference (CIEDE2000, lightness matched)",
               10.0, 15.0, 25.0, min_event_s=1.0, what="hair colour"),
    SeriesSpec("color.clothing", "color", "ΔE00",
               "clothing colour difference to the reference (CIEDE2000, lightness matched; nearest of its two main colours)",
               6.0, 10.0, 16.0, min_event_s=1.0, what="clothing colour"),
    SeriesSpec("color.exposure", "color", "ΔL*", "whole-frame lightness change against the opening seconds",
               10.0, 16.0, 25.0, baseline="start", min_event_s=1.0, what="frame lightness change"),
    SeriesSpec("color.saturation", "color", "ΔC*", "whole-frame chroma change against the opening seconds",
               8.0, 12.0, 18.0, baseline="start", min_event_s=1.0, what="frame saturation change"),
    SeriesSpec("flicker.brightness", "flicker", "% brightness",
               "amplitude of brightness pulsing faster than 1 Hz, motion compensated (flow-warped log-gain path, high-passed)",
               3.0, 6.0, 12.0, min_event_s=0.3, what="unexplained brightness pulsing"),
    SeriesSpec("flicker.warp_error", "flicker", "grey levels",
               "flow-compensated warping error between consecutive frames, occlusions masked (Lai et al. 2018)",
               9.0, 14.0, 22.0, baseline="zero", min_event_s=0.3, what="flow-compensated warping error"),
    SeriesSpec("structure.background_warp", "structure", "% of diagonal",
               "non-rigid motion of the background between consecutive frames, left after the best homography (camera motion removed)",
               0.15, 0.35, 0.7, min_event_s=0.75, what="background warping beyond camera motion"),
    SeriesSpec("structure.background_melt", "structure", "% of diagonal",
               "non-rigid displacement of the background over the last 2 s, left after the best affine map (camera motion removed)",
               0.09, 0.6, 1.2, min_event_s=0.75, what="slow background melting beyond camera motion"),
    SeriesSpec("structure.ghost_limbs", "structure", "% of limb",
               "share of an arm's opening pixels still showing the arm after it moved away (remnants, duplicated limbs)",
               12.0, 22.0, 40.0, min_event_s=0.75, what="limb remnant left where the arm was"),
    SeriesSpec("structure.background_objects", "structure", "% of frame",
               "largest patch of the static background that changed and stayed changed (an object appearing or vanishing): "
               "the views 0.5-1 s before and after compared in the camera-aligned frame, people, moving things and "
               "what the camera did not keep in view excluded",
               0.6, 1.5, 4.0, min_event_s=0.5, what="object appearing or vanishing in the background"),
    SeriesSpec("jitter.camera", "jitter", "% of diagonal",
               "frame-to-frame jumps of the camera path (second difference; smooth hand-held shake and camera work excluded)",
               0.4, 0.8, 1.6, min_event_s=0.4, what="frame-to-frame camera jitter"),
    SeriesSpec("jitter.body", "jitter", "torso/frame³ at 8/s",
               "jerk of body keypoints (third difference, normalised by torso length; Flash & Hogan 1985)",
               0.3, 0.45, 0.7, min_event_s=0.5, what="body keypoint jerk"),
    SeriesSpec("skeleton.limb_stretch", "skeleton", "× typical length",
               "longest limb relative to its own long (95th percentile) length",
               1.3, 1.5, 1.8, min_event_s=0.4, what="limb length"),
    SeriesSpec("hands.missing", "hands", "share",
               "share of visible wrists whose hand cannot be resolved (1-s running mean)",
               0.75, 0.9, 0.99, baseline="start", min_event_s=1.5, what="unresolved hands"),
    SeriesSpec("physics.foot_skate", "physics", "torso/s",
               "horizontal speed of a planted foot (feet should not slide while on the ground)",
               2.0, 3.0, 4.5, min_event_s=0.4, what="foot sliding while planted"),
    SeriesSpec("fidelity.angle_error", "fidelity", "degrees",
               "mean limb-direction difference to the driving motion (position and scale removed)",
               25.0, 40.0, 60.0, min_event_s=0.5, what="limb angle error vs the driving motion"),
)}


@dataclass
class Series:
    """A named series: ``values`` at times ``t`` (NaN = not measurable in that frame: a gap, not drift).

    ``boxes`` (optional, (T, 4)): where in the frame the value comes from, normalised
    ``x0, y0, x1, y1`` (NaN where unknown); events carry the box of their peak. ``crops``
    (optional): JPEG close-ups of that place on some samples, for the HTML report.
    """

    name: str
    t: np.ndarray
    values: np.ndarray
    boxes: np.ndarray | None = None
    crops: dict | None = None  # sample index -> JPEG close-up of the place (report only, not in the JSON)

    @property
    def spec(self) -> SeriesSpec:
        return SPECS[self.name]

    def to_dict(self) -> dict:
        v = [None if not np.isfinite(x) else round(float(x), 4) for x in self.values]
        return {"t": [round(float(x), 3) for x in self.t], "values": v, "unit": self.spec.unit,
                "kind": self.spec.kind, "description": self.spec.description}
