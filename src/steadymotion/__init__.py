"""steadymotion: drift-free, motion-controlled character video, and a drift meter for any video.

Python API (the CLI and web UI call the same functions)::

    import steadymotion as sm
    made = sm.make_video("dance.mp4", "out.mp4", image="character.png", preflight=True, measure=True)
    motion = sm.extract_pose("dance.mp4")          # PoseSequence
    sm.write_openpose_json(motion, "openpose/")
    capture = sm.read_motion_bvh("jumping_jacks.bvh")  # a BVH capture as a PoseSequence
    bvh, fit = sm.bvh_from_pose(motion)              # ... and motion as BVH (sm.write_bvh)
    report = sm.analyze_video("generated.mp4")     # DriftReport
    fixed = sm.repair_video("generated.mp4", "fixed.mp4")   # RepairResult (before/after reports)

This module is a façade: it re-exports; the code lives in the subpackages (see the README's
architecture section).
"""

__version__ = "0.1.0"

from steadymotion.errors import SteadyMotionError  # noqa: E402

#: Public name -> the module that defines it. Imported on first use (PEP 562), so a worker process
#: that needs only ``steadymotion.io`` or ``steadymotion.pose`` does not pay for the drift meter,
#: the renderer and the web UI at start-up.
_EXPORTS = {
    "DriftReport": "steadymotion.drift", "analyze_video": "steadymotion.drift",
    "VideoReader": "steadymotion.io", "VideoWriter": "steadymotion.io", "probe_video": "steadymotion.io",
    "read_image": "steadymotion.io", "extract_pose": "steadymotion.pose",
    "render_pose_video": "steadymotion.pose.openpose", "write_openpose_json": "steadymotion.pose.openpose",
    "check_inputs": "steadymotion.preflight", "lint_prompt": "steadymotion.prompt",
    "animate": "steadymotion.pipelines", "make_video": "steadymotion.pipelines",
    "repair_video": "steadymotion.pipelines", "RepairResult": "steadymotion.pipelines",
    "PoseSequence": "steadymotion.types", "RestPose": "steadymotion.types", "Orientation": "steadymotion.vocab",
    "read_bvh": "steadymotion.io.bvh", "write_bvh": "steadymotion.io.bvh",
    "read_motion_bvh": "steadymotion.motion.bvh", "pose_from_bvh": "steadymotion.motion.bvh",
    "bvh_from_pose": "steadymotion.motion.bvh",
}

__all__ = ["__version__", "SteadyMotionError", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'steadymotion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
