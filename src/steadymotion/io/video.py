"""Streaming video reading and writing on PyAV (FFmpeg).

:class:`VideoReader` yields frames one at a time as ``(H, W, 3) uint8`` RGB with their exact
timestamps (variable frame rate honoured), rotated upright when the container carries a display
rotation (phone videos), optionally downscaled on the fly. It never holds more than one frame.

:class:`VideoWriter` writes H.264 ``yuv420p`` MP4 (BT.709, ``+faststart``) that plays in browsers,
phones and editors, optionally carrying the audio of a source video, to a temporary file that is
renamed only when everything succeeded.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from steadymotion.errors import (
    ImageTooLargeError,
    InputNotFoundError,
    NoFramesError,
    NotAVideoError,
    OutputError,
    TruncatedVideoError,
    TruncatedVideoWarning,
    UnsupportedCodecError,
)
from steadymotion.io.atomic import CloseOrAbort, PendingFile, check_writable

#: Largest frame steadymotion decodes (8K UHD); larger streams are refused with a clear error.
MAX_VIDEO_PIXELS = 7680 * 4320
#: File extensions taken for videos where files are picked by name (uploads, folders given to a batch).
VIDEO_INPUT_EXTENSIONS = (".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi")
#: File extensions :class:`VideoWriter` writes: containers that take H.264 (the muxer is chosen by the name).
VIDEO_OUTPUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv")
#: Audio codecs the MP4 muxer takes as they are; anything else is re-encoded to AAC.
MP4_AUDIO_CODECS = {"aac", "mp3", "alac", "opus", "flac", "ac3", "eac3"}

# FFmpeg's own chatter would drown our one-line errors, and must not reach Python at all: with a
# Python log callback installed (any level but None), a codec's frame thread that logs while the
# decoder is being freed waits for the GIL the freeing thread holds, and the process hangs (seen
# when a reader stopped part-way through a clip: animate's camera pass, a first-frame grab). With
# None, PyAV installs a C callback that drops every message without touching Python.
av.logging.set_level(None)


@dataclass(frozen=True)
class VideoInfo:
    """What a video container says about its main video stream.

    Attributes
    ----------
    path : Path
    width, height : int
        Display size in pixels, i.e. after the display rotation is applied.
    fps : Fraction
        Average frame rate, exact (``30000/1001`` stays ``30000/1001``).
    frame_count : int or None
        Frame count stated by the container (``None`` when it does not say). The frames a decoder
        really delivers can differ; :class:`VideoReader` reports what it decoded.
    duration_s : float or None
        Stream duration in seconds as stated by the container.
    rotation : int
        Counter-clockwise degrees (0, 90, 180, 270) applied to decoded frames to show them upright.
    codec : str
        Video codec name (``h264``, ``hevc``, ``vp9`` ...).
    audio_codec : str or None
        Codec of the first audio stream, ``None`` when the file is silent.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frame_count: int | None
    duration_s: float | None
    rotation: int
    codec: str
    audio_codec: str | None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` after rotation."""
        return (self.width, self.height)


class Frame:
    """One decoded frame.

    Attributes
    ----------
    index : int
        0-based position among the frames this reader delivered.
    t : float
        Presentation time in seconds from the start of the stream.
    pts : int or None
        Raw presentation timestamp in the stream's time base (for exact bookkeeping).
    image : ndarray, (H, W, 3) uint8
        RGB pixels, upright. Converted from the decoder's format on first access, so a caller that
        skips frames (a pose pass on every third frame) pays for decoding only, not for conversion
        and scaling (a third of the decode cost on 720p H.264).
    """

    __slots__ = ("_convert", "_image", "index", "pts", "t")

    def __init__(self, index: int, t: float, pts: int | None, image: np.ndarray | None = None, convert=None):
        if image is None and convert is None:
            raise ValueError("a Frame needs its pixels or a way to make them")
        self.index, self.t, self.pts = index, t, pts
        self._image, self._convert = image, convert

    @property
    def image(self) -> np.ndarray:
        if self._image is None:
            self._image, self._convert = self._convert(), None
        return self._image

    def __repr__(self) -> str:
        return f"Frame(index={self.index}, t={self.t:.3f}, pts={self.pts})"


@dataclass(frozen=True)
class Truncation:
    """What decoding lost: frames lost to damaged data, and where decoding stopped early.

    Attributes
    ----------
    frames : int
        Frames delivered.
    stopped_at_s : float
        Where decoding stopped (when ``stopped``), else the end of the last frame delivered.
    expected_s : float or None
        The stream's stated duration.
    reason : str
        Why decoding stopped (``"file ends early"``, ``"read error: ..."``) or what was damaged.
    lost : int
        Frames missing *inside* the decoded span: undecodable packets, and frames the decoder gave
        back out of time order or with a repeated timestamp (dropped, so times stay strictly
        increasing).
    expected : int
        Frames that span should hold at the stream's average rate (``frames + lost``).
    corrupt_packets, out_of_order : int
        The evidence: packets the decoder rejected, frames dropped for going back in time.
    stopped : bool
        Decoding ended before the stated end (a truncated file); the frames before are kept.
    """

    frames: int
    stopped_at_s: float
    expected_s: float | None
    reason: str
    lost: int = 0
    expected: int = 0
    corrupt_packets: int = 0
    out_of_order: int = 0
    stopped: bool = True

    @property
    def share_lost(self) -> float:
        """Share of the frames inside the decoded span that were lost (0 for a clean prefix)."""
        return self.lost / self.expected if self.expected else 0.0

    @classmethod
    def merge(cls, parts: list[Truncation | None], frames: int, expected_s: float | None) -> Truncation | None:
        """One account for consecutive ranges read separately (``parts`` in time order, ``None`` =
        clean); a range that stopped early ends the account, as it ends the frames kept."""
        found = [p for p in parts if p is not None]
        if not found:
            return None
        stop = next((p for p in found if p.stopped), None)
        last = stop or found[-1]
        lost = sum(p.lost for p in found)
        return cls(frames, last.stopped_at_s, expected_s, last.reason, lost, frames + lost,
                   sum(p.corrupt_packets for p in found), sum(p.out_of_order for p in found), stop is not None)

    def message(self, path: Path, fatal: bool = False) -> str:
        what = []
        if self.lost:
            evidence = [f"{n} {one if n == 1 else many}" for n, one, many in (
                (self.corrupt_packets, "undecodable packet", "undecodable packets"),
                (self.out_of_order, "frame out of time order", "frames out of time order")) if n]
            what.append(f"{self.lost} of {self.expected} frames ({100 * self.share_lost:.0f} %) are lost to damaged data"
                        + (f" ({', '.join(evidence)})" if evidence else ""))
        if self.stopped:
            expect = f" of {self.expected_s:.2f} s" if self.expected_s else ""
            what.append(f"decoding stopped at {self.stopped_at_s:.2f} s{expect} after {self.frames} frames ({self.reason})")
        fix = ("re-export it from the original, or re-encode what survives "
               f"(ffmpeg -i {path.name} -c:v libx264 -pix_fmt yuv420p fixed.mp4)")
        if fatal:
            return f"video {path.name!r} is too damaged to use: {'; '.join(what)}; {fix}"
        kept = "the frames before that point are used" if self.stopped and not self.lost else "the frames that decoded are used"
        return f"video {path.name!r} is truncated or damaged: {'; '.join(what)}; {kept} — to get the rest, {fix}"


#: Above this share of frames lost inside the decoded span, a damaged video is refused
#: (:class:`TruncatedVideoError`) instead of used with a warning.
MAX_LOST_SHARE = 0.5


def report_damage(damage: Truncation | None, path: Path, *, strict: bool = False, stacklevel: int = 3) -> None:
    """Warn about a damaged or truncated video (:class:`TruncatedVideoWarning`), or raise
    :class:`TruncatedVideoError` when ``strict`` or when more than :data:`MAX_LOST_SHARE` of
    the frames are lost in the middle."""
    if damage is None:
        return
    if strict or damage.share_lost > MAX_LOST_SHARE:
        raise TruncatedVideoError(damage.message(path, fatal=True))
    warnings.warn(TruncatedVideoWarning(damage.message(path), key=str(path)), stacklevel=stacklevel)


def _check_input(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputNotFoundError(f"video {str(p)!r} not found; check the path")
    if p.is_dir():
        raise InputNotFoundError(f"{str(p)!r} is a folder, not a video file")
    if p.stat().st_size == 0:
        raise NotAVideoError(f"video {str(p)!r} is empty (0 bytes); the download or copy probably failed")
    return p


def _open(p: Path) -> av.container.InputContainer:
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore")
    except av.error.FileNotFoundError:
        raise InputNotFoundError(f"video {str(p)!r} not found; check the path") from None
    except av.error.PermissionError:
        raise InputNotFoundError(f"video {str(p)!r} cannot be read (permission denied)") from None
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise NotAVideoError(
            f"{str(p)!r} is not a video FFmpeg can read ({_reason(exc)}); if it is a video, it may be "
            "truncated (an incomplete download): re-export it as MP4 (H.264)"
        ) from None


def _reason(exc: Exception) -> str:
    return (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).strip().rstrip(".")


def _video_stream(container: av.container.InputContainer, p: Path) -> av.video.stream.VideoStream:
    streams = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
    if not streams:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        raise NotAVideoError(f"{str(p)!r} holds no video stream (it holds {', '.join(kinds)}); give a video file")
    stream = streams[0]
    ctx = stream.codec_context
    if ctx is None or not getattr(ctx, "name", None) or ctx.name == "none":
        raise UnsupportedCodecError(
            f"{str(p)!r}: its video codec is not supported by this FFmpeg build; re-encode it to H.264 MP4"
        )
    return stream


def _stream_rotation(container: av.container.InputContainer, stream) -> int:
    """Display rotation, counter-clockwise degrees in {0, 90, 180, 270}, read from the first frame.

    PyAV exposes the display matrix per frame (``VideoFrame.rotation``, CCW degrees), as FFmpeg's
    own auto-rotation uses it; we read one frame and seek back.
    """
    rot = 0
    try:
        for frame in container.decode(stream):
            rot = int(frame.rotation or 0)
            break
    except av.error.FFmpegError:
        rot = 0
    try:
        container.seek(0, stream=stream)  # rewinds the demuxer and flushes the decoder
    except av.error.FFmpegError:
        pass
    return int(round(rot / 90.0)) % 4 * 90


def _info(container, stream, p: Path, rotation: int) -> VideoInfo:
    ctx = stream.codec_context
    fps = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = Fraction(fps) if fps else Fraction(25)
    duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
    if duration is None and container.duration:
        duration = container.duration / av.time_base
    w, h = ctx.width, ctx.height
    if rotation in (90, 270):
        w, h = h, w
    audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    return VideoInfo(
        path=p,
        width=w,
        height=h,
        fps=fps,
        frame_count=int(stream.frames) if stream.frames else None,
        duration_s=duration,
        rotation=rotation,
        codec=ctx.name,
        audio_codec=audio,
    )



@contextlib.contextmanager
def read_ahead(reader, depth: int = 4, convert: Callable[[Frame], bool] | None = None) -> Iterator[Iterator[Frame]]:
    """``reader``'s frames, decoded (and converted to RGB) in a thread up to ``depth`` frames ahead.

    PyAV lets go of the GIL while it decodes and converts, so the caller's work on one frame and the
    decoding of the next overlap. ``convert(frame)`` says which frames to convert there (default:
    all; a caller that samples frames converts only those, the others still come, unconverted).
    Errors are raised where the frame would have come. The thread is stopped and joined on leaving,
    before the reader is closed.
    """
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def run() -> None:
        try:
            for frame in reader:
                if convert is None or convert(frame):
                    frame.image  # noqa: B018 - converted here, not in the caller's thread
                if not put(frame):
                    return
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
            put(exc)
            return
        put(end)

    def frames() -> Iterator[Frame]:
        while True:
            item = ahead.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=run, daemon=True, name="steadymotion-reader")
    thread.start()
    try:
        yield frames()
    finally:
        stop.set()
        thread.join()

def probe_video(path: str | Path) -> VideoInfo:
    """Read a video's header without decoding it all (one frame is decoded to learn its rotation)."""
    p = _check_input(path)
    with _open(p) as container:
        stream = _video_stream(container, p)
        return _info(container, stream, p, _stream_rotation(container, stream))


def _fit_size(w: int, h: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(w, h) <= max_side:
        return w, h
    s = max_side / max(w, h)
    return max(2, int(round(w * s))), max(2, int(round(h * s)))


class VideoReader:
    """Iterate over the frames of a video, streaming.

    Parameters
    ----------
    path : str or Path
    start_s, end_s : float, optional
        Deliver only frames with ``start_s <= t < end_s`` (seconds). Seeking lands on the keyframe
        before ``start_s`` and decodes forward, so frame selection is exact.
    max_side : int, optional
        Downscale (area filter) so the longer side is at most this many pixels.
    strict : bool
        When decoding stops before the stated end, raise :class:`TruncatedVideoError` instead of
        warning (:class:`TruncatedVideoWarning`) and keeping what decoded.
    report : bool
        Warn (or raise) about damage when the iteration ends (default). ``False`` only records it
        in :attr:`truncation`, for a caller that reads a video in ranges and reports once.
    wanted : callable(t) -> bool, optional
        The frames (by time, seconds) the caller will use, for a reader of a sample of the frames:
        a frame not wanted that no other frame refers to (H.264's non-reference frames) is then
        not decoded at all (FFmpeg's ``skip_frame = "NONREF"``, set packet by packet) and not
        delivered; the wanted ones decode bit-identically. Frames not wanted that others refer to
        are still delivered. Only with ``report=False``: the damage record then counts delivered
        frames only.

    Notes
    -----
    Times are strictly increasing whatever the file holds: a damaged stream can make the decoder
    return frames out of time order or twice; such frames are dropped and counted. Frames lost to
    damaged data are counted too (:class:`Truncation`): a few give a warning naming the share
    lost, more than :data:`MAX_LOST_SHARE` an error, both saying how to repair the file.

    Examples
    --------
    >>> with VideoReader("clip.mp4") as video:           # doctest: +SKIP
    ...     for frame in video:
    ...         print(frame.index, frame.t, frame.image.shape)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        start_s: float | None = None,
        end_s: float | None = None,
        max_side: int | None = None,
        strict: bool = False,
        report: bool = True,
        wanted: Callable[[float], bool] | None = None,
    ) -> None:
        if wanted is not None and report:
            raise ValueError("wanted (frames left undecoded) needs report=False: the damage record would count them as lost")
        self.wanted = wanted
        self.path = _check_input(path)
        self._container = _open(self.path)
        try:
            self._stream = _video_stream(self._container, self.path)
            self._stream.thread_type = "AUTO"
            self.info = _info(self._container, self._stream, self.path, _stream_rotation(self._container, self._stream))
        except BaseException:
            self._container.close()
            raise
        if self.info.width * self.info.height > MAX_VIDEO_PIXELS and not max_side:
            self._container.close()
            raise ImageTooLargeError(
                f"video {self.path.name!r} is {self.info.width}x{self.info.height}, larger than 8K; "
                "downscale it first or pass a smaller working size"
            )
        self.start_s, self.end_s, self.max_side, self.strict, self.report = start_s, end_s, max_side, strict, report
        self.truncation: Truncation | None = None
        self.frames_read = 0
        self.corrupt_packets = 0
        self.out_of_order = 0
        self._counted: tuple[int | None, int | None] = (None, None)  # pts range whose bad packets count

    # -- context manager -------------------------------------------------------------------------
    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    @property
    def fps(self) -> Fraction:
        return self.info.fps

    @property
    def output_size(self) -> tuple[int, int]:
        """``(width, height)`` of delivered frames (after rotation and ``max_side``)."""
        return _fit_size(self.info.width, self.info.height, self.max_side)

    def _to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        rot = self.info.rotation
        ow, oh = self.output_size
        cw, ch = (oh, ow) if rot in (90, 270) else (ow, oh)
        if (cw, ch) != (frame.width, frame.height):
            img = frame.to_ndarray(format="rgb24", width=cw, height=ch, interpolation="AREA")
        else:
            img = frame.to_ndarray(format="rgb24")
        if rot:
            img = np.ascontiguousarray(np.rot90(img, k=rot // 90))
        return img

    def _decoded(self, seek_pts: int | None) -> Iterator[av.VideoFrame]:
        """Decoded frames from ``seek_pts`` (keyframe at or before it) on; read errors end the
        stream and are recorded in ``self._stop_reason``."""
        self._stop_reason = None
        if seek_pts is not None:
            self._container.seek(seek_pts, stream=self._stream, backward=True, any_frame=False)
        demux = self._container.demux(self._stream)
        bad = 0
        ctx, origin, tb = self._stream.codec_context, self._stream.start_time or 0, self._stream.time_base
        skipping = False
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:
                self._stop_reason = f"read error: {_reason(exc)}"
                return
            if self.wanted is not None:  # a frame nobody uses and nothing refers to is not decoded
                skip = packet.pts is not None and not self.wanted(float((packet.pts - origin) * tb))
                if skip != skipping:
                    ctx.skip_frame = "NONREF" if skip else "DEFAULT"
                    skipping = skip
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                when = packet.pts if packet.pts is not None else packet.dts
                lo, hi = self._counted
                if when is None or ((lo is None or when >= lo) and (hi is None or when < hi)):
                    self.corrupt_packets += 1  # counted in the range read only (ranges read apart add up)
                bad += 1
                if bad > 50:
                    self._stop_reason = "undecodable data"
                    return
                continue
            bad = 0
            yield from frames

    def __iter__(self) -> Iterator[Frame]:
        stream, tb = self._stream, self._stream.time_base
        origin = stream.start_time or 0
        start_pts = None if self.start_s is None else origin + int(math.floor(self.start_s / tb))
        end_pts = None if self.end_s is None else origin + int(math.floor(self.end_s / tb))
        seek = start_pts if start_pts is not None and start_pts > origin else None
        self.corrupt_packets = self.out_of_order = 0
        self._counted = (start_pts, end_pts)
        frames = self._decoded(seek)
        if seek is not None:
            # a container with a poor index can land *after* the start; then decode from the top
            first = next(frames, None)
            if first is not None and first.pts is not None and first.pts > start_pts:
                frames = self._decoded(origin)
            elif first is not None:
                frames = itertools.chain([first], frames)
        frame_dt = 1.0 / float(self.info.fps)
        index = 0
        last_t = last_pts = None
        done = False
        for frame in frames:
            pts = frame.pts
            if pts is not None:
                if start_pts is not None and pts < start_pts:
                    continue
                if end_pts is not None and pts >= end_pts:
                    done = True
                    break
                if last_pts is not None and pts <= last_pts:
                    self.out_of_order += 1  # back in time or a repeated timestamp: damaged data
                    continue
                last_pts = pts
                t = float((pts - origin) * tb)
            else:
                t = (index / float(self.info.fps)) + (self.start_s or 0.0)
                if last_t is not None and t <= last_t:
                    t = last_t + frame_dt
            last_t = t
            yield Frame(index=index, t=t, pts=pts, convert=functools.partial(self._to_rgb, frame))
            index += 1
        reason = self._stop_reason
        self.frames_read = index
        if index == 0:
            where = f" between {self.start_s} s and {self.end_s} s" if self.start_s or self.end_s else ""
            raise NoFramesError(
                f"no frame of {self.path.name!r} could be decoded{where}; the file is damaged or empty "
                "— re-export it as MP4 (H.264)"
            )
        expected_end = self.info.duration_s
        if self.end_s is not None and expected_end is not None:
            expected_end = min(expected_end, self.end_s)
        if reason is None and not done and expected_end is not None and last_t + frame_dt < expected_end - max(0.5, 3 * frame_dt):
            reason = f"undecodable data after that: {self.corrupt_packets} bad packets" if self.corrupt_packets else "file ends early"
        stopped = reason is not None and not done
        lost = 0
        if self.corrupt_packets or self.out_of_order:
            # frames the range should hold: from its start to its end when a frame past the end was
            # seen (it was read through), else to the last frame kept
            span_end = self.end_s if done else last_t + frame_dt
            lost = max(0, int(round((span_end - (self.start_s or 0.0)) / frame_dt)) - index)
        if stopped or lost:
            self.truncation = Truncation(index, last_t + frame_dt, self.info.duration_s, reason or "damaged data",
                                         lost, index + lost, self.corrupt_packets, self.out_of_order, stopped)
            if self.report:
                report_damage(self.truncation, self.path, strict=self.strict)


def check_video_output(path: str | Path, inputs=()) -> Path:
    """Fail before any work when ``path`` cannot become a video: its name must end in one of
    :data:`VIDEO_OUTPUT_EXTENSIONS`, and it must be writable and not one of ``inputs``
    (:func:`~steadymotion.io.atomic.check_writable`)."""
    p = check_writable(path, inputs)
    if p.suffix.lower() not in VIDEO_OUTPUT_EXTENSIONS:
        what = f"{p.suffix!r} is not a video container" if p.suffix else "it has no extension"
        raise OutputError(f"output {str(p)!r} must be a video file ({what}); end it in .mp4 (or .m4v, .mov, .mkv)")
    return p


def read_frames(path: str | Path, **kwargs) -> Iterator[np.ndarray]:
    """Convenience generator over RGB frames only (see :class:`VideoReader` for the options)."""
    with VideoReader(path, **kwargs) as reader:
        for frame in reader:
            yield frame.image


class VideoWriter(CloseOrAbort):
    """Write RGB frames to an H.264 MP4 that plays everywhere.

    Output is ``yuv420p``, BT.709, ``+faststart``, with even dimensions: an odd width or height is
    padded by one pixel on the right/bottom (edge pixels repeated), so coordinates stay valid.
    Everything goes to a temporary file renamed onto ``path`` by :meth:`close`; on an exception
    inside a ``with`` block, or on :meth:`abort`, nothing is left behind.

    Parameters
    ----------
    path : str or Path
        Output ``.mp4`` (``.m4v``, ``.mov`` and ``.mkv`` also work; another name is refused at once).
    fps : Fraction, float or int
    audio_from : str or Path, optional
        Copy the first audio stream of this file (remuxed as is when MP4 accepts its codec, else
        re-encoded to AAC), cut at the video's end.
    crf : int
        x264 constant rate factor (lower is better quality; 18 is visually lossless).
    preset : str
        x264 speed preset.
    display_rotation : int
        Counter-clockwise degrees stored in the container's display matrix (as phones do); frames
        are encoded as given and players rotate them. 0 (default) writes no rotation.
    threads : int, optional
        x264 threads (default: x264's own choice, 1.5 per core). One is the most CPU-efficient when
        other work runs beside the encoder (animate's renderer).
    x264_params : str, optional
        More x264 options over the preset's, ``key=value:key=value`` (ffmpeg's ``-x264-params``).
    """

    def __init__(
        self,
        path: str | Path,
        fps: Fraction | float | int,
        *,
        audio_from: str | Path | None = None,
        crf: int = 18,
        preset: str = "veryfast",
        display_rotation: int = 0,
        threads: int | None = None,
        x264_params: str | None = None,
    ) -> None:
        self.path = check_video_output(path)
        self._threads = threads
        self._x264_params = x264_params
        if display_rotation % 90:
            raise ValueError(f"display_rotation must be a multiple of 90 degrees, got {display_rotation}")
        self._display_rotation = display_rotation
        self.fps = Fraction(fps).limit_denominator(1_000_000) if not isinstance(fps, Fraction) else fps
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self._pending = PendingFile(self.path)
        self._closed = False
        try:
            self._out = av.open(str(self._pending.tmp), mode="w", options={"movflags": "+faststart"})
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            self._closed = True
            self._pending.discard()
            raise OutputError(f"cannot create video {str(self.path)!r}: {_reason(exc)}") from None
        self._vstream = None
        self._crf, self._preset = crf, preset
        self._size: tuple[int, int] | None = None
        self.frames_written = 0
        self._audio_src = None
        self._audio_in = self._audio_out = None
        self._audio_packets = None
        self._audio_transcode = False
        self._pending_audio = None
        if audio_from is not None:
            self._setup_audio(Path(audio_from))

    # -- audio -----------------------------------------------------------------------------------
    def _setup_audio(self, src: Path) -> None:
        src = _check_input(src)
        self._audio_src = _open(src)
        if not self._audio_src.streams.audio:
            self._audio_src.close()
            self._audio_src = None
            return
        ain = self._audio_src.streams.audio[0]
        self._audio_in = ain
        if ain.codec_context.name in MP4_AUDIO_CODECS:
            self._audio_out = self._out.add_stream_from_template(ain)
        else:
            self._audio_transcode = True
            self._audio_out = self._out.add_stream("aac", rate=ain.codec_context.sample_rate or 44100)
            channels = ain.codec_context.channels or 2
            self._audio_out.layout = "mono" if channels == 1 else "stereo"  # AAC wants a named layout
        self._audio_packets = self._audio_src.demux(ain)

    def _mux_audio_until(self, t_end: float | None) -> None:
        """Mux source audio packets whose time is before ``t_end`` (all remaining when ``None``)."""
        if self._audio_packets is None:
            return
        ain, tb = self._audio_in, self._audio_in.time_base
        origin = ain.start_time or 0
        limit = self.frames_written / float(self.fps)  # never beyond the video written so far
        if t_end is not None:
            limit = min(limit, t_end)
        while True:
            if self._pending_audio is None:
                try:
                    self._pending_audio = next(self._audio_packets)
                except (StopIteration, av.error.FFmpegError):
                    self._audio_packets = None
                    return
            pkt = self._pending_audio
            if pkt.pts is None or pkt.size == 0:
                self._pending_audio = None
                continue
            t = float((pkt.pts - origin) * tb)
            if t >= limit:
                return
            self._pending_audio = None
            if self._audio_transcode:
                for frame in pkt.decode():
                    frame.pts = None
                    for out_pkt in self._audio_out.encode(frame):
                        self._out.mux(out_pkt)
            else:
                pkt.pts -= origin
                if pkt.dts is not None:
                    pkt.dts -= origin
                pkt.stream = self._audio_out
                self._out.mux(pkt)

    # -- video -----------------------------------------------------------------------------------
    def _open_video(self, w: int, h: int) -> None:
        ew, eh = w + (w % 2), h + (h % 2)
        s = self._out.add_stream("libx264", rate=self.fps)
        s.width, s.height, s.pix_fmt = ew, eh, "yuv420p"
        s.options = {"crf": str(self._crf), "preset": self._preset, "movflags": "+faststart"}
        if self._x264_params:
            s.options = {**s.options, "x264-params": self._x264_params}
        if self._threads:
            s.codec_context.thread_count = int(self._threads)
        cc = s.codec_context
        cc.color_primaries = 1  # BT.709
        cc.color_trc = 1
        cc.colorspace = 1
        cc.color_range = 1  # limited ("tv") range, what players expect
        if self._display_rotation:
            s.set_display_rotation(self._display_rotation)
        self._vstream, self._size = s, (w, h)

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the frames given (before even-padding); ``None`` before the first."""
        return self._size

    def write(self, image: np.ndarray) -> None:
        """Append one ``(H, W, 3) uint8`` RGB frame."""
        if self._closed:
            raise OutputError("VideoWriter is closed")
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got shape {img.shape} dtype {img.dtype}")
        h, w = img.shape[:2]
        if self._vstream is None:
            if w * h > MAX_VIDEO_PIXELS:
                raise ImageTooLargeError(f"frame {w}x{h} is larger than 8K; render at a smaller size")
            self._open_video(w, h)
        elif (w, h) != self._size:
            raise ValueError(f"frame {self.frames_written} is {w}x{h}, the video is {self._size[0]}x{self._size[1]}")
        if w % 2 or h % 2:
            img = np.pad(img, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
        frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
        frame.pts = self.frames_written
        frame.time_base = 1 / self.fps
        try:
            for packet in self._vstream.encode(frame):
                self._out.mux(packet)
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"writing {str(self.path)!r} failed: {_reason(exc)} (disk full?)") from None
        self.frames_written += 1
        self._mux_audio_until(None)

    def close(self) -> Path:
        """Flush the encoder, add the remaining audio and move the file into place."""
        if self._closed:
            return self.path
        if self._vstream is None:
            self.abort()
            raise NoFramesError(f"no frames were written to {str(self.path)!r}; nothing to save")
        try:
            for packet in self._vstream.encode(None):
                self._out.mux(packet)
            self._mux_audio_until(self.frames_written / float(self.fps))
            if self._audio_transcode and self._audio_out is not None:
                for packet in self._audio_out.encode(None):
                    self._out.mux(packet)
            self._out.close()
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"finishing {str(self.path)!r} failed: {_reason(exc)}") from None
        finally:
            if self._audio_src is not None:
                self._audio_src.close()
        self._closed = True
        return self._pending.commit()

    def abort(self) -> None:
        """Drop everything written; the output path is left as it was."""
        if self._closed:
            return
        try:
            self._out.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away anyway
            pass
        if self._audio_src is not None:
            self._audio_src.close()
        self._closed = True
        self._pending.discard()

