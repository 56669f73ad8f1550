"""Native libraries: their stderr chatter (MediaPipe's glog/absl, TFLite's XNNPACK banner) kept off the
console, and MediaPipe imported without what steadymotion never uses."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import types


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence MediaPipe/TFLite's native start-up chatter (glog, absl, XNNPACK) on fd 2."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. some notebook kernels)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _DeferredModule(types.ModuleType):
    """A module imported for real on first attribute use (then the real one replaces it everywhere)."""

    def __getattr__(self, attr: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def import_mediapipe():
    """``import mediapipe``, without paying for its drawing utilities' ``matplotlib.pyplot``.

    ``mediapipe/__init__`` imports ``solutions.drawing_utils``, which imports ``matplotlib.pyplot``
    at the top (about 0.3 s of CPU, in every pose worker and in the main process) although only
    its plotting helpers use it; steadymotion never calls them. ``matplotlib.pyplot`` is left as a
    stand-in that imports the real module on first use, so anything that does plot still works.
    """
    if "mediapipe" in sys.modules:
        return sys.modules["mediapipe"]
    if "matplotlib.pyplot" not in sys.modules:
        sys.modules["matplotlib.pyplot"] = _DeferredModule("matplotlib.pyplot")
    # the drawing helpers themselves (and through them the ``matplotlib`` package, which a stand-in
    # for ``pyplot`` alone still imports) wait for their first use too: ~0.1 s of CPU a process
    stand_ins = {}
    for name in _DRAWING:
        if name not in sys.modules:
            stand_ins[name] = sys.modules[name] = _DeferredModule(name)
    import mediapipe

    solutions = sys.modules["mediapipe.python.solutions"]
    for name, module in stand_ins.items():
        if sys.modules.get(name) is module and name.startswith("mediapipe.python.solutions."):
            setattr(solutions, name.rsplit(".", 1)[1], module)  # still the stand-in: reachable as mp.solutions.<name> too
    return mediapipe


#: MediaPipe's drawing helpers, which its ``solutions`` package imports eagerly and steadymotion never
#: uses, and its Tasks API (``mediapipe/__init__`` imports ``mediapipe.tasks.python``: every task, the
#: audio ones loading PortAudio through ``sounddevice``; ~0.15 s a process), which steadymotion never
#: uses either (it runs the ``solutions`` graphs). ``mp.tasks`` still works: it imports on first use.
_DRAWING = ("mediapipe.python.solutions.drawing_utils", "mediapipe.python.solutions.drawing_styles",
            "mediapipe.tasks", "mediapipe.tasks.python")


@contextlib.contextmanager
def cv2_threads(n: int):
    """OpenCV's own thread pool limited to ``n`` threads inside the block (restored after).

    Where steadymotion already runs one process per core (the pose workers) or a renderer beside an
    encoder process, OpenCV's parallel loops only add overhead: the puppet renders 73 fps on one
    thread for 3.5 s of CPU against 76 fps for 4.2 s on two (LongLive at 720x1280, 248 frames).
    """
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
