"""Motion extraction: MediaPipe Holistic (or BlazePose alone) over a video, streamed, in parallel chunks.

MediaPipe Holistic (Grishchenko & Bazarevsky 2020; BlazePose, Bazarevsky et al. 2020; MediaPipe
Hands, Zhang et al. 2020; Attention Mesh / face mesh with iris, Grishchenko et al. 2020) from the
legacy ``solutions`` API of ``mediapipe==0.10.21``, whose wheel bundles every model it runs
(pose ``model_complexity=1``). Nothing is downloaded.

``parts="body"`` runs the body model alone: BlazePose (Bazarevsky, Grishchenko, Raveendran, Zhu,
Zhang & Grundmann, "BlazePose: On-device Real-time Body Pose tracking", CVPR Workshops 2020,
arXiv:2006.10204) through ``mediapipe.solutions.pose.Pose``, the same detector and full landmark
model (``model_complexity=1``) that Holistic runs for its body. It skips the hand and face models,
which are most of Holistic's cost, for callers that use the 33 body landmarks only (the animate
renderer).

One Holistic graph is sequential (tracking mode reuses the previous frame's regions) and keeps
about 1.4 of our 2 cores busy (a body-only Pose graph keeps 1.0 busy), so the video is cut into contiguous time chunks, one per worker
process, each with its own graph; the chunks are joined in order. The only cost is one fresh
detection at each chunk start. Frames are decoded inside each worker, so no frame ever crosses a
process boundary and memory stays flat with clip length.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from steadymotion._native import quiet_native_stderr
from steadymotion.cache import cache_dir, code_fingerprint, file_digest, forget, lookup, store
from steadymotion.errors import NoFramesError, NoPersonError
from steadymotion.io.video import Truncation, VideoReader, probe_video, read_ahead, report_damage
from steadymotion.perception.camera import CameraSteps, body_boxes, camera_path
from steadymotion.skeleton import N_BODY, N_FACE, N_HAND, scaled_landmarks
from steadymotion.types import PoseSequence

#: Frames are downscaled so their long side is at most this before Holistic sees them. Holistic
#: crops and resizes regions to 256 px (body), 224 px (hands) and 192 px (face) anyway, so 1280
#: keeps full detail for a person filling a 720p/1080p frame while capping decode+resize cost.
#:
#: Body-only extraction (``parts="body"``) keeps the same side, measured on this project's 2-core
#: machine (benchmarks/bench_pose.py; 720p no-cache-man and 692x1108 unianimate clips):
#: BlazePose's inference does not depend on the frame size (19-20 ms/frame on one core at 1280,
#: 960 or 640: the detector sees a 224 px letterboxed copy, the landmark model a 256 px crop), and
#: decoding is 2-5 ms/frame. A smaller side only adds an area downscale for sources already
#: <= 1280 px (960 decoded *slower* than 1280: 4.6 vs 1.8 ms/frame on the 720p clip) and saves
#: about 1 ms/frame on 1080p (5.8 -> 4.6 ms at 640), i.e. <= 5 % of the stage; yet it moves the 12
#: limb joints by a median 0.5-1.4 % (p90 1.3-4.1 %, worst frame 4-35 %) of the torso length (960,
#: 640 and 480 against 1280). At 1280 the body is bit-identical to Holistic's (six clips), so
#: switching animate to ``parts="body"`` changes nothing but the time.
DEFAULT_WORK_SIDE = 1280
#: What to track: ``"all"`` (Holistic: body, hands, face with iris), ``"body"`` (BlazePose only) or
#: ``"body+face"`` (BlazePose and the face mesh with iris, no hands: what animate needs to carry the
#: reference's expressions).
PARTS = ("all", "body", "body+face")
#: A chunk shorter than this is not worth a worker process (start-up costs ~1.5 s).
MIN_CHUNK_S = 3.0
#: A worker silent for this long (it reports every 8 frames) is taken as hung and restarted once.
WORKER_STALL_S = 90.0

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class HolisticOptions:
    """Settings of the MediaPipe graph: ``mediapipe.solutions.holistic.Holistic``, or
    ``mediapipe.solutions.pose.Pose`` (BlazePose, Bazarevsky et al. 2020) when ``parts="body"``.

    ``min_detection_confidence`` / ``min_tracking_confidence`` are MediaPipe's (0.5 default).
    MediaPipe's internal landmark smoothing is on (it also steadies the hand/face regions it
    tracks); our own zero-lag smoothing (:mod:`steadymotion.pose.clean`) is applied on top and can be
    switched off. ``work_side`` caps the long side of the frames the graph sees (the same default
    for both ``parts``, see :data:`DEFAULT_WORK_SIDE`). ``parts`` is one of :data:`PARTS`.
    """

    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    smooth_landmarks: bool = True
    work_side: int = DEFAULT_WORK_SIDE
    parts: str = "all"

    def __post_init__(self) -> None:
        if self.parts not in PARTS:
            raise ValueError(f"parts must be one of {', '.join(map(repr, PARTS))}, got {self.parts!r}")


def _new_graph(opts: HolisticOptions, static: bool = False):
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from steadymotion._native import import_mediapipe

        mp_lib = import_mediapipe()  # heavy: imported only where used
    except ImportError as exc:  # pragma: no cover - a core dependency
        from steadymotion.errors import MissingDependencyError

        raise MissingDependencyError("mediapipe is missing: pip install mediapipe==0.10.21") from exc
    if opts.parts == "body+face":
        return _BodyFace(mp_lib, opts, static)
    if opts.parts == "body":  # BlazePose alone (Bazarevsky et al. 2020): no hand or face models
        return mp_lib.solutions.pose.Pose(
            static_image_mode=static,
            model_complexity=1,
            smooth_landmarks=opts.smooth_landmarks,
            enable_segmentation=False,
            min_detection_confidence=opts.min_detection_confidence,
            min_tracking_confidence=opts.min_tracking_confidence,
        )
    return mp_lib.solutions.holistic.Holistic(
        static_image_mode=static,
        model_complexity=1,
        smooth_landmarks=opts.smooth_landmarks,
        refine_face_landmarks=True,
        enable_segmentation=False,
        min_detection_confidence=opts.min_detection_confidence,
        min_tracking_confidence=opts.min_tracking_confidence,
    )


class _BodyFace:
    """BlazePose and MediaPipe's face mesh (Kartynnik et al. 2019, with the iris model of Ablavatski
    et al. 2020) side by side on the same frames: Holistic's body and face without its hand models.

    The face mesh finds a face with its own short-range detector and then tracks it. A face too small
    for that detector (a dancer filmed head to toe) is looked for again in a square crop round the
    head the body's face landmarks give (:data:`HEAD_CROP` ear-to-ear widths, scaled to
    :data:`HEAD_CROP_SIDE` px), as Holistic crops it from the pose; a face whose nose lies off the
    body's nose by more than the face's own width is another person's and dropped.
    """

    HEAD_CROP = 3.0
    HEAD_CROP_SIDE = 256

    def __init__(self, mp_lib, opts: HolisticOptions, static: bool) -> None:
        self._pose = mp_lib.solutions.pose.Pose(
            static_image_mode=static, model_complexity=1, smooth_landmarks=opts.smooth_landmarks,
            enable_segmentation=False, min_detection_confidence=opts.min_detection_confidence,
            min_tracking_confidence=opts.min_tracking_confidence)
        self._face = mp_lib.solutions.face_mesh.FaceMesh(
            static_image_mode=static, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=opts.min_detection_confidence, min_tracking_confidence=opts.min_tracking_confidence)
        self._crop = mp_lib.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=opts.min_detection_confidence)

    def process(self, rgb: np.ndarray):
        from types import SimpleNamespace

        r = self._pose.process(rgb)
        f = self._face.process(rgb)
        h, w = rgb.shape[:2]
        face = f.multi_face_landmarks[0] if f.multi_face_landmarks else None
        if r.pose_landmarks is not None:
            body = np.array([(p.x * w, p.y * h) for p in r.pose_landmarks.landmark[:11]], np.float64)
            if face is not None:
                xy = np.array([(p.x * w, p.y * h) for p in face.landmark[:468]])
                if np.linalg.norm(xy[1] - body[0]) > np.ptp(xy[:, 0]):
                    face = None
            if face is None:
                face = self._in_head_crop(rgb, body)
        return SimpleNamespace(pose_landmarks=r.pose_landmarks, pose_world_landmarks=r.pose_world_landmarks,
                               face_landmarks=face)

    def _in_head_crop(self, rgb: np.ndarray, body: np.ndarray) -> _Pixels | None:
        """The face mesh in the crop round the head (``body``: the body's first 11 landmarks, pixels)."""
        h, w = rgb.shape[:2]
        ears = float(np.linalg.norm(body[7] - body[8]))
        side = self.HEAD_CROP * max(ears, 8.0)
        c = body[:11].mean(axis=0)
        x0, y0 = int(round(c[0] - side / 2)), int(round(c[1] - side / 2))
        n = int(round(side))
        if n < 16 or x0 >= w or y0 >= h or x0 + n <= 0 or y0 + n <= 0:
            return None
        crop = np.zeros((n, n, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + n), min(h, y0 + n)
        crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        k = self.HEAD_CROP_SIDE / n
        res = self._crop.process(cv2.resize(crop, (self.HEAD_CROP_SIDE, self.HEAD_CROP_SIDE),
                                            interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR))
        if not res.multi_face_landmarks:
            return None
        face = np.array([(p.x * n + x0, p.y * n + y0, p.z * n) for p in res.multi_face_landmarks[0].landmark], np.float32)
        if np.linalg.norm(face[1, :2] - body[0]) > np.ptp(face[:468, 0]):
            return None
        return _Pixels(face, w, h)

    def close(self) -> None:
        self._pose.close()
        self._face.close()
        self._crop.close()


class _Pixels:
    """Landmarks found in pixels (a crop's), in the layout :func:`_landmarks` reads: normalised to the frame."""

    def __init__(self, pts: np.ndarray, w: int, h: int) -> None:
        from types import SimpleNamespace

        self.landmark = [SimpleNamespace(x=float(x) / w, y=float(y) / h, z=float(z) / w) for x, y, z in pts]


def _landmarks(lms, n: int, w: int, h: int, with_visibility: bool = False) -> np.ndarray | None:
    """MediaPipe normalised landmarks -> (n, 3|4) float32 pixels (z scaled like x)."""
    if lms is None:
        return None
    pts = lms.landmark
    if len(pts) < n:
        return None
    if with_visibility:
        a = np.array([(p.x, p.y, p.z, p.visibility) for p in pts[:n]], np.float32)
    else:
        a = np.array([(p.x, p.y, p.z) for p in pts[:n]], np.float32)
    a[:, 0] *= w
    a[:, 1] *= h
    a[:, 2] *= w
    return a


class HolisticTracker:
    """Per-frame Holistic inference in tracking mode, returning pixel arrays.

    ``options.parts`` chooses the graph: ``"all"`` runs Holistic, ``"body"`` runs BlazePose alone
    (Bazarevsky et al. 2020), whose hands and face are then always ``None``. Use one tracker per
    continuous shot; call :meth:`close` (or use ``with``) when done. ``static=True`` treats every
    image independently (for single photos).
    """

    def __init__(self, options: HolisticOptions | None = None, static: bool = False) -> None:
        self.options = options or HolisticOptions()
        with quiet_native_stderr():
            self._h = _new_graph(self.options, static=static)
        self._warm = False
        #: The last frame's 3D world landmarks ``(33, 3)`` in metres (MediaPipe's ``pose_world_landmarks``), or None.
        self.world: np.ndarray | None = None

    def __enter__(self) -> HolisticTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._h.close()

    def process(self, rgb: np.ndarray, size: tuple[int, int]):
        """Run the graph on ``rgb`` (any scale); return body, left hand, right hand, face in ``size``
        pixels, each ``None`` when not found (hands and face always, with ``parts="body"``)."""
        if not self._warm:  # the graph logs its set-up on the first frame
            with quiet_native_stderr():
                r = self._h.process(rgb)
            self._warm = True
        else:
            r = self._h.process(rgb)
        w, h = size
        body = _landmarks(r.pose_landmarks, N_BODY, w, h, with_visibility=True)
        self.world = _landmarks(getattr(r, "pose_world_landmarks", None), N_BODY, 1, 1)
        # Pose's results have no hand/face fields at all
        left = _landmarks(getattr(r, "left_hand_landmarks", None), N_HAND, w, h)
        right = _landmarks(getattr(r, "right_hand_landmarks", None), N_HAND, w, h)
        face = _landmarks(getattr(r, "face_landmarks", None), N_FACE, w, h)
        return body, left, right, face


@dataclass
class _ChunkResult:
    body: np.ndarray
    hands: np.ndarray
    face: np.ndarray
    body_present: np.ndarray
    hands_present: np.ndarray
    face_present: np.ndarray
    times: np.ndarray
    world: np.ndarray  # (n, 33, 3) MediaPipe world landmarks (metres), NaN where no body
    truncation: Truncation | None
    colors: np.ndarray | None = None  # (n, len(REGIONS), 3) CIELAB, NaN where not seen
    descriptors: np.ndarray | None = None  # (n, 128), NaN where not computed
    colors2: np.ndarray | None = None  # (n, len(REGIONS), 3) second palette colour, NaN where none
    shapes: np.ndarray | None = None  # (n, len(SHAPE_PAIRS)) face-shape log ratios, NaN without a face
    camera_steps: np.ndarray | None = None  # (n, 2, 3) previous -> this frame, tracking pixels; NaN = none
    sampled: np.ndarray | None = None  # (n, 2) bool: region colours measured, face descriptor computed


@dataclass
class Appearance:
    """What the subject looks like on each tracked frame (see :mod:`steadymotion.perception.identity`).

    Attributes
    ----------
    times : ndarray, (T,)
    colors : ndarray, (T, R, 3)
        CIELAB colour of each segmented region in :data:`steadymotion.perception.identity.REGIONS`
        (its median, or the main colour of its palette; NaN = not seen).
    descriptors : ndarray, (T, 128)
        dlib face descriptors, computed about once per second, more often in the opening (NaN elsewhere).
    colors2 : ndarray, (T, R, 3), optional
        The second colour of a region's palette (hair, clothing) where it covers at least a quarter
        of the region (NaN elsewhere).
    shapes : ndarray, (T, K), optional
        Face-shape log ratios (:func:`steadymotion.perception.identity.face_shape`), NaN without a face.
    """

    times: np.ndarray
    colors: np.ndarray
    descriptors: np.ndarray
    colors2: np.ndarray | None = None
    shapes: np.ndarray | None = None
    #: The landmarks (source pixels, as tracked: before any smoothing; NaN where absent) the
    #: appearance was measured at, for measuring it again on repaired frames (:func:`measure_appearance`).
    body: np.ndarray | None = None
    face: np.ndarray | None = None
    #: (T, 2) bool: the frames whose region colours were measured, and those given a face descriptor.
    sampled: np.ndarray | None = None

#: Face descriptors per second when appearance is measured (each costs 50-150 ms) ...
IDENTITY_RATE = 1.0
#: ... and in the first :data:`IDENTITY_OPENING_S` seconds, where the clip's own same-person
#: variation is calibrated (:func:`steadymotion.drift.meter.color_identity_series`).
IDENTITY_OPENING_RATE, IDENTITY_OPENING_S = 4.0, 1.5
#: Region colours (segmented garment, hair, skin, irises) are measured this many times per second.
REGION_RATE = 4.0
#: Tracked frames are compared for hard cuts (after which the appearance is measured at once) on
#: every ``CUT_THIN``-th pixel of every ``CUT_THIN``-th row.
CUT_THIN = 4


class _Behind:
    """Calls ``fn(*args)`` for each :meth:`put`, in order, on one helper thread, while the caller goes
    on: the appearance of the tracked frames (OpenCV, NumPy's BLAS, MediaPipe's segmentation, all
    outside the GIL) is measured on the second core while the caller's thread waits on Holistic.
    At most ``depth`` frames wait (memory stays flat). Leaving the block waits for the last call and
    re-raises what it raised; leaving it with an error drops what is still waiting."""

    _END = object()

    def __init__(self, fn: Callable, depth: int = 4) -> None:
        import queue
        import threading

        self._fn, self._error = fn, None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="steadymotion-appearance", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._END:
            if self._error is None:
                try:
                    self._fn(*item)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = exc

    def put(self, *args) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(args)

    def __enter__(self) -> _Behind:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None and self._error is None:
            self._error = exc_type  # skip what still waits
        self._queue.put(self._END)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error


def _extract_range(
    path: str,
    start_s: float | None,
    end_s: float | None,
    opts: HolisticOptions,
    report: Callable[[int], None] | None = None,
    stride: int = 1,
    appearance: bool = False,
    camera: bool = False,
    given: str | None = None,
) -> _ChunkResult:
    """Track one time range (see :func:`_extract`). ``given``: an ``.npz`` of ``times``, ``body``
    and ``face`` (source pixels, NaN where absent): no tracking, the appearance is measured on the
    frames at those times with those landmarks (:func:`measure_appearance`)."""
    import contextlib

    body, hands, face, times, world = [], [], [], [], []
    colors, colors2, descriptors, shapes = [], [], [], []
    sampled: list[tuple[bool, bool]] = []  # per frame: region colours measured, a face descriptor computed
    steps: list[np.ndarray] = []
    lead_in = None  # a chunk that starts mid-clip also reads the frame before, for its first camera step
    if camera and start_s:
        lead_in = start_s
        start_s = max(0.0, start_s - 1.5 / float(probe_video(path).fps))
    if appearance:
        from steadymotion.perception.identity import REGIONS, SHAPE_PAIRS, FaceIdentity, face_shape, region_colors
        from steadymotion.perception.segmentation import PersonSegmenter

        from steadymotion.perception.scene import CUT_SCORE, histogram_change, hsv_histogram

        # made on the helper thread when first needed: their models load while Holistic starts
        models: dict = {}

        def ident() -> FaceIdentity:
            if "ident" not in models:
                models["ident"] = FaceIdentity()
            return models["ident"]

        def segmenter() -> PersonSegmenter:
            if "segmenter" not in models:
                models["segmenter"] = PersonSegmenter("general")  # runs on the small copy region_colors makes
            return models["segmenter"]
        next_id = next_region = -1.0
        prev_hist = None

        def measure(image: np.ndarray, t: float, b, f, flags: tuple[bool, bool] | None) -> None:
            """The subject's appearance on one tracked frame (``flags``: given landmarks' samples)."""
            nonlocal next_id, next_region, prev_hist
            scale = image.shape[1] / size[0]  # landmarks are in source pixels
            if flags is None:
                # a hard cut (a new shot, often a new person in generated video): measure the
                # face and colours at once rather than when the schedule comes round (up to 1 s
                # later), so identity's onset is the cut's. Histograms of a thinned copy of the
                # tracked frames (a missed cut costs only onset accuracy, a false one a sample)
                hist = hsv_histogram(np.ascontiguousarray(image[::CUT_THIN, ::CUT_THIN]))
                if prev_hist is not None and histogram_change(prev_hist, hist) > CUT_SCORE:
                    next_id = next_region = -1.0
                prev_hist = hist
            bw = None if b is None else scaled_landmarks(b, scale)
            fw = None if f is None else scaled_landmarks(f, scale)
            # given landmarks: measured on the same frames as the measurement they come from
            at_region = flags[0] if flags is not None else t >= next_region
            if at_region:
                pal = region_colors(image, bw, fw, segmenter())
                next_region = t + 1.0 / REGION_RATE
            else:  # colours change slowly and are judged over 1-s medians: half the rate is enough
                pal = np.full((len(REGIONS), 2, 3), np.nan, np.float32)
            colors.append(pal[:, 0])
            colors2.append(pal[:, 1])
            shapes.append(np.full(len(SHAPE_PAIRS), np.nan) if fw is None else face_shape(fw))
            d = None
            if fw is not None and (flags[1] if flags is not None else t >= next_id):
                d = ident().descriptor(image, fw)
                if d is not None:
                    rate = IDENTITY_OPENING_RATE if t < IDENTITY_OPENING_S else IDENTITY_RATE
                    next_id = t + 1.0 / rate
            descriptors.append(np.full(128, np.nan, np.float32) if d is None else d)
            sampled.append((at_region, d is not None))
    bp, hp, fp = [], [], []
    nan_body = np.full((N_BODY, 4), np.nan, np.float32)
    nan_hand = np.full((N_HAND, 3), np.nan, np.float32)
    nan_face = np.full((N_FACE, 3), np.nan, np.float32)
    truncation = None
    pending = 0
    if given is not None:
        with np.load(given) as z:
            g_times, g_body, g_face, g_sampled = z["times"], z["body"], z["face"], z["sampled"]
        gi = 0
    # damage is reported once, for the whole video, by the caller (report=False)
    with VideoReader(path, start_s=start_s, end_s=end_s, max_side=opts.work_side, report=False) as reader, \
            (HolisticTracker(opts) if given is None else contextlib.nullcontext()) as tracker, \
            (_Behind(measure) if appearance else contextlib.nullcontext()) as behind, \
            contextlib.ExitStack() as stack:
        size = reader.info.size
        cam = CameraSteps(size) if camera else None
        try:
            fps = float(reader.info.fps)

            def tracked(frame) -> bool:  # the frames converted ahead (the others are skipped below)
                return given is None and (stride <= 1 or int(round(frame.t * fps)) % stride == 0)

            # decoded and converted in a thread ahead of Holistic (PyAV lets go of the GIL), which
            # takes them off the tracking thread's path
            frames = stack.enter_context(read_ahead(reader, depth=4, convert=tracked))
            for frame in frames:
                if lead_in is not None and frame.t < lead_in - 1e-6:
                    cam.prime(frame.image)
                    continue
                if given is not None:  # the frames at the given times, with their given landmarks
                    tol = 0.5 / fps
                    while gi < len(g_times) and g_times[gi] < frame.t - tol:
                        gi += 1
                    if gi >= len(g_times) or g_times[gi] > frame.t + tol:
                        continue
                    b = g_body[gi] if np.isfinite(g_body[gi]).all() else None
                    f = g_face[gi] if np.isfinite(g_face[gi]).all() else None
                    lh = rh = None
                    gi += 1
                else:
                    if stride > 1 and int(round(frame.t * fps)) % stride:
                        continue
                    b, lh, rh, f = tracker.process(frame.image, size)
                if cam is not None:
                    m = cam.step(frame.image, None if b is None else body_boxes(b))
                    steps.append(np.full((2, 3), np.nan) if m is None else m)
                body.append(nan_body if b is None else b)
                world.append(nan_body[:, :3] if b is None or tracker is None or tracker.world is None else tracker.world)
                hands.append(np.stack([nan_hand if lh is None else lh, nan_hand if rh is None else rh]))
                face.append(nan_face if f is None else f)
                bp.append(b is not None)
                hp.append((lh is not None, rh is not None))
                fp.append(f is not None)
                times.append(frame.t)
                if appearance:  # measured on the helper thread, in frame order
                    behind.put(frame.image, frame.t, b, f, (bool(g_sampled[gi - 1, 0]), bool(g_sampled[gi - 1, 1]))
                               if given is not None else None)
                pending += stride
                if report is not None and pending >= 8:
                    report(pending)
                    pending = 0
        except NoFramesError:
            if start_s is None:
                raise
        truncation = reader.truncation
    if appearance and "segmenter" in models:
        models["segmenter"].close()
    if report is not None and pending:
        report(pending)
    n = len(times)
    return _ChunkResult(
        body=np.array(body, np.float32).reshape(n, N_BODY, 4),
        hands=np.array(hands, np.float32).reshape(n, 2, N_HAND, 3),
        face=np.array(face, np.float32).reshape(n, N_FACE, 3),
        body_present=np.array(bp, bool).reshape(n),
        hands_present=np.array(hp, bool).reshape(n, 2),
        face_present=np.array(fp, bool).reshape(n),
        times=np.array(times, np.float64),
        world=np.array(world, np.float32).reshape(n, N_BODY, 3),
        truncation=truncation,
        colors=np.array(colors, np.float32).reshape(n, -1, 3) if appearance else None,
        descriptors=np.array(descriptors, np.float32).reshape(n, 128) if appearance else None,
        colors2=np.array(colors2, np.float32).reshape(n, -1, 3) if appearance else None,
        shapes=np.array(shapes, np.float32).reshape(n, -1) if appearance else None,
        sampled=np.array(sampled, bool).reshape(n, 2) if appearance else None,
        camera_steps=np.array(steps, np.float64).reshape(n, 2, 3) if camera else None,
    )


def pose_from_image(rgb: np.ndarray, options: HolisticOptions | None = None) -> PoseSequence:
    """Landmarks of the person in one image (Holistic in static-image mode) as a 1-frame sequence.

    Runs in this process (a photo is quick); coordinates are pixels of ``rgb``. The person
    detector's confidence threshold defaults to 0.3 rather than 0.5: the user says a character is
    there, and stylised characters (the anime and 3D-cartoon references in ../shared/media) score
    between the two.
    """
    h, w = rgb.shape[:2]
    opts = options or HolisticOptions(min_detection_confidence=0.3)
    scale = min(1.0, opts.work_side / max(h, w))
    work = rgb if scale >= 1.0 else cv2.resize(rgb, (int(round(w * scale)), int(round(h * scale))), interpolation=cv2.INTER_AREA)
    with quiet_native_stderr(), HolisticTracker(opts, static=True) as tracker:
        b, lh, rh, f = tracker.process(np.ascontiguousarray(work), (w, h))
    seq = PoseSequence.empty(1, Fraction(1), (w, h))
    if b is not None:
        seq.body[0], seq.body_present[0] = b, True
    for k, hand in enumerate((lh, rh)):
        if hand is not None:
            seq.hands[0, k], seq.hands_present[0, k] = hand, True
    if f is not None:
        seq.face[0], seq.face_present[0] = f, True
    return seq


def plan_chunks(duration_s: float | None, workers: int) -> list[tuple[float | None, float | None]]:
    """Split ``[0, duration)`` into ``workers`` contiguous ranges, none shorter than :data:`MIN_CHUNK_S`.

    The first range starts at ``None`` (the very beginning, including frames before time 0) and
    the last ends at ``None`` (through the end), so no frame is lost at either edge.
    """
    if not duration_s or workers <= 1:
        return [(None, None)]
    n = max(1, min(workers, int(duration_s // MIN_CHUNK_S)))
    if n == 1:
        return [(None, None)]
    cuts = [duration_s * k / n for k in range(1, n)]
    starts = [None] + cuts
    ends = cuts + [None]
    return list(zip(starts, ends))


def default_workers() -> int:
    """Worker processes: one per CPU core available to us (at most 8)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def extract_pose(
    video: str | Path,
    *,
    smooth: bool = True,
    fill_gaps: bool = True,
    repair_hands: bool = True,
    workers: int | None = None,
    options: HolisticOptions | None = None,
    progress: ProgressFn | None = None,
    require_person: bool = True,
    stride: int = 1,
    until_s: float | None = None,
    parts: str | None = None,
    camera: bool = False,
) -> PoseSequence:
    """Extract body (33), hands (2x21) and face (478, with iris) landmarks from every frame.

    With ``parts="body"`` only the 33 body landmarks are tracked, by BlazePose alone (Bazarevsky
    et al. 2020, the same body model Holistic runs, giving the same body landmarks) at about 40 %
    of Holistic's CPU time per frame; hands and face are then NaN with ``hands_present`` /
    ``face_present`` False on every frame. Use it when only the body is needed (animate).

    Parameters
    ----------
    video : str or Path
    smooth : bool
        Smooth jitter without delay (Savitzky-Golay, :func:`steadymotion.pose.clean.zero_phase_smooth`).
    fill_gaps : bool
        Interpolate dropouts of at most 0.2 s between detections.
    repair_hands : bool
        Fix frames where the left and right hand were swapped.
    workers : int, optional
        Parallel chunk processes; default one per core. ``1`` runs in this process.
    options : HolisticOptions, optional
    progress : callable(done, total), optional
        Called as frames complete; ``total`` is the container's frame count (or an estimate).
    require_person : bool
        Raise :class:`~steadymotion.errors.NoPersonError` when no frame holds a body.
    stride : int
        Track every ``stride``-th frame only (by frame number ``round(t * fps)``); the sequence then
        holds those frames, with their true timestamps. For measures that need a sampled skeleton
        rather than every frame (the drift meter).
    until_s : float, optional
        Track only the frames before this time (seconds from the start): a short preview of a
        long reference costs only what it shows.
    parts : {"all", "body", "body+face"}, optional
        What to track: ``"all"`` (Holistic: body, hands, face), ``"body"`` (BlazePose only) or
        ``"body+face"`` (BlazePose and the face mesh).
        Default ``options.parts``, which is ``"all"``; when given, it overrides ``options.parts``.
        The body layout is the same either way: x, y in source pixels, z scaled like x, visibility.
    camera : bool
        Also track the camera on the same decoded frames, with the person's box kept out of the
        feature mask (:class:`steadymotion.perception.camera.CameraSteps`): ``meta["camera_path"]``
        is then the ``(T, 2, 3)`` path :func:`steadymotion.perception.camera.track_camera` gives,
        without a second pass over the video. Needs ``stride=1``.

    Returns
    -------
    PoseSequence
        Coordinates in pixels of the source video as displayed (rotation applied).
        ``meta["parts"]`` records what was tracked. When the file
        is truncated, the frames before the damage are returned and a
        :class:`~steadymotion.errors.TruncatedVideoWarning` is issued.

    Raises
    ------
    InputNotFoundError, NotAVideoError, UnsupportedCodecError, NoFramesError, NoPersonError
    """
    return _extract(video, smooth=smooth, fill_gaps=fill_gaps, repair_hands=repair_hands, workers=workers, options=options,
                    progress=progress, require_person=require_person, stride=stride, until_s=until_s, parts=parts,
                    camera=camera)[0]


def extract_pose_and_appearance(video: str | Path, *, stride: int = 1, workers: int | None = None,
                                progress: ProgressFn | None = None) -> tuple[PoseSequence, Appearance]:
    """Like :func:`extract_pose`, and also measure the subject's appearance on each tracked frame
    (region colours, face descriptors) inside the same worker processes, on the frames they decode
    anyway, on a second thread beside the tracking. Used by the drift meter. Raises
    :class:`~steadymotion.errors.NoPersonError` likewise."""
    seq, app = _extract(video, stride=stride, workers=workers, progress=progress, appearance=True)
    return seq, app


def measure_appearance(video: str | Path, times: np.ndarray, body: np.ndarray, face: np.ndarray, sampled: np.ndarray, *,
                       stride: int = 1, progress: ProgressFn | None = None) -> Appearance:
    """The subject's appearance (region colours, face descriptors and shapes, as
    :func:`extract_pose_and_appearance` measures them) on the frames of ``video`` at ``times``, with
    the landmarks ``body (T, 33, 4)`` and ``face (T, 478, 3)`` given (source pixels, NaN rows where
    absent) instead of tracked: no pose model runs. ``sampled (T, 2)`` says on which of them region
    colours and face descriptors are measured (an earlier :class:`Appearance`'s ``sampled``: the
    same frames). For frames whose content is known to keep its place (``steadymotion repair``'s
    output where its repairs only recoloured frames): given the frames an :class:`Appearance` was
    measured on and its ``body``/``face``/``sampled``, it gives the same numbers. One worker process; ``stride`` only scales the progress count.
    """
    info = probe_video(video)
    total = info.frame_count or max(1, int(round((info.duration_s or 0) * float(info.fps))))
    bump = _Counter(progress, total)
    with tempfile.TemporaryDirectory(prefix="steadymotion-appearance-") as tmp:
        given = Path(tmp) / "given.npz"
        np.savez(given, times=np.asarray(times, np.float64), body=np.asarray(body, np.float32),
                 face=np.asarray(face, np.float32), sampled=np.asarray(sampled, bool))
        r = _run_parallel(str(info.path), [(None, None)], HolisticOptions(), bump, stride, True, False, str(given))[0]
    if progress is not None:
        progress(total, total)
    return Appearance(times=r.times, colors=r.colors, descriptors=r.descriptors, colors2=r.colors2, shapes=r.shapes,
                      body=r.body, face=r.face, sampled=r.sampled)


class _Counter:
    """A callback adding ``n`` done frames and reporting ``(done, total)`` (capped) to ``progress``."""

    def __init__(self, progress: ProgressFn | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)


def _extract(
    video: str | Path,
    *,
    smooth: bool = True,
    fill_gaps: bool = True,
    repair_hands: bool = True,
    workers: int | None = None,
    options: HolisticOptions | None = None,
    progress: ProgressFn | None = None,
    require_person: bool = True,
    stride: int = 1,
    appearance: bool = False,
    until_s: float | None = None,
    parts: str | None = None,
    camera: bool = False,
) -> tuple[PoseSequence, Appearance | None]:
    from steadymotion.pose.clean import clean_sequence

    opts = options or HolisticOptions()
    if parts is not None and parts != opts.parts:
        opts = replace(opts, parts=parts)  # validated by HolisticOptions
    info = probe_video(video)
    total = info.frame_count or max(1, int(round((info.duration_s or 0) * float(info.fps))))
    duration = info.duration_s
    if until_s is not None:
        if until_s <= 0:
            raise ValueError(f"until_s must be positive, got {until_s}")
        duration = min(duration, until_s) if duration else until_s
        total = max(1, min(total, int(math.ceil(until_s * float(info.fps)))))
    chunks = plan_chunks(duration, workers or default_workers())
    if until_s is not None:
        chunks[-1] = (chunks[-1][0], float(until_s))
    bump = _Counter(progress, total)
    # Even a single chunk runs in a worker process: MediaPipe's native logging and any crash in
    # native code stay there, and the caller (CLI, web UI, notebook) gets a clean error instead.
    if camera and stride != 1:
        raise ValueError("camera tracking needs every frame (stride=1)")
    results = _run_parallel(str(info.path), chunks, opts, bump, stride, appearance, camera)

    # join in time order; a range that stopped early ends the video only when no later range
    # decoded anything (a truncated file); otherwise its missing tail was damage in the middle
    kept: list[_ChunkResult] = []
    damage: list[Truncation | None] = []
    fps = float(info.fps)
    for k, ((a, b), r) in enumerate(zip(chunks, results)):
        later = any(len(q.times) for q in results[k + 1:])
        tr = r.truncation
        if not len(r.times) and later:  # a whole range undecodable, in the middle
            n = max(1, int(round((b - (a or 0.0)) * fps)))
            tr = Truncation(0, b, info.duration_s, "damaged data", n, n, tr.corrupt_packets if tr else 0,
                            tr.out_of_order if tr else 0, stopped=False)
        elif not len(r.times):  # nothing decodes from here on: the video ends early
            tr = tr or Truncation(0, a or 0.0, info.duration_s, "damaged data")
        elif later and tr is not None and tr.stopped:
            n = max(0, int(round((b - tr.stopped_at_s) * fps)))
            tr = replace(tr, lost=tr.lost + n, expected=tr.expected + n, stopped=False)
        if len(r.times):
            kept.append(r)
        damage.append(tr)
        if tr is not None and tr.stopped:
            break
    if not kept:
        raise NoFramesError(f"no frame of {info.path.name!r} could be decoded; re-export it as MP4 (H.264)")
    truncation = Truncation.merge(damage, sum(len(r.times) for r in kept) * max(1, stride), info.duration_s)
    report_damage(truncation, info.path)
    seq = PoseSequence(
        body=np.concatenate([r.body for r in kept]),
        hands=np.concatenate([r.hands for r in kept]),
        face=np.concatenate([r.face for r in kept]),
        body_present=np.concatenate([r.body_present for r in kept]),
        hands_present=np.concatenate([r.hands_present for r in kept]),
        face_present=np.concatenate([r.face_present for r in kept]),
        times=np.concatenate([r.times for r in kept]),
        world=np.concatenate([r.world for r in kept]),
        fps=info.fps / max(1, stride),
        size=info.size,
        source=str(video),
        meta={"chunks": len(chunks), "truncated": truncation is not None, "rotation": info.rotation,
              "parts": opts.parts},
    )
    if progress is not None:
        final = max(bump.done, len(seq))  # `done` counts source frames (stride included)
        progress(final, final)
    if require_person and not seq.body_present.any():
        raise NoPersonError(
            f"no person was found in any of the {len(seq)} frames of {info.path.name!r}; "
            "use a video in which one person is clearly visible (head to at least the hips)"
        )
    app = None
    if appearance:
        app = Appearance(times=seq.times.copy(), colors=np.concatenate([r.colors for r in kept]),
                         descriptors=np.concatenate([r.descriptors for r in kept]),
                         colors2=np.concatenate([r.colors2 for r in kept]), shapes=np.concatenate([r.shapes for r in kept]),
                         body=np.concatenate([r.body for r in kept]), face=np.concatenate([r.face for r in kept]),
                         sampled=np.concatenate([r.sampled for r in kept]))
    seq = clean_sequence(seq, smooth=smooth, fill_gaps=fill_gaps, repair_hands=repair_hands)
    if camera:
        seq.meta["camera_path"] = camera_path(np.concatenate([r.camera_steps for r in kept]), CameraSteps(info.size).k)
    return seq, app


def _chunk_entry(digest: str, chunk: tuple[float | None, float | None], opts: HolisticOptions, stride: int,
                 appearance: bool, camera: bool) -> str:
    """The cache entry's name of one chunk's tracking: what it depends on (the video file's bytes,
    the time range, every tracking option, the code; :mod:`steadymotion.cache`). Smoothing, gap
    filling and hand repair run after it on every call, so they are not part of the key."""
    h = hashlib.sha256(json.dumps({"code": code_fingerprint(), "video": digest, "range": list(chunk),
                                   "options": asdict(opts), "stride": stride, "appearance": appearance,
                                   "camera": camera}, sort_keys=True).encode())
    return f"tracked-{h.hexdigest()}.npz"


def _run_parallel(path: str, chunks, opts: HolisticOptions, bump: Callable[[int], None], stride: int = 1,
                  appearance: bool = False, camera: bool = False, given: str | None = None) -> list[_ChunkResult]:
    """Run each chunk in its own ``python -m steadymotion.pose._chunk`` process.

    Plain subprocesses rather than ``multiprocessing``: they need no ``if __name__ == "__main__"``
    guard in the caller's script, never fork a process holding MediaPipe's threads, and work the
    same from a script, a notebook or the web UI. Progress arrives as lines on stdout; the result
    as an ``.npz`` file in a private temporary folder.

    A chunk tracked before (the same video bytes, range and options, by the same code) is read
    from the cache instead (:mod:`steadymotion.cache`; not for ``given`` landmarks, which are
    measured on new frames each time), and every chunk tracked here is kept there.
    """
    import steadymotion

    done: list[_ChunkResult | None] = [None] * len(chunks)
    names: list[str | None] = [None] * len(chunks)
    if given is None and cache_dir() is not None:
        digest = file_digest(path)
        for i, chunk in enumerate(chunks):
            names[i] = _chunk_entry(digest, chunk, opts, stride, appearance, camera)
            hit = lookup(names[i])
            if hit is not None:
                try:
                    done[i] = _load_chunk(hit)
                except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
                    forget(names[i])  # damaged, or written by an older format: tracked again
                else:
                    bump(len(done[i].times) * max(1, stride))
    todo = [i for i in range(len(chunks)) if done[i] is None]
    if not todo:
        return list(done)

    env = dict(os.environ)
    pkg_root = str(Path(steadymotion.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("GLOG_minloglevel", "2")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # one worker runs per core: BLAS threads (the face descriptor's matrix products) would only spin
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="steadymotion-pose-") as tmp:
        procs: list[subprocess.Popen | None] = [None] * len(chunks)

        def start(i: int) -> subprocess.Popen:
            s, e = chunks[i]
            cmd = [sys.executable, "-m", "steadymotion.pose._chunk", path, str(Path(tmp) / f"chunk{i}.npz"), json.dumps(
                {"start_s": s, "end_s": e, "options": asdict(opts), "stride": stride, "appearance": appearance,
                 "camera": camera, "given": given})]
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)

        try:
            sel = selectors.DefaultSelector()
            last = [time.monotonic()] * len(chunks)
            reported = [0] * len(chunks)
            restarts = [0] * len(chunks)
            for i in todo:
                procs[i] = start(i)
                sel.register(procs[i].stdout, selectors.EVENT_READ, i)
            running = set(todo)
            while running:
                for key, _ in sel.select(timeout=0.5):
                    i = key.data
                    line = key.fileobj.readline()
                    if not line:
                        sel.unregister(key.fileobj)
                        running.discard(i)
                    elif line.startswith("progress "):
                        n = int(line.split()[1])
                        reported[i] += n
                        last[i] = time.monotonic()
                        bump(n)
                now = time.monotonic()
                for i in [i for i in running if now - last[i] > WORKER_STALL_S]:
                    # a worker that says nothing for this long is hung (seen once in MediaPipe's native
                    # graph under heavy load): kill it and run its chunk again, once
                    if restarts[i] >= 1:
                        raise RuntimeError(f"pose extraction worker {i} stopped responding twice; "
                                           "the machine may be overloaded, try again with --workers 1")
                    restarts[i] += 1
                    sel.unregister(procs[i].stdout)
                    _close(procs[i])
                    bump(-reported[i])
                    reported[i] = 0
                    procs[i] = start(i)
                    sel.register(procs[i].stdout, selectors.EVENT_READ, i)
                    last[i] = time.monotonic()
            for i in todo:
                err = procs[i].stderr.read()
                if procs[i].wait() != 0:
                    raise _chunk_error(err)
            for i in todo:
                out = Path(tmp) / f"chunk{i}.npz"
                done[i] = _load_chunk(out)
                if names[i] is not None:
                    store(names[i], lambda t, out=out: shutil.copyfile(out, t))
            return list(done)
        finally:
            for proc in procs:
                if proc is not None:
                    _close(proc)


def _close(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        stream.close()


def _chunk_error(stderr: str) -> Exception:
    """Re-raise a worker's SteadyMotionError with its own message, anything else as RuntimeError."""
    from steadymotion import errors

    for line in reversed(stderr.strip().splitlines()):
        if line.startswith("steadymotion-error "):
            _, name, message = line.split(" ", 2)
            cls = getattr(errors, name, None)
            if isinstance(cls, type) and issubclass(cls, errors.SteadyMotionError):
                return cls(message)
    tail = "\n".join(stderr.strip().splitlines()[-5:])
    return RuntimeError(f"pose extraction worker failed:\n{tail}")


def _save_chunk(r: _ChunkResult, path: Path) -> None:
    arrays = {f: getattr(r, f) for f in r.__dataclass_fields__ if isinstance(getattr(r, f), np.ndarray)}
    if r.truncation is not None:
        arrays["truncation"] = np.array(json.dumps(asdict(r.truncation)))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _load_chunk(path: Path) -> _ChunkResult:
    with np.load(path, allow_pickle=False) as z:
        trunc = Truncation(**json.loads(str(z["truncation"]))) if "truncation" in z else None
        return _ChunkResult(**{k: z[k] for k in z.files if k != "truncation"}, truncation=trunc)
