"""A :class:`~steadymotion.io.video.VideoWriter` in its own process, so encoding runs beside rendering
(and :class:`ThreadedVideoWriter`, one in a thread, for a caller that mostly waits on NumPy/OpenCV).

Rendering (NumPy + OpenCV, much of it Python) and H.264 encoding (PyAV) in two threads of one
process do not overlap: the encoder's thread waits for the GIL after every call into libav while
the renderer holds it (measured: 15 ms/frame alone, 66 ms/frame beside a busy Python thread). Here
the frames go through a ring of shared-memory slots to ``python -m steadymotion.io.encoder``, which
converts and encodes them on the other core; the caller only copies each frame into a free slot.

Like the pose workers this is a plain subprocess (no ``if __name__ == "__main__"`` guard needed in
the caller's script), and like :class:`VideoWriter` the output is written to a temporary name and
renamed only when complete: on an error or :meth:`abort` nothing is left behind.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from fractions import Fraction
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np

from steadymotion.errors import OutputError
from steadymotion.io.atomic import CloseOrAbort

#: Frames that can wait between the renderer and the encoder.
SLOTS = 4


class BackgroundVideoWriter(CloseOrAbort):
    """``VideoWriter(path, fps, **options)`` running in a child process; same ``write``/``close``/``abort``.

    Parameters
    ----------
    path, fps, **options
        As :class:`steadymotion.io.video.VideoWriter` (``audio_from``, ``crf``, ``preset`` ...).
    slots : int
        Frames buffered between the caller and the encoder.
    prestart : bool
        Start the encoder process now (its imports and the output file's set-up then happen while
        the caller is still busy elsewhere) rather than at the first frame.
    """

    def __init__(self, path: str | Path, fps: Fraction | float | int, *, slots: int = SLOTS, prestart: bool = False,
                 **options) -> None:
        self.path = Path(path)
        self.fps = Fraction(fps).limit_denominator(1_000_000)
        self._options = {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}
        self._slots = slots
        self._proc: subprocess.Popen | None = None
        self._shm: shared_memory.SharedMemory | None = None
        self._shape: tuple[int, int, int] | None = None
        self._free: queue.Queue = queue.Queue()
        self._messages: queue.Queue = queue.Queue()
        self._error: str | None = None
        self.frames_written = 0
        self._closed = False
        if prestart:
            self._spawn()

    # -- the child ------------------------------------------------------------------------------
    def _spawn(self) -> None:
        import steadymotion

        spec = {"path": str(self.path), "fps": [self.fps.numerator, self.fps.denominator], "options": self._options}
        env = dict(os.environ)
        root = str(Path(steadymotion.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._proc = subprocess.Popen([sys.executable, "-m", "steadymotion.io.encoder", json.dumps(spec)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      env=env, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True, name="steadymotion-encoder-reader").start()

    def _attach(self, shape: tuple[int, int, int]) -> None:
        """The shared slots for frames of ``shape``, announced to the child as its first line."""
        self._shape = shape
        self._shm = shared_memory.SharedMemory(create=True, size=int(np.prod(shape)) * self._slots)
        for i in range(self._slots):
            self._free.put(i)
        self._send(json.dumps({"shm": self._shm.name, "shape": list(shape)}))

    def _send(self, line: str) -> None:
        try:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._fail()

    def _read(self) -> None:
        """Child's stdout -> freed slots and the final word (a thread: never holds the GIL for long)."""
        for line in self._proc.stdout:
            kind, _, rest = line.rstrip("\n").partition(" ")
            if kind == "free":
                self._free.put(int(rest))
            else:
                self._messages.put((kind, rest))
        self._free.put(None)  # the child is gone: wake a waiting writer

    def _fail(self) -> None:
        """Raise the child's error (it already removed its partial output)."""
        err = self._error
        if err is None:
            try:
                kind, rest = self._messages.get(timeout=5)
                err = rest if kind == "error" else f"the encoder ended unexpectedly ({kind} {rest})"
            except queue.Empty:
                stderr = self._proc.stderr.read()[-500:] if self._proc and self._proc.stderr else ""
                err = f"the encoder process ended unexpectedly ({stderr.strip() or 'no message'})"
            self._error = err
        self._cleanup()
        raise OutputError(err)

    # -- the VideoWriter interface -------------------------------------------------------------
    def write(self, image: np.ndarray) -> None:
        if self._closed:
            raise OutputError("the video writer is closed")
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got shape {img.shape} dtype {img.dtype}")
        if self._proc is None:
            self._spawn()
        if self._shm is None:
            self._attach(img.shape)
        elif img.shape != self._shape:
            raise ValueError(f"frame {self.frames_written} is {img.shape[1]}x{img.shape[0]}, "
                             f"the video is {self._shape[1]}x{self._shape[0]}")
        slot = self._free.get()
        if slot is None:
            self._fail()
        n = img.nbytes
        np.copyto(np.ndarray(self._shape, np.uint8, self._shm.buf[slot * n:(slot + 1) * n]), img)
        self._send(str(slot))
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the video (flush, audio, rename into place); raises the encoder's error if it failed."""
        if self._closed:
            return self.path
        if self.frames_written == 0:
            self.abort()
            from steadymotion.errors import NoFramesError

            raise NoFramesError(f"no frames were written to {str(self.path)!r}; nothing to save")
        self._send("close")
        while True:
            try:
                kind, rest = self._messages.get(timeout=0.5)
            except queue.Empty:
                if self._proc.poll() is not None and self._messages.empty():
                    self._fail()
                continue
            if kind == "done":
                break
            if kind == "error":
                self._error = rest
                self._fail()
        self._cleanup()
        return self.path

    def abort(self) -> None:
        """Stop the encoder and leave nothing behind."""
        if self._closed:
            return
        killed = False
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.stdin.write("abort\n")
                self._proc.stdin.flush()
                self._proc.wait(timeout=30)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                killed = True
        self._cleanup()
        if killed:  # it could not remove its temporary file itself
            for leftover in self.path.parent.glob(f".{self.path.stem}.*.part{self.path.suffix}"):
                leftover.unlink(missing_ok=True)

    def _cleanup(self) -> None:
        self._closed = True
        if self._proc is not None:
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                try:
                    stream.close()
                except (BrokenPipeError, OSError):
                    pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._shm is not None:
            self._shm.close()
            try:
                self._shm.unlink()
            except FileNotFoundError:
                pass
            self._shm = None



class ThreadedVideoWriter(CloseOrAbort):
    """``VideoWriter(path, fps, **options)`` fed from a thread of this process; same
    ``write``/``close``/``abort``.

    For a caller whose work per frame is mostly in NumPy / OpenCV / MediaPipe calls, which let go of
    the GIL (the repair's recolouring): PyAV lets go of it too while it converts, encodes and muxes
    a frame, so the two overlap without the child process's start-up (about a second of CPU: a
    Python interpreter, NumPy and PyAV imported) and copies. (A caller that spends its time in
    Python itself — animate's renderer — keeps the encoder waiting for the GIL: that one wants
    :class:`BackgroundVideoWriter`.) A frame given to :meth:`write` is encoded later: it must not
    be changed afterwards. An error in the encoder is raised by the next ``write`` or ``close``;
    on an error or :meth:`abort` nothing is left behind.
    """

    def __init__(self, path: str | Path, fps: Fraction | float | int, *, slots: int = SLOTS, **options) -> None:
        from steadymotion.io.video import VideoWriter

        self._writer = VideoWriter(path, fps, **options)
        self.path = self._writer.path
        self._queue: queue.Queue = queue.Queue(maxsize=slots)
        self._error: BaseException | None = None
        self._drop = False
        self._closed = False
        self._shape: tuple[int, ...] | None = None
        self.frames_written = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="steadymotion-encoder")
        self._thread.start()

    def _run(self) -> None:
        while True:
            img = self._queue.get()
            if img is None:
                return
            if self._error is not None or self._drop:
                continue  # drained, not encoded: the caller learns of the error at its next call
            try:
                self._writer.write(img)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                self._error = exc

    def _raise(self) -> None:
        err = self._error
        self.abort()
        raise err

    def write(self, image: np.ndarray) -> None:
        if self._closed:
            raise OutputError("the video writer is closed")
        if self._error is not None:
            self._raise()
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got shape {img.shape} dtype {img.dtype}")
        if self._shape is None:
            self._shape = img.shape
        elif img.shape != self._shape:
            raise ValueError(f"frame {self.frames_written} is {img.shape[1]}x{img.shape[0]}, "
                             f"the video is {self._shape[1]}x{self._shape[0]}")
        self._queue.put(img)
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the video (flush, audio, rename into place); raises the encoder's error if it failed."""
        if self._closed:
            return self.path
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            self._raise()
        self._closed = True
        return self._writer.close()

    def abort(self) -> None:
        """Stop encoding and leave nothing behind."""
        if self._closed:
            return
        self._closed = True
        self._drop = True
        self._queue.put(None)
        self._thread.join()
        self._writer.abort()



def _child(spec: dict) -> int:
    """The encoder process. stdin: first ``{"shm": NAME, "shape": [...]}``, then slot numbers,
    ``close`` or ``abort``; stdout: ``free N``, ``done`` or ``error MSG``."""
    from multiprocessing import resource_tracker

    from steadymotion.io.video import VideoWriter

    shm = None
    writer = None
    try:
        writer = VideoWriter(spec["path"], Fraction(*spec["fps"]), **spec["options"])
        for line in sys.stdin:
            cmd = line.strip()
            if cmd.startswith("{"):
                frames = json.loads(cmd)
                shm = shared_memory.SharedMemory(name=frames["shm"])
                resource_tracker.unregister(shm._name, "shared_memory")  # the parent owns (and unlinks) it
                shape = tuple(frames["shape"])
                n = int(np.prod(shape))
            elif cmd == "close":
                writer.close()
                print("done", flush=True)
                return 0
            elif cmd == "abort":
                writer.abort()
                return 0
            else:
                slot = int(cmd)
                writer.write(np.ndarray(shape, np.uint8, shm.buf[slot * n:(slot + 1) * n]))
                print(f"free {slot}", flush=True)
        writer.abort()  # the parent went away without closing: leave nothing behind
        return 1
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        if writer is not None:
            writer.abort()
        print(f"error {' '.join(str(exc).split())}", flush=True)
        return 2
    finally:
        if shm is not None:
            shm.close()


if __name__ == "__main__":
    sys.exit(_child(json.loads(sys.argv[1])))
