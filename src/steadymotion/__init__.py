"""steadymotion: drift-free, motion-controlled character video, and a drift meter for any video.

Python API (the CLI and web UI call the same functions)::

    import steadymotion as sm
    motion = sm.extract_pose("dance.mp4")          # PoseSequence
    motion.save("dance.npz")
    sm.write_openpose_json(motion, "openpose/")
    sm.render_pose_video(motion, "pose.mp4")
"""

__version__ = "0.1.0"

from steadymotion.errors import SteadyMotionError  # noqa: E402
from steadymotion.io import VideoReader, VideoWriter, probe_video, read_image  # noqa: E402
from steadymotion.pose import extract_pose  # noqa: E402
from steadymotion.pose.openpose import render_pose_video, write_openpose_json  # noqa: E402
from steadymotion.preflight import check_inputs  # noqa: E402
from steadymotion.prompt import lint_prompt  # noqa: E402
from steadymotion.types import PoseSequence  # noqa: E402

__all__ = [
    "__version__", "SteadyMotionError", "VideoReader", "VideoWriter", "probe_video", "read_image",
    "extract_pose", "render_pose_video", "write_openpose_json", "PoseSequence", "check_inputs", "lint_prompt",
]
