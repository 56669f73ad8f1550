"""Drift meter: synthetic drift injected into real footage is found with the right kind and onset;
real camera clips stay clean; reports validate and render."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.drift import analyze_video
from steadymotion.drift.series import KINDS, SEVERITIES, SPECS
from steadymotion.io.video import VideoReader, VideoWriter
from steadymotion.pose.extract import extract_pose
from tests.conftest import media_path

ONSET = 3.0  # seconds: where each injected drift starts
SIZE = (360, 640)  # the base clip: 6 s of the real LivePortrait d13 talking-head clip, downscaled


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drift")
    path = folder / "base.mp4"
    with VideoReader(media_path("liveportrait__d13.mp4"), end_s=6.0) as r, VideoWriter(path, r.fps) as w:
        for f in r:
            w.write(cv2.resize(f.image, SIZE, interpolation=cv2.INTER_AREA))
    return {"path": path, "folder": folder, "pose": extract_pose(path, smooth=False)}


def _variant(base, name: str, edit) -> object:
    """Write a copy of the base clip with ``edit(frame_rgb, t, i)`` applied from ONSET on."""
    out = base["folder"] / f"{name}.mp4"
    rng = np.random.default_rng(7)
    with VideoReader(base["path"]) as r, VideoWriter(out, r.fps) as w:
        for f in r:
            img = f.image
            if f.t >= ONSET - 1e-6:
                img = edit(img.copy(), f.t, f.index, rng)
            w.write(img)
    return out


def _events(report, kind: str, at_least: str = "minor"):
    return [e for e in report.events if e.kind == kind and SEVERITIES.index(e.severity) >= SEVERITIES.index(at_least)]


def _assert_onset(events, kind):
    assert events, f"no {kind} event"
    first = min(e.start_s for e in events)
    assert abs(first - ONSET) <= 0.5, f"{kind} onset {first:.2f} s, injected at {ONSET} s"


def test_untouched_clip_is_clean(base):
    report = analyze_video(base["path"])
    assert not report.events, [e.to_dict() for e in report.events]
    assert report.scores["overall"] == 100.0 and report.scores["identity"] == 100.0


def test_reference_image_of_the_same_person(base):
    from steadymotion.io.image import write_image

    with VideoReader(base["path"], end_s=0.1) as r:
        first = next(iter(r)).image
    ref = write_image(base["folder"] / "ref.png", first)
    report = analyze_video(base["path"], reference=ref)
    assert report.reference.endswith("ref.png")
    assert not _events(report, "identity") and not _events(report, "color", "major")


def test_eye_colour_drift(base):
    pose = base["pose"]

    def recolour(img, t, i, rng):
        if not pose.face_present[i]:
            return img
        face = pose.face[i]
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        for c, ring in ((468, [469, 470, 471, 472]), (473, [474, 475, 476, 477])):
            r = float(np.mean(np.linalg.norm(face[ring, :2] - face[c, :2], axis=1)))
            mask = np.zeros(img.shape[:2], np.uint8)
            cv2.circle(mask, (int(round(face[c, 0])), int(round(face[c, 1]))), int(round(r)), 1, -1)
            sel = mask.astype(bool)
            hsv[sel, 0] = 105  # blue
            hsv[sel, 1] = np.maximum(hsv[sel, 1], 170)
            hsv[sel, 2] = np.maximum(hsv[sel, 2], 110)
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)

    report = analyze_video(_variant(base, "iris", recolour))
    colour = [e for e in _events(report, "color") if e.series == "color.iris"]
    _assert_onset(colour, "eye colour")
    assert "eye colour" in colour[0].detail
    assert not _events(report, "identity", "major")


def test_brightness_flicker(base):
    def pulse(img, t, i, rng):
        gain = 1.3 if i % 2 else 0.8
        return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)

    report = analyze_video(_variant(base, "flicker", pulse))
    _assert_onset(_events(report, "flicker"), "flicker")
    assert report.scores["flicker"] < 90
    assert not _events(report, "structure", "major")


def test_growing_background_warp(base):
    pose = base["pose"]
    h, w = SIZE[1], SIZE[0]
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)

    def melt(img, t, i, rng):
        amp = 10.0 + 6.0 * (t - ONSET)  # px: starts visibly, grows (a melting background)
        dx = amp * np.sin(2 * np.pi * gy / 90 + 2 * np.pi * 3 * t)
        dy = amp * np.cos(2 * np.pi * gx / 70 + 2 * np.pi * 2.5 * t)
        warped = cv2.remap(img, gx + dx, gy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        person = np.zeros((h, w), np.uint8)
        pts = np.concatenate([pose.body[i, pose.body[i, :, 3] > 0.3, :2], pose.face[i, ::4, :2]]) if pose.face_present[i] else pose.body[i, :, :2]
        cv2.fillConvexPoly(person, cv2.convexHull(pts.astype(np.float32)).astype(np.int32), 1)
        person = cv2.dilate(person, np.ones((25, 25), np.uint8)).astype(bool)
        warped[person] = img[person]
        return warped

    report = analyze_video(_variant(base, "melt", melt))
    _assert_onset(_events(report, "structure"), "structure")
    acc = report.accumulation["structure.background_warp"]
    assert acc["delta"] > 0 and acc["per_10s"] > 0  # it grows: error accumulation is reported


def test_frame_shake(base):
    def shake(img, t, i, rng):
        dx, dy = rng.uniform(-12, 12, 2)
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        return cv2.warpAffine(img, m, SIZE, borderMode=cv2.BORDER_REFLECT)

    report = analyze_video(_variant(base, "shake", shake))
    _assert_onset([e for e in _events(report, "jitter") if e.series == "jitter.camera"], "camera shake")


def test_identity_swap_is_found(base):
    # the first 3 s of the man of d13, then the woman of d6 (another real clip) in the same frame size
    swapped = base["folder"] / "swap.mp4"
    with VideoWriter(swapped, 30) as w:
        with VideoReader(base["path"], end_s=ONSET) as r:
            for f in r:
                w.write(f.image)
        with VideoReader(media_path("liveportrait__d6.mp4"), end_s=3.0) as r:
            for f in r:
                canvas = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
                canvas[140:500] = cv2.resize(f.image, (360, 360), interpolation=cv2.INTER_AREA)
                w.write(canvas)
    report = analyze_video(swapped)
    _assert_onset(_events(report, "identity", "major"), "identity")
    assert any(e.kind == "cut" for e in report.events)


@pytest.mark.parametrize("name", ["mimicmotion__raw_0.mp4", "musepose__UBC_fashion_test_91BjuE6irxS.mp4"])
def test_real_motion_is_not_drift(name):
    # a dancer approaching a phone camera; a dancer turning 360 degrees
    report = analyze_video(media_path(name))
    bad = [e.to_dict() for e in report.events if e.kind in ("identity", "structure") and e.severity != "minor"]
    assert not bad
    assert report.scores["overall"] >= 60


def _check_schema(doc: dict) -> None:
    assert doc["version"] == 1
    assert set(doc["video"]) == {"path", "fps", "frames", "duration_s", "width", "height"}
    assert set(doc["scores"]) == set(KINDS) | {"overall"}
    for v in doc["scores"].values():
        assert v is None or 0 <= v <= 100
    for name, s in doc["series"].items():
        assert name in SPECS and len(s["t"]) == len(s["values"]) and s["unit"] == SPECS[name].unit
        assert all(v is None or isinstance(v, float | int) for v in s["values"])
    for e in doc["events"]:
        assert set(e) >= {"kind", "start_s", "end_s", "severity", "score", "detail"}
        assert e["kind"] in KINDS and e["severity"] in SEVERITIES and e["end_s"] >= e["start_s"]
    for name, a in doc["accumulation"].items():
        assert name in doc["series"] and set(a) == {"delta", "per_10s", "unit"}


def test_cli_on_an_ai_generated_clip(tmp_path):
    # MimicMotion's re-generation of raw_0, with the real clip as the driving motion
    j, h = tmp_path / "r.json", tmp_path / "r.html"
    result = CliRunner().invoke(app, [str(a) for a in ["analyze", media_path("mimicmotion__ours_0.mp4"), "--motion", media_path("mimicmotion__raw_0.mp4"),
                                      "--json", j, "--html", h, "--fail-on", "severe"]])
    assert result.exit_code in (0, 3), result.output
    doc = json.loads(j.read_text())
    _check_schema(doc)
    assert "fidelity.angle_error" in doc["series"] and doc["scores"]["fidelity"] is not None
    page = h.read_text()
    assert page.startswith("<!doctype html>") and "data:image/png;base64" in page and "Drift report" in page
    assert ("overall" in result.output) and (result.exit_code == 3) == any(e["severity"] == "severe" for e in doc["events"])


def test_cli_bad_inputs(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["analyze", str(tmp_path / "none.mp4")])
    assert r.exit_code == 2 and "not found" in r.output
    r = runner.invoke(app, ["analyze", str(media_path("mimicmotion__raw_0.mp4")), "--fail-on", "sometimes"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["analyze", str(media_path("mimicmotion__raw_0.mp4")), "--json", str(tmp_path / "no" / "r.json")])
    assert r.exit_code == 2 and "does not exist" in r.output


# --- structural defects: limb remnants ------------------------------------------------------------
def _ghosts(name: str):
    from steadymotion.drift.events import series_events
    from steadymotion.drift.structure import ghost_limb_series
    from steadymotion.perception.body import facing
    from tests.conftest import cached_pose

    seq = cached_pose(name, stride=2)  # the drift meter's ~8 tracked frames per second (15-16 fps clips)
    s = ghost_limb_series(media_path(name), seq, back=facing(seq).back)
    return s, series_events(s)


def test_limb_remnants_of_the_first_puppet_are_found():
    # the real dancer, and the first-generation puppet driven by her own motion (self-reenactment):
    # where her arm leaves, the real frames show the curtain; the puppet leaves a sleeve-coloured remnant
    real, real_events = _ghosts("unianimate__source_video.mp4")
    _, fake_events = _ghosts("puppet-v1__unianimate-self-reenactment.mp4")
    assert np.isfinite(real.values).sum() >= 20 and not real_events, [e.to_dict() for e in real_events]
    assert np.nanmax(real.values) < SPECS["structure.ghost_limbs"].minor
    assert fake_events and fake_events[0].kind == "structure"
    # the arm leaves its rest pose from ~1.5 s on; the box lies right of the torso, where that arm hung
    assert 1.0 <= fake_events[0].start_s <= 4.0 and sum(e.end_s - e.start_s for e in fake_events) >= 2.0
    for e in fake_events:
        assert e.box is not None and 0.55 <= e.box[0] <= e.box[2] <= 0.8 and e.box[1] < 0.5, e.to_dict()
        assert e.start_s <= e.peak_s <= e.end_s


def test_limb_remnants_beside_the_torso_and_real_dancers_clean():
    # anyone-3 driven by raw_0: a striped copy of her right arm stays beside the shorts
    _, events = _ghosts("puppet-v1__anyone-3__raw_0.mp4")
    assert sum(e.end_s - e.start_s for e in events) >= 3.0, [e.to_dict() for e in events]
    assert all(e.box is not None and e.box[0] > 0.6 for e in events)  # image right: her right arm's rest place
    for name in ("mimicmotion__raw_0.mp4", "musepose__dance.mp4"):
        s, ev = _ghosts(name)
        assert not ev and (not np.isfinite(s.values).any() or np.nanmax(s.values) < SPECS["structure.ghost_limbs"].minor), name


def test_cut_feed_waits_for_the_frame_pass(tmp_path):
    import threading
    import time

    from steadymotion.drift.meter import CutFeed, frame_pass
    from steadymotion.errors import InputNotFoundError

    feed, got = CutFeed(), []
    reader = threading.Thread(target=lambda: got.append(feed.until(1.0)))
    reader.start()
    feed.reached(0.5, [0.25])
    time.sleep(0.05)
    assert not got  # the pass has not yet read past 1.0 s: a cut may still come
    feed.reached(1.0, [0.25, 1.0])
    time.sleep(0.05)
    assert not got
    feed.reached(1.04, [0.25, 1.0])
    reader.join(5)
    assert got == [[0.25, 1.0]]
    feed.close()
    assert feed.done and feed.until(99.0) == [0.25, 1.0]
    failed = CutFeed()  # a frame pass that fails ends its feed: nothing waits on it for ever
    with pytest.raises(InputNotFoundError):
        frame_pass(tmp_path / "missing.mp4", feed=failed)
    assert failed.done
    with pytest.raises(RuntimeError):
        failed.until(0.0)


def test_limb_remnants_behind_the_frame_pass_are_the_same():
    # fed cut by cut while a "frame pass" reads (as analyze_video runs them), the same series as with
    # the cuts known beforehand; the cuts start new shots (new templates), so they change the result
    import threading

    from steadymotion.drift.meter import CutFeed
    from steadymotion.drift.structure import ghost_limb_series
    from steadymotion.perception.body import facing
    from tests.conftest import cached_pose

    name = "puppet-v1__anyone-3__raw_0.mp4"
    seq = cached_pose(name, stride=2)
    cuts = [2.0, 4.4]
    known = ghost_limb_series(media_path(name), seq, back=facing(seq).back, cuts=cuts)
    feed = CutFeed()

    def frame_pass():
        with VideoReader(media_path(name)) as r:
            times = [f.t for f in r]
        for t in times:
            feed.reached(t, [c for c in cuts if c <= t + 1e-9])
        feed.close()

    reader = threading.Thread(target=frame_pass)
    reader.start()
    fed = ghost_limb_series(media_path(name), seq, back=facing(seq).back, cuts=feed)
    reader.join(30)
    np.testing.assert_array_equal(fed.values, known.values)
    np.testing.assert_array_equal(fed.boxes, known.boxes)
    plain = ghost_limb_series(media_path(name), seq, back=facing(seq).back)
    assert not np.array_equal(plain.values, known.values, equal_nan=True)
