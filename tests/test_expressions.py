"""Facial expressions carried from the reference onto the character: the face mesh tracked beside the
body (also a dancer's small face), expression offsets free of the head's motion, a self-reenactment
that starts on the image itself, and a closed-mouthed character whose rendered mouth opens and closes
with a talking presenter's, showing its inside."""

from __future__ import annotations

import numpy as np

from tests.conftest import cached_pose, cached_rig, first_frame, media_path

TALK = "infinitetalk__videos_2.mp4"


def _render(rig, plan, t: int, expressions: bool = True) -> np.ndarray:
    from steadymotion.render.puppet import Pose2D, PuppetRenderer

    r = PuppetRenderer(rig, plan.size, plan.base)
    return r.render(Pose2D(plan.keypoints[t], float(plan.scale[t]), tuple(int(x) for x in plan.order[t]), plan.camera[t],
                           plan.face[t] if expressions else None))


def test_expression_offsets_leave_out_the_heads_motion():
    from steadymotion.motion.face import MESH, expression_offsets

    # given a real face (the presenter's first frame) moved about as a head moves: turned up to 15
    # degrees, scaled 0.8-1.2x and shifted, with its lower lip dropped 6 px (in the face's own frame)
    # on frames 10-19 only
    face0 = cached_pose(TALK, until_s=1.0, parts="body+face").face[0, :MESH, :2].astype(np.float64)
    lower = [14, 87, 178, 88, 95, 317, 402, 318, 324, 17, 84, 181, 91, 146, 314, 405, 321, 375]
    rng = np.random.default_rng(7)
    T = 30
    seq = np.zeros((T, MESH, 2))
    c = face0.mean(axis=0)
    for t in range(T):
        f = face0.copy()
        if 10 <= t < 20:
            f[lower, 1] += 6.0
        th, s = np.radians(rng.uniform(-15, 15)), rng.uniform(0.8, 1.2)
        R = s * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        seq[t] = (f - c) @ R.T + c + rng.uniform(-40, 40, 2)
    # and a character whose face is the same face at half the size
    rest = (face0 - c) * 0.5 + c
    off = expression_offsets(rest, seq, np.ones(T, bool))
    # then the head's motion leaves nothing (well away from the expression's edges: the offsets are
    # smoothed over a frame or so)
    still = [t for t in range(T) if t < 8 or t >= 22]
    assert np.abs(off[still]).max() < 0.3, np.abs(off[still]).max()
    # and the lip drops by 3 px on the character (half the size), straight down, the upper lip stays
    mid = off[12:18]
    assert np.allclose(mid[:, 14, 1], 3.0, atol=0.3) and np.abs(mid[:, 14, 0]).max() < 0.3
    assert np.abs(mid[:, 13]).max() < 0.6


def test_a_self_reenactments_face_starts_on_the_image_and_follows_the_mouth():
    from steadymotion.motion.face import openness
    from steadymotion.motion.plan import plan_motion
    from steadymotion.render.puppet.face import FaceWarp

    # given the presenter's first frame driven by his own clip
    img = first_frame(TALK)
    rig = cached_rig(img)
    seq = cached_pose(TALK, until_s=4.0, parts="body+face")
    assert seq.face_present.mean() > 0.95
    plan = plan_motion(rig.rest_pose, seq, size=seq.size, pin_feet=False)
    # then the first frame is the image's own face: no landmark moved, the head's texture untouched
    assert rig.face is not None and plan.face is not None
    assert np.abs(plan.face[0] - rig.face[:468]).max() < 1e-3
    head = rig.part("head")
    warp = FaceWarp(head.texture, head.box, rig.face, rig.image)
    assert warp.apply(plan.face[0]) is head.texture
    # and after the blend from the image the planned mouth opens and closes with the reference's
    t = seq.times - seq.times[0]
    late = (t > 0.7) & seq.face_present
    planned, real = openness(plan.face[late])[:, 0], openness(seq.face[late])[:, 0]
    assert np.ptp(real) > 0.1
    assert np.corrcoef(planned, real)[0, 1] > 0.9, np.corrcoef(planned, real)[0, 1]


def test_a_closed_mouth_opens_and_closes_with_a_talking_reference():
    from steadymotion.motion.face import openness
    from steadymotion.motion.plan import plan_motion
    from steadymotion.pose.extract import pose_from_image

    # given a man with his mouth closed (a half-body picture) driven by a talking presenter who
    # starts mid-word, his mouth open
    rig = cached_rig(first_frame("infinitetalk__human.png"))
    seq = cached_pose(TALK, until_s=4.0, parts="body+face")
    ref_open = openness(seq.face)[:, 0]
    assert openness(rig.face)[0] < 0.02 and ref_open[0] > 0.08
    plan = plan_motion(rig.rest_pose, seq, size=rig.size, pin_feet=False)
    t = seq.times - seq.times[0]
    late = np.flatnonzero((t > 0.7) & seq.face_present)
    wide, shut = int(late[np.argmax(ref_open[late])]), int(late[np.argmin(ref_open[late])])
    # when the presenter's mouth is widest, the character's rendered mouth, found again by the face
    # mesh, is open, with the mouth's inside drawn (not his lips stretched): dark, with the upper
    # teeth lighter than his lips
    frame = _render(rig, plan, wide)
    seen = pose_from_image(frame)
    assert seen.face_present[0]
    f = seen.face[0]
    assert openness(f)[0] > 0.08, openness(f)
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    from steadymotion.motion.face import INNER_LIPS, OUTER_LIPS

    inside = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(f[list(INNER_LIPS), :2]).astype(np.int32)], 1)
    lips = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(lips, [np.round(rig.face[list(OUTER_LIPS)]).astype(np.int32)], 1)
    still = cv2.cvtColor(rig.image, cv2.COLOR_RGB2GRAY)
    assert inside.sum() > 50
    shades = np.sort(grey[inside > 0])
    third = len(shades) // 3
    assert shades[:third].mean() < 0.6 * still[lips > 0].mean(), (shades[:third].mean(), still[lips > 0].mean())
    assert shades[-third:].mean() > still[lips > 0].mean(), (shades[-third:].mean(), still[lips > 0].mean())
    # when the presenter's is closed, his is closed
    seen = pose_from_image(_render(rig, plan, shut))
    assert seen.face_present[0] and openness(seen.face[0])[0] < 0.04
    # and without the expressions his mouth stays shut at the widest frame (what the test measures)
    seen = pose_from_image(_render(rig, plan, wide, expressions=False))
    assert seen.face_present[0] and openness(seen.face[0])[0] < 0.04


def test_a_dancers_small_face_is_tracked_beside_her_body():
    from steadymotion.pose.extract import extract_pose

    # given a full-body dancer, her face too small for the face mesh's own detector
    seq = extract_pose(media_path("musepose__dance.mp4"), parts="body+face", until_s=2.0)
    # then the head's crop finds it on every frame, on her head (the face's nose at the body's)
    assert seq.face_present.mean() > 0.95 and seq.meta["parts"] == "body+face"
    ok = seq.face_present & seq.body_present
    width = np.ptp(seq.face[ok, :468, 0], axis=1)
    err = np.linalg.norm(seq.face[ok, 1, :2] - seq.body[ok, 0, :2], axis=1)
    assert np.median(err / width) < 0.25, np.median(err / width)
    assert not seq.hands_present.any()
