"""steadymotion: drift-free, motion-controlled character video, and a drift meter for any video.

Python API (the CLI and web UI call the same functions)::

    import steadymotion as sm
    made = sm.make_video("dance.mp4", "out.mp4", image="character.png", preflight=True, measure=True)
    motion = sm.extract_pose("dance.mp4")          # PoseSequence
    sm.write_openpose_json(motion, "openpose/")
    report = sm.analyze_video("generated.mp4")     # DriftReport

This module is a façade: it re-exports; the code lives in the subpackages (see the README's
architecture section).
"""

__version__ = "0.1.0"

from steadymotion.drift import DriftReport, analyze_video  # noqa: E402
from steadymotion.errors import SteadyMotionError  # noqa: E402
from steadymotion.io import VideoReader, VideoWriter, probe_video, read_image  # noqa: E402
from steadymotion.pose import extract_pose  # noqa: E402
from steadymotion.pose.openpose import render_pose_video, write_openpose_json  # noqa: E402
from steadymotion.preflight import check_inputs  # noqa: E402
from steadymotion.prompt import lint_prompt  # noqa: E402
from steadymotion.pipelines import animate, make_video  # noqa: E402
from steadymotion.types import PoseSequence, RestPose  # noqa: E402
from steadymotion.vocab import Orientation  # noqa: E402

__all__ = [
    "__version__", "SteadyMotionError", "VideoReader", "VideoWriter", "probe_video", "read_image",
    "extract_pose", "render_pose_video", "write_openpose_json", "PoseSequence", "RestPose", "check_inputs", "lint_prompt",
    "Orientation", "make_video", "animate", "analyze_video", "DriftReport",
]
