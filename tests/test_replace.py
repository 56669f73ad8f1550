"""Replace mode (issue #16): the character takes the reference person's place in the reference video.

Real media: the man of ``mooreanimateanyone__anyone-11.png`` put into ``unianimate__source_video.mp4``
(a woman in a mustard sweater dancing in a bedroom). Checked on the output as a viewer would: the
scene around the people unchanged, the woman's face gone and the man's kept, no sweater left where
the man is narrower, his arms following hers; the video's size, frame rate, frame count kept.
Plus a moving background clip in animate mode, and the options replace mode refuses.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.errors import InvalidOptionError
from steadymotion.io.video import VideoReader, probe_video
from tests.conftest import media_path

SECONDS = 2.5


def _frames(path, every: int = 1) -> dict[int, np.ndarray]:
    with VideoReader(path) as r:
        return {f.index: f.image for f in r if f.index % every == 0}


def _face_descriptor(rgb: np.ndarray):
    from steadymotion.perception.identity import FaceIdentity
    from steadymotion.pose.extract import pose_from_image

    seq = pose_from_image(rgb)
    if not seq.face_present[0]:
        return None
    return FaceIdentity().descriptor(rgb, seq.face[0])


@pytest.fixture(scope="module")
def replaced(tmp_path_factory):
    from steadymotion.pipelines import animate

    motion = media_path("unianimate__source_video.mp4")
    image = media_path("mooreanimateanyone__anyone-11.png")
    out = tmp_path_factory.mktemp("replace") / "replaced.mp4"
    result = animate(motion, out, image=image, mode="replace", max_seconds=SECONDS)
    return result, motion, image


def test_replace_keeps_the_reference_videos_format(replaced):
    result, motion, _ = replaced
    ref, got = probe_video(motion), probe_video(result.output)
    assert got.size == ref.size
    assert abs(float(got.fps) - float(ref.fps)) < 1e-6
    n_ref = sum(1 for t in (np.arange(ref.frame_count) / float(ref.fps)) if t < SECONDS - 1e-9)
    assert result.frames == n_ref == sum(1 for _ in VideoReader(result.output))


def test_scene_outside_both_people_is_unchanged(replaced):
    """PSNR over what is neither the reference person (grown) nor the character (its plan's box)."""
    from steadymotion.perception.segmentation import PersonSegmenter

    result, motion, _ = replaced
    ref, out = _frames(motion, 6), _frames(result.output, 6)
    psnrs = []
    with PersonSegmenter("landscape") as seg:
        for i in sorted(out):
            h, w = out[i].shape[:2]
            person = cv2.dilate((seg.probability(ref[i]) > 0.1).astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
            kp = result.plan.keypoints[i]
            x0, y0 = kp.min(axis=0) - 0.12 * h
            x1, y1 = kp.max(axis=0) + 0.12 * h
            char = np.zeros((h, w), bool)
            char[max(0, int(y0)):int(y1), max(0, int(x0)):int(x1)] = True
            keep = ~person & ~char
            assert keep.mean() > 0.2  # a real share of the frame is tested
            err = (ref[i].astype(np.float64) - out[i].astype(np.float64))[keep]
            psnrs.append(10 * np.log10(255.0 ** 2 / max(float((err ** 2).mean()), 1e-9)))
    assert min(psnrs) > 36.0, psnrs  # only H.264 re-encoding differs there


def test_reference_face_gone_character_face_kept(replaced):
    from steadymotion.io.image import read_image

    result, motion, image = replaced
    ref, out = _frames(motion, 12), _frames(result.output, 12)
    theirs = [d for d in (_face_descriptor(ref[i]) for i in sorted(ref)) if d is not None]
    mine = _face_descriptor(read_image(image).rgb)
    assert theirs and mine is not None
    found = 0
    for i in sorted(out):
        d = _face_descriptor(out[i])
        if d is None:
            continue
        found += 1
        # dlib's same-person line is 0.6: the woman's face is gone, the man's is there
        assert min(np.linalg.norm(d - t) for t in theirs) > 0.6
        assert np.linalg.norm(d - mine) < 0.5
    assert found >= len(out) // 2


def test_no_reference_clothing_left_where_the_character_is_narrower(replaced):
    """The mustard sweater: inside the woman's outline but off the man, the output shows the room."""
    from steadymotion.perception.segmentation import PersonSegmenter
    from steadymotion.render.puppet import Pose2D, PuppetRenderer

    result, motion, _ = replaced
    # every frame: how many show the sweater beside him depends on his exact size and pose
    ref, out = _frames(motion), _frames(result.output)
    renderer = PuppetRenderer(result.rig, result.size, result.plan.base)
    plan = result.plan
    lab = lambda img: cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    shares_ref, shares_out = [], []
    with PersonSegmenter("landscape") as seg:
        for i in sorted(out):
            person = seg.probability(ref[i]) > 0.6
            renderer.render(Pose2D(plan.keypoints[i], float(plan.scale[i]), tuple(int(x) for x in plan.order[i]), plan.camera[i]),
                            coverage=True)
            off_char = person & (cv2.dilate((renderer.last_coverage > 0.02).astype(np.uint8), np.ones((9, 9), np.uint8)) == 0)
            if off_char.sum() < 500:
                continue
            # the sweater's colour: the woman's chest, between the shoulders and the hips
            b = result.motion_pose.body[i]
            c = ((b[11, :2] + b[12, :2]) * 0.6 + (b[23, :2] + b[24, :2]) * 0.4) / 2
            x, y = int(c[0]), int(c[1])
            sweater = np.median(lab(ref[i])[y - 8:y + 8, x - 8:x + 8].reshape(-1, 3), axis=0)
            like = lambda img: np.linalg.norm(lab(img) - sweater, axis=2) < 20
            was = like(ref[i]) & off_char  # sweater the man does not cover
            if was.sum() < 300:
                continue
            shares_ref.append(float(was.sum() / off_char.sum()))
            shares_out.append(float((like(out[i]) & was).sum() / was.sum()))
    assert len(shares_out) >= 3, shares_ref  # the sweater really shows beside him in the reference
    assert max(shares_out) < 0.03, shares_out


def test_the_characters_arms_follow_the_reference(replaced):
    from steadymotion.pose.extract import extract_pose

    result, _, _ = replaced
    got = extract_pose(result.output, parts="body")
    ref = result.motion_pose
    errs = []
    for a, b in ((11, 13), (13, 15), (12, 14), (14, 16)):
        for i in range(0, min(len(got), len(ref)), 3):
            if not (got.body_present[i] and ref.body_present[i]) or ref.body[i, [a, b], 3].min() < 0.7:
                continue
            u, v = got.body[i, b, :2] - got.body[i, a, :2], ref.body[i, b, :2] - ref.body[i, a, :2]
            errs.append(abs(np.degrees(np.arctan2(u[0] * v[1] - u[1] * v[0], u @ v))))
    assert len(errs) > 20
    assert np.median(errs) < 15.0, np.median(errs)


def test_moving_background_clip_in_animate_mode(tmp_path):
    from steadymotion.pipelines import animate
    from steadymotion.render.backdrop import fit_background

    bg = media_path("musepose__dance.mp4")
    out = tmp_path / "bg.mp4"
    res = animate(media_path("unianimate__source_video.mp4"), out, image=media_path("mooreanimateanyone__anyone-11.png"),
                  background=str(bg), max_seconds=1.0, size=(360, 640))
    got = _frames(out)
    want = _frames(bg)
    # the corners far from the character show the background clip's own frame at that time
    assert len(got) == res.frames
    for i in range(0, len(got), 6):
        f = fit_background(want[i], res.size)
        for ys, xs in ((slice(0, 80), slice(0, 60)), (slice(-80, None), slice(-60, None))):
            d = np.abs(got[i][ys, xs].astype(int) - f[ys, xs].astype(int)).mean()
            assert d < 6.0, (i, d)


@pytest.mark.parametrize("extra, words", [
    (["--background", "#00ff00"], "animate mode"),
    (["--size", "360x640"], "reference's size"),
    (["--mode", "swap"], "--mode must be one of animate, replace"),
])
def test_replace_refuses_options_it_cannot_honour(tmp_path, extra, words):
    from steadymotion.cli import app

    out = tmp_path / "o.mp4"
    args = ["animate", "-i", str(media_path("mooreanimateanyone__anyone-11.png")), "-m", str(media_path("unianimate__source_video.mp4")),
            "-o", str(out), "--mode", "replace", *extra]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, r.output
    assert words in " ".join(r.output.split())
    assert not out.exists() and not list(tmp_path.iterdir())


def test_mode_is_validated_once():
    from steadymotion.vocab import Mode

    assert Mode.parse(" Replace ") is Mode.REPLACE
    with pytest.raises(InvalidOptionError):
        Mode.parse("overlay")


def test_what_stands_in_front_of_the_reference_person_stays_in_front(tmp_path):
    """A table (a textured board) in front of the dancer's legs stays in front of the character."""
    from steadymotion.io.video import VideoWriter
    from steadymotion.pipelines import animate

    src = media_path("unianimate__source_video.mp4")
    info = probe_video(src)
    w, h = info.size
    y0, y1 = int(0.62 * h), int(0.9 * h)  # knees to shins of the dancer, the full width
    rng = np.random.default_rng(7)
    board = np.clip(np.array([120, 80, 40]) + rng.normal(0, 12, (y1 - y0, w, 3)), 0, 255).astype(np.uint8)
    board[:: 12] = (70, 45, 20)  # planks
    clip = tmp_path / "table.mp4"
    with VideoReader(src) as r, VideoWriter(clip, info.fps, crf=12) as wr:
        for f in r:
            if f.t >= 2.0:
                break
            img = f.image.copy()
            img[y0:y1] = board
            wr.write(img)
    out = tmp_path / "o.mp4"
    res = animate(clip, out, image=media_path("mooreanimateanyone__anyone-11.png"), mode="replace")
    assert any("in front of" in n for n in res.notes), res.notes
    got, given = _frames(out), _frames(clip)
    # the character's legs are planned across the board ...
    legs = res.plan.keypoints[:, :, 1]
    assert ((legs > y0) & (legs < y1)).sum(axis=1).min() >= 2
    # ... and pass behind it: the board's pixels stay what the input shows (re-encoding aside)
    errs = [np.abs(got[i][y0 + 6:y1 - 6].astype(int) - given[i][y0 + 6:y1 - 6].astype(int)).mean() for i in range(0, len(got), 8)]
    assert max(errs) < 4.0, errs  # re-encoding the noisy board alone: ~2.7; the legs drawn over it: 6-8
