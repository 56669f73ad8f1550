"""Perception: what the pixels show, shared by every domain module (preflight, drift, rendering).

- :mod:`.segmentation` — person masks (MediaPipe selfie segmentation), soft alpha for rigging.
- :mod:`.people` — counting people (HOG pedestrians + face detection).
- :mod:`.identity` — face descriptors (dlib), region colours, the identity signature.
- :mod:`.body` — body measures from landmarks (visibility, framing, facing, limb speed).
- :mod:`.scene` — colour histograms and cuts.
- :mod:`.camera` — camera motion of a video (LK + RANSAC).

Landmark extraction itself is :mod:`steadymotion.pose`. Heavy models load on first use.
"""
