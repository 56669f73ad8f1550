"""animate: the puppet backend on real reference images and real motion (../shared/media)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.errors import InvalidOptionError, NoPersonError, NotAnImageError
from steadymotion.motion.directives import parse_camera
from tests.conftest import cached_pose, cached_rig, media_path

LIMB_BONES = [("shoulder_l", "elbow_l"), ("elbow_l", "wrist_l"), ("shoulder_r", "elbow_r"), ("elbow_r", "wrist_r"),
              ("hip_l", "knee_l"), ("knee_l", "ankle_l"), ("hip_r", "knee_r"), ("knee_r", "ankle_r")]
SECONDS = 3.0

_RESULTS: dict = {}


def _animated(image: str, motion: str, tmp_dir: Path, **kwargs):
    """animate() once per (image, motion) per session, with its re-detected pose."""
    from steadymotion.pipelines import animate
    from steadymotion.pose.extract import extract_pose

    key = (image, motion, tuple(sorted(kwargs.items())))
    if key not in _RESULTS:
        out = tmp_dir / f"{Path(image).stem}__{Path(motion).stem}.mp4"
        res = animate(media_path(motion), out, image=media_path(image), motion_pose=cached_pose(motion),
                      max_seconds=SECONDS, **kwargs)
        _RESULTS[key] = (res, extract_pose(out, smooth=False))
    return _RESULTS[key]


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    return tmp_path_factory.mktemp("animate")


PAIRINGS = [
    ("mooreanimateanyone__anyone-3.png", "unianimate__source_video.mp4"),
    ("mooreanimateanyone__anyone-11.png", "mimicmotion__raw_0.mp4"),
    ("mimicmotion__demo1.jpg", "unianimate__source_video.mp4"),
]


def _angles(kp: np.ndarray, names) -> np.ndarray:
    from steadymotion.skeleton import KP

    v = np.stack([kp[..., KP[b], :2] - kp[..., KP[a], :2] for a, b in names], axis=-2)
    return np.degrees(np.arctan2(v[..., 1], v[..., 0]))


@pytest.mark.parametrize("image,motion", PAIRINGS)
def test_animate_follows_the_plan_and_keeps_identity(image, motion, outdir):
    from steadymotion.perception.identity import FaceIdentity
    from steadymotion.io.image import read_image
    from steadymotion.io.video import VideoReader, probe_video
    from steadymotion.skeleton import keypoint_visibility, keypoints_from_body

    # given a real character image and real motion
    res, seen = _animated(image, motion, outdir)
    ref = cached_pose(motion)
    n_ref = int(np.searchsorted(ref.times - ref.times[0], SECONDS - 1e-9))
    # then: the reference's frame count (within --max-seconds) and rate
    info = probe_video(res.output)
    assert info.frame_count == n_ref == res.frames
    assert info.fps == ref.fps
    # the re-detected skeleton follows the plan: limb directions within a few degrees
    plan = res.plan
    kp = keypoints_from_body(seen.body)
    vis = keypoint_visibility(seen.body)
    err = np.abs((_angles(kp, LIMB_BONES) - _angles(plan.keypoints, LIMB_BONES) + 180) % 360 - 180)
    from steadymotion.skeleton import KP

    ok = np.stack([np.minimum(vis[:, KP[a]], vis[:, KP[b]]) > 0.7 for a, b in LIMB_BONES], axis=1) & seen.body_present[:, None]
    assert ok.mean() > 0.5, "the animated character must be re-detected in most frames"
    med, p90 = float(np.median(err[ok])), float(np.percentile(err[ok], 90))
    print(f"\n{image} x {motion}: limb direction error median {med:.1f} deg, p90 {p90:.1f} deg over {ok.sum()} limb-frames")
    assert med < 8.0 and p90 < 25.0
    # the first frame is the input image (fitted to the output size)
    img = read_image(media_path(image)).rgb
    w, h = res.size
    with VideoReader(res.output) as reader:
        frames = [f.image for f in reader]
    from steadymotion.motion.kinematics import fit_base

    expect = cv2.warpAffine(img, fit_base((img.shape[1], img.shape[0]), (w, h)).astype(np.float32), (w, h), flags=cv2.INTER_AREA)
    first = np.abs(frames[0].astype(int) - expect.astype(int)).mean()
    assert first < 4.0, f"first frame differs from the image by {first:.1f} grey levels on average"
    # the face stays the image's face in every frame where one is seen
    ident = FaceIdentity()
    from steadymotion.pose.extract import pose_from_image

    d0 = ident.descriptor(img, pose_from_image(img).face[0])
    assert d0 is not None
    dists = []
    for i in range(0, len(frames), 3):
        if seen.face_present[i]:
            d = ident.descriptor(frames[i], seen.face[i])
            if d is not None:
                dists.append(float(np.linalg.norm(d - d0)))
    print(f"face descriptor distance to the image: max {max(dists):.3f} over {len(dists)} frames")
    # (dlib's same-person threshold is 0.6; the rigid face measured 0.10-0.27 on these pairings, and
    # the reference's expressions carried onto the face move it further: raw_0's woman laughs, and
    # anyone-11 laughing with her measures 0.46; a stranger's face is 0.6 and over)
    assert len(dists) >= 3 and max(dists) < 0.52


@pytest.mark.parametrize("pairing", [0, 1, 2])
def test_parts_never_tear_and_background_is_filled(pairing, outdir):
    from steadymotion.io.image import read_image
    from steadymotion.render.puppet import Pose2D, PuppetRenderer

    res, _ = _animated(*PAIRINGS[pairing], outdir)
    rig, plan = res.rig, res.plan
    renderer = PuppetRenderer(rig, plan.size, plan.base, background=np.array([1.0, 0.0, 1.0]))
    from steadymotion.skeleton import KP, PART, PARTS

    # every joint between two parts is covered: a disc of half the limb's width around it is opaque
    joints = {spec.a: PART[spec.name] for spec in PARTS if spec.parent not in (None, "torso") and rig.present[PART[spec.name]]}
    worst = 1.0
    for i in range(0, len(plan), 3):
        renderer.render(Pose2D(plan.keypoints[i], float(plan.scale[i]), tuple(plan.order[i]), plan.camera[i]), coverage=True)
        cov = renderer.last_coverage
        for name, part in joints.items():
            x, y = plan.keypoints[i, KP[name]]
            r = max(2, int(0.5 * rig.radius[part] * plan.scale[i]))
            disc = np.zeros(cov.shape, np.uint8)
            cv2.circle(disc, (int(round(x)), int(round(y))), r, 1, -1)
            if disc.any():
                worst = min(worst, float((cov[disc > 0] > 0.5).mean()))
    print(f"\nleast covered joint disc: {worst:.3f} of its pixels opaque")
    # a joint that came apart would leave its disc mostly empty; what stays uncovered is where the
    # landmark sits on the limb's silhouette (measured 0.82-0.95 at worst on these pairings)
    assert worst > 0.8
    # pixels of the figure are opaque inside (only the silhouette is soft): nothing see-through
    inner = cv2.erode((rig.alpha > 0.5).astype(np.uint8), np.ones((21, 21), np.uint8)).astype(bool)
    assert rig.alpha[inner].min() == 1.0
    # the background behind the person is filled with the wall's colour, not the person's
    # (medians: the ring's mean mixes the wall with the floor and the figure's own shadow beside it
    # in shares unlike the area behind the figure; demo1's plate is the lit wall, 25 levels over the
    # ring's mean and 9 from its median; the person is 94-127 levels off the wall)
    img = read_image(media_path(PAIRINGS[pairing][0])).rgb
    person = rig.alpha > 0.5
    ring = cv2.dilate(person.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool) & ~cv2.dilate(person.astype(np.uint8), np.ones((21, 21), np.uint8)).astype(bool)
    inside = np.median(rig.background[person].astype(float), axis=0)
    around = np.median(img[ring].astype(float), axis=0)
    assert np.abs(inside - around).max() < 20, (inside, around)
    assert np.abs(img[person].astype(float).mean(axis=0) - around).max() > 40  # the person did differ from the wall
    # a rig survives saving and loading
    p = outdir / "rig.npz"
    rig.save(p)
    from steadymotion.render.puppet import Rig

    back = Rig.load(p)
    assert [q.name for q in back.parts] == [q.name for q in rig.parts]
    np.testing.assert_array_equal(back.parts[0].texture, rig.parts[0].texture)



def test_plan_keyframes_feet_and_orientation():
    from steadymotion.io.image import read_image
    from steadymotion.motion.kinematics import fit_base
    from steadymotion.motion.plan import plan_motion
    from steadymotion.pose.extract import pose_from_image
    from steadymotion.skeleton import KP, keypoints_from_body

    img = read_image(media_path("mooreanimateanyone__anyone-3.png")).rgb
    end = read_image(media_path("mooreanimateanyone__anyone-11.png")).rgb
    rig = cached_rig(img)
    seq = cached_pose("unianimate__source_video.mp4")
    size = (614, 922)
    # when
    plan = plan_motion(rig.rest_pose, seq, size=size, orientation="video", end_pose=pose_from_image(end), end_size=(end.shape[1], end.shape[0]))
    still = plan_motion(rig.rest_pose, seq, size=size, orientation="image")
    # then: the first frame is the rest pose
    base = fit_base(rig.size, size)
    rest = rig.rest[:, :2] @ base[:, :2].T + base[:, 2]
    assert np.abs(plan.keypoints[0] - rest).max() < 0.5
    # the last frame has the end image's limb directions
    ekp = keypoints_from_body(pose_from_image(end).body)[0]
    err = np.abs((_angles(plan.keypoints[-1], LIMB_BONES) - _angles(ekp, LIMB_BONES) + 180) % 360 - 180)
    assert err.max() < 3.0, err
    # image orientation keeps the pelvis where the image has it; video orientation moves it
    assert np.abs(still.keypoints[:, KP["pelvis"]] - rest[KP["pelvis"]]).max() < 0.15 * size[1]
    # planted feet stay put (foot skating < 1 % of the frame height per contact)
    assert plan.contact.any()
    for k, ank in enumerate(("ankle_l", "ankle_r")):
        c = plan.contact[:, k]
        starts = np.flatnonzero(np.diff(np.r_[0, c.astype(int)]) == 1)
        ends = np.flatnonzero(np.diff(np.r_[c.astype(int), 0]) == -1)
        for s, e in zip(starts, ends):
            if e - s >= 3:
                p = plan.keypoints[s:e + 1, KP[ank]]
                assert np.abs(p - p[0]).max() < 0.01 * size[1] + 1


def test_leg_inverse_kinematics_bends_in_depth_first():
    from steadymotion.motion.feet import DEPTH_GIVE, nearest_in_discs as _nearest_in_discs, two_bone_ik as _two_bone_ik

    short, long = DEPTH_GIVE
    rng = np.random.default_rng(7)
    for _ in range(300):
        hip = rng.uniform(0, 100, 2)
        knee = hip + rng.uniform(-40, 40, 2)
        ankle = knee + rng.uniform(-40, 40, 2)
        target = hip + rng.uniform(-60, 60, 2)
        k2, a2 = _two_bone_ik(hip, knee, ankle, target)
        l1, l2 = np.linalg.norm(knee - hip), np.linalg.norm(ankle - knee)
        n1, n2 = np.linalg.norm(k2 - hip), np.linalg.norm(a2 - k2)
        # both bones change length by the same factor, within the give
        assert abs(n1 / l1 - n2 / l2) < 1e-6 and 1 - short - 1e-9 <= n1 / l1 <= 1 + long + 1e-9
        # a reachable target is reached; an unreachable one is approached along the hip's line
        d = np.linalg.norm(target - hip)
        if abs(l1 - l2) * (1 - short) + 1e-3 < d < (l1 + l2) * (1 + long) - 1e-3:
            assert np.linalg.norm(a2 - target) < 1e-6
        # the knee bends to the side it was on
        side = np.sign(np.cross(ankle - hip, knee - hip))
        if abs(np.cross(ankle - hip, knee - hip)) > 1e-3 and abs(np.cross(a2 - hip, k2 - hip)) > 1e-3:
            assert np.sign(np.cross(a2 - hip, k2 - hip)) == side
        # within the give the leg keeps its shape: the knee at the same place along and across hip->ankle
        r = d / np.linalg.norm(ankle - hip)
        if 1 - short < r < 1 + long:
            def frame(h, k, a):
                u = (a - h) / np.linalg.norm(a - h)
                return np.array([np.dot(k - h, u), np.cross(u, k - h)]) / np.linalg.norm(a - h)
            assert np.allclose(frame(hip, knee, ankle), frame(hip, k2, a2), atol=1e-6)
    # a straight standing leg whose hip comes 1 % nearer its planted ankle stays straight (a bend in
    # the picture alone threw the knee 14 % of the leg's length out sideways: 50 px on a real dancer)
    hip, knee, ankle = np.array([0.0, 0.0]), np.array([2.0, 410.0]), np.array([0.0, 760.0])
    k2, a2 = _two_bone_ik(hip, knee, ankle, np.array([0.0, 752.0]))
    assert np.allclose(a2, [0, 752]) and abs(k2[0]) < 3.0
    # a deep squat goes past the give and bends the knee in the picture
    k2, a2 = _two_bone_ik(hip, knee, ankle, np.array([0.0, 500.0]))
    assert np.allclose(a2, [0, 500]) and abs(k2[0]) > 100
    # the root offset nearest the wish that keeps both planted feet reachable
    p = _nearest_in_discs(np.array([10.0, 0.0]), [(np.zeros(2), 5.0), (np.array([8.0, 0.0]), 4.0)])
    assert np.linalg.norm(p) <= 5.0 + 1e-6 and np.linalg.norm(p - [8, 0]) <= 4.0 + 1e-6
    assert np.allclose(p, [5.0, 0.0])


def test_camera_directives_are_understood_or_reported():
    d = parse_camera("A woman dances, slow zoom in on her face, 85mm lens, orbit around her")
    kinds = {x.kind: x for x in d.understood}
    assert kinds["zoom"].target == "face" and kinds["zoom"].value > 1
    assert kinds["lens"].value == 85
    assert "orbit" in d.ignored
    s = parse_camera("fixed lens, pan left")
    assert s.static and not s.moves and "pan left" in s.ignored
    assert parse_camera("camera pans right").understood[0].vector == (-1.0, 0.0)
    assert not parse_camera("she dances happily").understood
    from steadymotion.motion.directives import camera_path

    n = 10
    tgt = {k: np.tile([[100.0, 50.0]], (n, 1)) for k in ("face", "eyes", "hands", "body", "feet")}
    cams = camera_path(parse_camera("zoom in on the face"), n, (200, 200), tgt)
    assert np.allclose(cams[0], [[1, 0, 0], [0, 1, 0]]) and cams[-1][0, 0] > 1.3


def test_bad_inputs_fail_cleanly_without_output(tmp_path, pattern_clip):
    from steadymotion.pipelines import animate
    from steadymotion.cli import app

    out = tmp_path / "out.mp4"
    # an image without a person
    y, x = np.mgrid[0:256, 0:256]
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.dstack([x, y, (x + y) // 2]).astype(np.uint8))
    with pytest.raises(NoPersonError):
        animate(media_path("mimicmotion__raw_0.mp4"), out, image=blank)
    assert not out.exists()
    # a motion video without a person
    with pytest.raises(NoPersonError):
        animate(pattern_clip, out, image=media_path("mooreanimateanyone__anyone-3.png"))
    assert not out.exists()
    # an unreadable image
    junk = tmp_path / "junk.png"
    junk.write_text("not an image")
    with pytest.raises(NotAnImageError):
        animate(pattern_clip, out, image=junk)
    with pytest.raises(InvalidOptionError):
        animate(pattern_clip, out, image=junk, orientation="sideways")
    # through the CLI: one line, exit 2, nothing written
    r = CliRunner().invoke(app, ["animate", "-i", str(blank), "-m", str(media_path("mimicmotion__raw_0.mp4")), "-o", str(out), "-q"])
    assert r.exit_code == 2 and "no person" in r.output and not out.exists()
    r = CliRunner().invoke(app, ["animate", "-i", str(junk), "-m", str(pattern_clip), "-o", str(tmp_path / "nope" / "x.mp4")])
    assert r.exit_code == 2 and "does not exist" in r.output


_ADD = """
import sys
from steadymotion.characters import CharacterStore
CharacterStore(sys.argv[1]).add(sys.argv[2], sys.argv[3])
"""


def test_character_store_cli_and_concurrent_writers(tmp_path):
    from steadymotion.characters import CharacterStore
    from steadymotion.cli import app

    store = tmp_path / "store"
    img3 = str(media_path("mooreanimateanyone__anyone-3.png"))
    img11 = str(media_path("mooreanimateanyone__anyone-11.png"))
    # two processes write at once
    procs = [subprocess.Popen([sys.executable, "-c", _ADD, str(store), name, img], stderr=subprocess.PIPE)
             for name, img in (("ana", img3), ("ben", img11))]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()[-800:]
    st = CharacterStore(store)
    assert [c.name for c in st.list()] == ["ana", "ben"]
    import sqlite3

    assert sqlite3.connect(st.db_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ana = st.get("ana")
    assert len(ana.identity["face_descriptor"]) == 128 and "skin" in ana.identity["colors_lab"]
    assert ana.load_rig().image.shape == ana.load_image().shape
    runner = CliRunner()
    r = runner.invoke(app, ["character", "list", "--store", str(store)])
    assert r.exit_code == 0 and "ana" in r.output and "ben" in r.output
    r = runner.invoke(app, ["character", "show", "ana", "--store", str(store), "--json"])
    assert r.exit_code == 0 and '"face_descriptor"' in r.output
    r = runner.invoke(app, ["character", "add", "ana", img3, "--store", str(store)])
    assert r.exit_code == 2 and "exists already" in r.output
    # animate reuses the stored rig
    out = tmp_path / "ana.mp4"
    r = runner.invoke(app, ["animate", "-c", "ana", "--store", str(store), "-m", str(_short_motion(tmp_path)), "-o", str(out), "-q", "--no-sound"])
    assert r.exit_code == 0, r.output
    # (its stored rig, not one rebuilt from the master image: that is said in the character row)
    assert out.exists() and "'ana'" in r.output and "rebuilt" not in r.output
    r = runner.invoke(app, ["character", "remove", "ben", "--store", str(store)])
    assert r.exit_code == 0
    r = runner.invoke(app, ["character", "show", "ben", "--store", str(store)])
    assert r.exit_code == 2 and "no character named 'ben'" in r.output


def _short_motion(tmp_path: Path) -> Path:
    """The first 1.5 s of the MimicMotion dance, re-encoded (a quick reference for CLI tests)."""
    from steadymotion.io.video import VideoReader, VideoWriter

    out = tmp_path / "short.mp4"
    with VideoReader(media_path("mimicmotion__raw_0.mp4"), end_s=1.5) as reader, VideoWriter(out, reader.fps) as writer:
        for f in reader:
            writer.write(f.image)
    return out


def test_output_options_sound_size_background(tmp_path):
    from steadymotion.pipelines import animate
    from steadymotion.io.video import VideoReader, probe_video

    # a reference with sound: the pattern clip has no person, so borrow the dance's frames + a tone
    src = _short_motion(tmp_path)
    with_audio = tmp_path / "with_audio.mp4"
    _mux_tone(src, with_audio)
    assert probe_video(with_audio).has_audio
    img = media_path("mooreanimateanyone__anyone-11.png")
    a = animate(with_audio, tmp_path / "a.mp4", image=img, size=(320, 480), background="#00ff00")
    b = animate(with_audio, tmp_path / "b.mp4", image=img, sound=False, orientation="image")
    assert probe_video(a.output).has_audio and not probe_video(b.output).has_audio
    assert probe_video(a.output).size == (320, 480)
    with VideoReader(a.output) as r:
        frame = next(iter(r)).image
    corner = frame[:20, :20].reshape(-1, 3).mean(axis=0)
    assert corner[1] > 200 and corner[0] < 60 and corner[2] < 60  # the green background


def _mux_tone(video: Path, out: Path) -> None:
    import av

    with av.open(str(video)) as src, av.open(str(out), "w") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        aout = dst.add_stream("aac", rate=44100, layout="mono")
        for pkt in src.demux(vin):
            if pkt.dts is None:
                continue
            pkt.stream = vout
            dst.mux(pkt)
        t = np.arange(44100 * 2) / 44100
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
        for i in range(0, samples.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(samples[:, i:i + 1024], format="fltp", layout="mono")
            frame.sample_rate = 44100
            for p in aout.encode(frame):
                dst.mux(p)
        for p in aout.encode(None):
            dst.mux(p)


def test_max_seconds_tracks_only_the_preview(tmp_path):
    from steadymotion.pipelines import animate
    from steadymotion.io.video import probe_video
    from steadymotion.pose.extract import extract_pose

    clip = media_path("mimicmotion__raw_0.mp4")
    fps = float(probe_video(clip).fps)
    # extraction stops at the cut: ~1.5 s of frames, not the clip's 10 s
    seq = extract_pose(clip, until_s=1.5)
    assert abs(len(seq) - round(1.5 * fps)) <= 1 and seq.times[-1] < 1.5
    res = animate(clip, tmp_path / "cut.mp4", image=media_path("mooreanimateanyone__anyone-11.png"), max_seconds=1.5)
    assert probe_video(res.output).frame_count == res.frames == len(seq)
    # the face is tracked beside the body, and its expressions and gaze planned onto the character's face
    assert res.motion_pose.meta["parts"] == "body+face" and res.motion_pose.face_present.mean() > 0.9
    assert res.plan.face is not None and res.plan.face.shape == (res.frames, 478, 3)  # the irises last
    # unless the expressions are switched off: the face then moves only with the head
    off = animate(clip, tmp_path / "still.mp4", image=media_path("mooreanimateanyone__anyone-11.png"), max_seconds=1.5,
                  motion_pose=res.motion_pose, expressions=False)
    assert off.plan.face is None and probe_video(off.output).frame_count == res.frames


def test_plan_holds_a_half_body_reference_whose_hips_are_guessed():
    """A presenter cut at the waist: the pose model guesses the hips below the picture and its guess
    wanders; the character's torso must not stretch or shake with it (the plan hangs the pelvis a
    steady torso below the neck), and a character that is the first frame follows the neck."""
    from steadymotion.motion.kinematics import fill_missing
    from steadymotion.motion.plan import plan_motion
    from steadymotion.skeleton import KP, PARTS, keypoints_from_body
    from steadymotion.types import RestPose

    seq = cached_pose("infinitetalk__videos_2.mp4", until_s=4.0, parts="body")
    kp = keypoints_from_body(fill_missing(seq.body, seq.body_present))
    rest = RestPose(keypoints=kp[0].astype(np.float32), present=np.ones(len(PARTS), bool), size=seq.size)
    plan = plan_motion(rest, seq, size=seq.size, pin_feet=False)
    ref_torso = np.linalg.norm(kp[:, KP["neck"], :2] - kp[:, KP["pelvis"], :2], axis=1)
    out_torso = np.linalg.norm(plan.keypoints[:, KP["neck"]] - plan.keypoints[:, KP["pelvis"]], axis=1)
    assert (kp[:, KP["pelvis"], 1] > seq.size[1]).mean() > 0.9  # the hips really are below the picture
    assert np.ptp(ref_torso) / ref_torso.mean() > 0.04, np.ptp(ref_torso) / ref_torso.mean()  # and the guess wanders
    # the character's torso keeps its length at the body's scale (which follows the shoulders' width)
    rel_torso = out_torso / plan.scale
    assert np.ptp(rel_torso) / rel_torso.mean() < 0.005, np.ptp(rel_torso) / rel_torso.mean()
    # the shoulders' middle (what the picture shows) follows the reference's
    err = np.linalg.norm(plan.keypoints[:, KP["neck"]] - kp[: len(plan), KP["neck"], :2], axis=1)
    assert np.median(err) < 0.01 * seq.size[1], np.median(err)


def test_a_character_posed_like_the_reference_keeps_its_leg_lengths():
    """The image's foreshortening is read from the reference frames posed like it. A standing leg
    keeps its direction through most of a dance while its 2D length changes (knees bending towards
    the camera), so the frames where the whole pose matches decide: a character that is the
    reference's first frame must get that frame's lengths back, its feet where the real ones are."""
    from steadymotion.motion.kinematics import fill_missing
    from steadymotion.motion.plan import START_BLEND_S, plan_motion
    from steadymotion.skeleton import KP, PARTS, keypoints_from_body
    from steadymotion.types import RestPose

    # given musepose's dancer (8 s), her first frame as the character
    seq = cached_pose("musepose__dance.mp4", until_s=8.0, parts="body")
    kp = keypoints_from_body(fill_missing(seq.body, seq.body_present))
    rest = RestPose(keypoints=kp[0].astype(np.float32), present=np.ones(len(PARTS), bool), size=seq.size)
    # when she is driven by her own clip
    plan = plan_motion(rest, seq, size=seq.size)
    after = slice(int(START_BLEND_S * float(plan.fps)) + 1, len(plan))
    torso = np.median(np.linalg.norm(kp[:, KP["neck"], :2] - kp[:, KP["pelvis"], :2], axis=1))
    err = {}
    for name in ("ankle_l", "ankle_r", "knee_l", "knee_r"):
        d = plan.keypoints[after, KP[name]] - kp[after, KP[name], :2]
        err[name] = float(np.median(np.linalg.norm(d, axis=1)) / torso)
    print("\nmedian error (torso lengths):", {k: round(v, 3) for k, v in err.items()})
    # then her feet and knees stay on the real ones (before: the legs were read as unforeshortened,
    # drawn 4-7 % short, the feet 27-30 px = 0.06 torso above the real ones)
    assert max(err["ankle_l"], err["ankle_r"]) < 0.04, err
    assert max(err["knee_l"], err["knee_r"]) < 0.045, err


def test_feet_planted_from_the_first_frame_stay_on_the_images_spot():
    """The reference's feet are planted from its first frame: the character's stay exactly where the
    image has them, through the blend into the reference's pose and as long as the contact lasts,
    toes included (before, the pinning began after the blend, and the shoes had slid 5-10 px with
    the reference's jittering landmarks by then; the toes turned with them throughout)."""
    from steadymotion.motion.kinematics import fill_missing
    from steadymotion.motion.plan import plan_motion
    from steadymotion.skeleton import KP, PARTS, keypoints_from_body
    from steadymotion.types import RestPose

    # given musepose's dancer standing still for her first 3 s (the caption lies over her shoes)
    seq = cached_pose("musepose__dance.mp4", until_s=4.0, parts="body")
    kp = keypoints_from_body(fill_missing(seq.body, seq.body_present))
    rest = RestPose(keypoints=kp[0].astype(np.float32), present=np.ones(len(PARTS), bool), size=seq.size)
    # when her first frame is driven by her clip
    plan = plan_motion(rest, seq, size=seq.size)
    moved = {}
    for k, side in enumerate("lr"):
        c = plan.contact[:, k]
        # then each foot is planted from the first frame for over two seconds ...
        run = int(np.argmin(c)) if not c.all() else len(c)
        assert c[0] and run > 2 * float(plan.fps), run
        for joint in ("ankle", "toe"):
            p = plan.keypoints[:run, KP[f"{joint}_{side}"]]
            moved[f"{joint}_{side}"] = float(np.abs(p - kp[0, KP[f"{joint}_{side}"], :2]).max())
    print("\nmost a planted foot moved (px):", {k: round(v, 2) for k, v in moved.items()})
    # ... and stays on the image's spot (within a pixel)
    assert max(moved.values()) < 1.0, moved
