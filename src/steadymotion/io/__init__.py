"""Media input/output: streaming video (PyAV), images (Pillow) and atomic file writes."""

from steadymotion.io.atomic import atomic_output
from steadymotion.io.image import Image, read_image, write_image
from steadymotion.io.video import VideoInfo, VideoReader, VideoWriter, probe_video

__all__ = ["atomic_output", "Image", "read_image", "write_image", "VideoInfo", "VideoReader", "VideoWriter", "probe_video"]
