"""Worker entry point: ``python -m steadymotion.pose._chunk VIDEO OUT.npz '{"start_s":..}'``.

Runs Holistic (or BlazePose alone when ``options.parts == "body"``) over one time range of a video
(see :func:`steadymotion.pose.extract._run_parallel`), prints ``progress N`` lines, and saves the
arrays to ``OUT.npz``. Errors are printed as
``steadymotion-error <ClassName> <message>`` so the parent can re-raise them faithfully.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from steadymotion.errors import SteadyMotionError
    from steadymotion.pose.extract import HolisticOptions, _extract_range, _save_chunk

    import cv2

    cv2.setNumThreads(1)  # one worker runs per core: OpenCV's own threads would only compete with the others
    video, out, spec = argv[0], Path(argv[1]), json.loads(argv[2])
    try:
        result = _extract_range(
            video,
            spec["start_s"],
            spec["end_s"],
            HolisticOptions(**spec["options"]),
            lambda n: print(f"progress {n}", flush=True),
            int(spec.get("stride", 1)),
            bool(spec.get("appearance", False)),
            bool(spec.get("camera", False)),
            spec.get("given"),
        )
        _save_chunk(result, out)
    except SteadyMotionError as exc:
        print(f"steadymotion-error {type(exc).__name__} {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
