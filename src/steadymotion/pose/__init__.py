"""Motion extraction (MediaPipe Holistic, or BlazePose alone for the body), clean-up, and OpenPose/DWPose exports."""

from steadymotion.pose.clean import clean_sequence, fill_pose_gaps, one_euro, zero_phase_smooth, repair_hand_swaps, smooth_pose
from steadymotion.pose.extract import HolisticOptions, HolisticTracker, extract_pose

__all__ = [
    "clean_sequence", "fill_pose_gaps", "one_euro", "zero_phase_smooth", "repair_hand_swaps", "smooth_pose",
    "HolisticOptions", "HolisticTracker", "extract_pose",
]
