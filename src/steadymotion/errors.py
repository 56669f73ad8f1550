"""The one error hierarchy of steadymotion.

Every error a user can cause derives from :class:`SteadyMotionError` *and* from the matching
built-in exception, so callers may catch either (``except ValueError`` keeps working). The CLI
turns any of them into one red line and exit code 2. Messages say what is wrong and how to fix it.
"""

from __future__ import annotations


class SteadyMotionError(Exception):
    """Base class of every error steadymotion raises on purpose."""


class InputNotFoundError(SteadyMotionError, FileNotFoundError):
    """An input path does not exist or is not a regular file."""


class NotAVideoError(SteadyMotionError, ValueError):
    """The file exists but holds no decodable video stream."""


class UnsupportedCodecError(SteadyMotionError, ValueError):
    """The video stream uses a codec this FFmpeg build cannot decode."""


class NoFramesError(SteadyMotionError, ValueError):
    """The video opened but not a single frame could be decoded."""


class TruncatedVideoError(SteadyMotionError, ValueError):
    """Decoding lost frames: raised in strict mode, or when more than half the frames of a damaged
    video are lost (otherwise a :class:`TruncatedVideoWarning` is issued and what decoded is used)."""


class NotAnImageError(SteadyMotionError, ValueError):
    """The file is not a readable image."""


class ImageTooLargeError(SteadyMotionError, ValueError):
    """The image (or video frame) is larger than steadymotion will process."""


class InvalidPoseDataError(SteadyMotionError, ValueError):
    """Pose arrays have the wrong shape/dtype, or a pose file is malformed."""


class NoPersonError(SteadyMotionError, ValueError):
    """No person could be found where one is required."""


class OutputError(SteadyMotionError, OSError):
    """An output file or folder cannot be written."""


class MissingDependencyError(SteadyMotionError, ImportError):
    """An optional dependency is not installed; the message gives the pip line."""


def error_message(exc: BaseException) -> str:
    """The one line an interface shows for ``exc`` (the CLI after "error:", the web page, a batch's
    error row): a :class:`SteadyMotionError` in its own words, running out of memory as such, and
    anything else named as the bug it is."""
    if isinstance(exc, SteadyMotionError):
        text = str(exc)
    elif isinstance(exc, MemoryError):
        text = "out of memory: use a shorter or smaller video"
    else:
        text = f"internal error ({type(exc).__name__}: {exc}); please report it with the input files"
    return " ".join(text.split())


class SteadyMotionWarning(UserWarning):
    """Base class of warnings (e.g. a truncated video that was still partly usable).

    ``key`` names what the warning is about (a video file, say): one read of a damaged video by the
    frame pass and another by the pose workers describe the same damage in slightly different
    numbers, and interfaces show one warning per key (:func:`distinct_warnings`).
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key if key is not None else message


def distinct_warnings(messages) -> list[str]:
    """The texts of ``messages`` (warning instances or strings), one per :attr:`SteadyMotionWarning.key`,
    in their order."""
    seen: dict = {}
    for m in messages:
        seen.setdefault((type(m), getattr(m, "key", str(m))), str(m))
    return list(seen.values())


class TruncatedVideoWarning(SteadyMotionWarning):
    """Decoding stopped before the container's stated end; what decoded is kept."""


class InvalidOptionError(SteadyMotionError, ValueError):
    """An option has a value we cannot use (the message quotes it and says what is allowed)."""
