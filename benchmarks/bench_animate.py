"""Benchmark animate: render-stage fps at 720p output and the whole pipeline against the clip's duration.

Run by hand: ``.venv/bin/python benchmarks/bench_animate.py``. Targets: render >= 25 fps at 720p
output on the 2-core machine (issue #4); the whole animate of a 10-s 720p reference within 1.0x its
duration (issue #11: decode, pose, rig, render and encode overlapping); replace mode (issue #16) within
3x the clip's duration at 720p. Prints ratios, not only seconds.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

from steadymotion.pipelines import animate  # noqa: E402
from steadymotion.io.video import VideoReader, probe_video  # noqa: E402
from steadymotion.render.puppet import Pose2D, PuppetRenderer  # noqa: E402


def decode_fps(path: Path) -> float:
    t = time.perf_counter()
    n = sum(1 for _ in VideoReader(path))
    return n / (time.perf_counter() - t)


def main() -> None:
    image = MEDIA / "mooreanimateanyone__anyone-11.png"
    cases = [("longlive__no-cache-man_web.mp4", None), ("unianimate__source_video.mp4", None)]
    work = Path(tempfile.mkdtemp(prefix="steadymotion_bench_"))
    out = work / "animated.mp4"
    from steadymotion.characters import CharacterStore

    store = CharacterStore(work / "store")
    store.add("bench", image)  # the same image as a stored character: its rig is loaded, not built
    for clip, _ in cases:
        path = MEDIA / clip
        if not path.exists():
            print(f"skip {clip}: not in {MEDIA}")
            continue
        info = probe_video(path)
        dur = info.duration_s or 0.0
        t = time.perf_counter()
        res = animate(path, out, image=image, size=(720, 1280))
        total = time.perf_counter() - t
        # the render stage alone, without encoding: frames from the plan
        r = PuppetRenderer(res.rig, res.size, res.plan.base)
        n = len(res.plan)
        t = time.perf_counter()
        for i in range(n):
            r.render(Pose2D(res.plan.keypoints[i], float(res.plan.scale[i]), tuple(res.plan.order[i]), res.plan.camera[i],
                            None if res.plan.face is None else res.plan.face[i],
                            0.0 if res.plan.head_roll is None else float(res.plan.head_roll[i])))
        render_only = n / (time.perf_counter() - t)
        tm = res.timings
        print(f"{clip}: {info.size[0]}x{info.size[1]} {dur:.1f} s, {n} frames -> 720x1280")
        print(f"  whole animate {total:.1f} s = {total / dur:.2f}x the clip duration (target <= 1.0x)")
        print(f"  stages: motion {tm['motion']:.1f} s with the rig alongside ({tm['rig']:.1f} s; both done after {tm['motion+rig']:.1f} s), "
              f"camera {tm['camera']:.1f} s, render+encode {tm['render']:.1f} s")
        print(f"  render only {render_only:.1f} fps (target >= 25), render+encode {res.render_fps:.1f} fps, "
              f"decode-only of the reference {decode_fps(path):.1f} fps")
        t = time.perf_counter()
        animate(path, out, character="bench", store=store, size=(720, 1280))
        stored = time.perf_counter() - t
        print(f"  with the stored character: {stored:.1f} s = {stored / dur:.2f}x the clip duration")
    # replace mode: the character put into the reference video (two passes over it to remove its person)
    clip = MEDIA / "unianimate__source_video.mp4"
    if clip.exists():
        dur = probe_video(clip).duration_s or 0.0
        t = time.perf_counter()
        res = animate(clip, out, image=image, mode="replace")
        total = time.perf_counter() - t
        print(f"replace {clip.name}: {res.size[0]}x{res.size[1]} {dur:.1f} s, {res.frames} frames: "
              f"{total:.1f} s = {total / dur:.2f}x the clip duration (target <= 3.0x); render+plate {res.timings['render']:.1f} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
