"""Repair (issue #15): drift injected into real footage is largely undone (PSNR over the changed
region against the clean original, repaired vs injected-but-unrepaired), clean footage passes
through untouched, a real drifting AI clip gets its colours back without losing its identity,
bad input fails in one line without leaving an output behind.

Clips are short and small (4 s of LivePortrait d13 at 360x640, a few seconds of the SkyReels clip
at 480 px) to keep the file fast.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.drift.inject import inject
from steadymotion.errors import InvalidOptionError, NotAVideoError, OutputError
from steadymotion.io.video import VideoReader, VideoWriter
from steadymotion.pipelines import repair_video
from tests.conftest import media_path

ONSET = 2.0
SIDE = 640  # d13 at 360x640: irises just measurable, as in tests/test_drift.py


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("repair")


@pytest.fixture(scope="module")
def d13(folder):
    """4 s of the real hand-held selfie clip LivePortrait d13, 360x640 (a copy: strength 0)."""
    return inject(media_path("liveportrait__d13.mp4"), folder / "d13.mp4", "flicker", 0.0, 99.0, end_s=4.0, max_side=SIDE).path


def _changed_psnr(clean, injected, repaired, onset=ONSET, thr=12.0) -> tuple[float, float]:
    """PSNR (dB) of the injected and of the repaired clip against the clean one, over the pixels the
    injection changed (|injected - clean| summed over channels > ``thr``) from ``onset`` on."""
    se_i = se_r = n = 0.0
    with VideoReader(clean) as rc, VideoReader(injected) as ri, VideoReader(repaired) as rr:
        for fc, fi, fr in zip(rc, ri, rr, strict=True):
            if fc.t < onset - 1e-6:
                continue
            c, i, r = (f.image.astype(np.float32) for f in (fc, fi, fr))
            m = np.abs(i - c).sum(axis=2) > thr
            se_i += float(((i - c)[m] ** 2).sum())
            se_r += float(((r - c)[m] ** 2).sum())
            n += 3.0 * m.sum()
    assert n > 0, "the injection changed nothing"
    return 10 * np.log10(255**2 * n / se_i), 10 * np.log10(255**2 * n / se_r)


def _excerpt(src, dst, start_s: float, end_s: float, max_side: int = 480):
    """``src`` from ``start_s`` to ``end_s``, at most ``max_side`` px, written to ``dst``."""
    with VideoReader(src, start_s=start_s, end_s=end_s, max_side=max_side) as r, VideoWriter(dst, r.fps) as w:
        for f in r:
            w.write(f.image)
    return dst


def _frames(path) -> list[np.ndarray]:
    with VideoReader(path) as r:
        return [f.image for f in r]


@pytest.mark.parametrize("kind, strength, gain_db", [("flicker", 8.0, 4.0), ("jitter", 1.0, 4.0), ("joins", 8.0, 8.0)])
def test_frame_level_drift_is_undone(d13, folder, kind, strength, gain_db):
    # given: the clean clip with flicker (±8 % at 4 Hz), per-frame jumps of 1 % of the diagonal, or
    # joined 2-s chunks (8 % light step, tint, 0.8 % framing step) from 2 s on
    injected = inject(d13, folder / f"{kind}.mp4", kind, strength, ONSET, seed=1).path
    # when
    res = repair_video(injected, folder / f"{kind}_fixed.mp4", only=kind)
    # then: the change is largely undone, the rest of the clip is left alone, and the meter agrees
    before, after = _changed_psnr(d13, injected, res.output)
    assert after > before + gain_db, (kind, before, after)
    assert res.repairs[kind]["spans"][0][0] >= ONSET - 1.1, res.repairs  # nothing before the onset (ramps aside)
    assert not [e for e in res.after.events if e.kind == kind], [e.to_dict() for e in res.after.events]
    assert res.frames == 120 and res.size == (360, 640) and abs(res.fps - 30) < 1e-6
    if kind == "joins":  # one join (at 2 s; the next chunk would start at the clip's end), found by the repair itself
        assert len(res.repairs["joins"]["joins"]) == 1 and res.repairs["joins"]["joins"][0].startswith("join at 2.0"), res.repairs


@pytest.fixture(scope="module")
def colour_drift(d13, folder):
    """d13 with its T-shirt turned 15 ΔE00 and its irises 25 ΔE00 from 2 s on (one clip, one repair)."""
    from steadymotion.pose.extract import extract_pose

    pose = extract_pose(d13, smooth=False)
    shirt = inject(d13, folder / "shirt.mp4", "garment_color", 15.0, ONSET, seed=2, pose=pose).path
    both = inject(shirt, folder / "shirt_eyes.mp4", "eye_color", 25.0, ONSET, seed=5, pose=pose).path
    res = repair_video(both, folder / "colour_fixed.mp4", only="color", report=folder / "colour.html")
    return {"shirt": shirt, "both": both, "res": res}


def test_deflicker_keeps_clipped_highlights_of_a_bright_clip(folder):
    # given: 4 s of a bright AI clip (SkyReels: white veil, sunlit leaves, sky near 255) with an 8 %
    # flicker from 1 s: the brightened frames clip, white and the leaves' green channel saturate
    src = media_path("longlive__skyreel-lady_web.mp4")
    clip, flick = _excerpt(src, folder / "bright.mp4", 6.0, 10.0), folder / "bright_flicker.mp4"
    inject(clip, flick, "flicker", 8.0, 1.0, seed=1)
    # when: deflickered
    res = repair_video(flick, folder / "bright_fixed.mp4", only="flicker")
    # then: the flicker is undone over the pixels it changed (> 5 dB; darkening the clipped frames
    # linearly gave 4.5 dB here, with a grey haze over the veil and a magenta cast on the leaves that
    # the meter read as a hard cut), and the repaired clip has no cut and no flicker left
    before, after = _changed_psnr(clip, flick, res.output, onset=1.0)
    assert after > before + 5.0, (before, after)
    assert not [e for e in res.after.events if e.kind in ("cut", "flicker")], [e.to_dict() for e in res.after.events]


def test_garment_colour_is_pulled_back(d13, colour_drift):
    res = colour_drift["res"]
    found = {e.series for e in res.before.events if e.kind == "color"}
    assert {"color.clothing", "color.iris"} <= found, found
    # (the recipe's garment mask also tints the neck above the collar, which no garment repair
    # touches: it is skin; the shirt itself comes back to navy)
    before, after = _changed_psnr(d13, colour_drift["shirt"], res.output)
    # (+3.8 dB on a quiet run, +2.0 dB once in a full suite: the tracking behind both the recipe's mask
    # and the repair's regions differs a little from run to run, and on this 4-s clip the correction then
    # eases out early in the last half second; issue #15 keeps this open)
    assert after > before + 1.5, (before, after)
    assert res.after.scores["color"] > res.before.scores["color"]
    assert not [e for e in res.after.events if e.series == "color.clothing"], [e.to_dict() for e in res.after.events]


def test_eye_colour_is_pulled_back(colour_drift):
    # the irises' change alone: the shirt-only clip is the clean one here
    res = colour_drift["res"]
    # (pixels changed by > 10 levels a channel: the irises, not the second encode's noise around them)
    before, after = _changed_psnr(colour_drift["shirt"], colour_drift["both"], res.output, thr=30.0)
    assert after > before + 4.0, (before, after)
    assert not [e for e in res.after.events if e.series == "color.iris"], [e.to_dict() for e in res.after.events]
    # the report: both scores, the repaired regions, before|after frames
    html = res.report_files[0].read_text()
    assert "colour re-anchoring" in html and "before | after" in html and res.report_files[1].exists()
    assert set(res.repairs["color"]["regions"]) >= {"clothing", "iris"}


def test_clean_footage_passes_through_untouched(d13, folder):
    # a real camera clip: nothing found, so the output is the input (bit-identical frames)
    res = repair_video(d13, folder / "clean_out.mp4", measure_after=False)
    assert not res.before.events and res.copied and not res.repairs
    assert all(np.array_equal(a, b) for a, b in zip(_frames(d13), _frames(res.output), strict=True))


def test_repairs_leave_clean_stretches_near_lossless(d13, folder):
    # a repaired clip is re-encoded; where no repair acts it stays within ~40 dB of its input
    injected = inject(d13, folder / "late_flicker.mp4", "flicker", 10.0, 3.2, seed=3).path
    res = repair_video(injected, folder / "late_fixed.mp4", only="flicker", measure_after=False)
    with VideoReader(injected, end_s=1.5) as ri, VideoReader(res.output, end_s=1.5) as rr:
        mse = np.mean([np.mean((a.image.astype(np.float32) - b.image) ** 2) for a, b in zip(ri, rr, strict=True)])
    assert 10 * np.log10(255**2 / mse) > 40


def test_only_is_respected_and_cli_exit_codes(d13, folder):
    injected = inject(d13, folder / "flicker_only.mp4", "flicker", 8.0, ONSET, seed=4).path
    out = folder / "only_jitter.mp4"
    # when: only jitter is asked for, the flicker stays (nothing to do: the input comes through)
    result = CliRunner().invoke(app, ["repair", str(injected), "-o", str(out), "--only", "jitter", "-q"])
    assert result.exit_code == 0, result.output
    assert "stabilised: nothing found to repair" in result.output
    assert out.read_bytes() == injected.read_bytes()
    bad = CliRunner().invoke(app, ["repair", str(injected), "-o", str(folder / "x.mp4"), "--only", "flicker,sharpen"])
    assert bad.exit_code == 2 and "--only takes" in bad.output and not (folder / "x.mp4").exists()
    # --no-check: the flicker repaired, the output not measured again (no "after" scores printed)
    quick = CliRunner().invoke(app, ["repair", str(injected), "-o", str(folder / "quick.mp4"), "--only", "flicker", "--no-check", "-q"])
    assert quick.exit_code == 0 and "deflicker: " in quick.output and (folder / "quick.mp4").exists(), quick.output
    assert "not measured again" in quick.output and "after" not in quick.output, quick.output
    both = CliRunner().invoke(app, ["repair", str(injected), "-o", str(folder / "y.mp4"), "--no-check", "--report", str(folder / "y.html")])
    assert both.exit_code == 2 and "--no-check and --report" in both.output and not (folder / "y.mp4").exists()


def test_bad_inputs_leave_nothing_behind(d13, folder, tmp_path, monkeypatch):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(NotAVideoError):
        repair_video(corrupt, tmp_path / "out.mp4")
    with pytest.raises(OutputError, match="does not exist"):
        repair_video(d13, tmp_path / "missing" / "out.mp4")
    with pytest.raises(OutputError, match="also an input"):
        repair_video(d13, d13)
    with pytest.raises(InvalidOptionError):
        repair_video(d13, tmp_path / "out.mp4", only="everything")
    r = CliRunner().invoke(app, ["repair", str(corrupt), "-o", str(tmp_path / "out.mp4")])
    assert r.exit_code == 2 and r.output.count("error:") == 1
    # a failure half-way through the frames leaves neither the output nor a temporary file
    import steadymotion.repair.plan as plan

    calls = {"n": 0}
    real = plan.repair_frame

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 20:
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(plan, "repair_frame", failing)
    injected = inject(d13, tmp_path / "flicker.mp4", "flicker", 8.0, 1.0, seed=6).path
    with pytest.raises(OSError, match="simulated"):
        repair_video(injected, tmp_path / "half.mp4", only="flicker", measure_after=False)
    assert calls["n"] > 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.mp4", "flicker.mp4"]


def test_real_drifting_ai_clip_gets_its_colours_back(folder):
    # SkyReels-V2 (LongLive comparison page): by 20 s the lady's skin, dress and hair have drifted
    # 15-20 ΔE00 from the opening. Repair 4 s of it against its own first frame.
    src = media_path("longlive__skyreel-lady_web.mp4")
    with VideoReader(src, end_s=0.05) as r:
        first = next(iter(r)).image
    clip = _excerpt(src, folder / "skyreel.mp4", 20.0, 24.0)
    res = repair_video(clip, folder / "skyreel_fixed.mp4", reference=first, only="color")
    assert res.before.scores["color"] < 60, res.before.scores
    assert res.after.scores["color"] > res.before.scores["color"] + 20, (res.before.scores, res.after.scores)
    # the same person: identity neither scored worse nor further from the reference face
    assert res.after.scores["identity"] >= res.before.scores["identity"]
    # and the repair made no cut: the corrections never pop from one frame to the next
    assert not [e for e in res.after.events if e.kind == "cut"], [e.to_dict() for e in res.after.events]

    def face_distance(report):
        s = next(s for s in report.series if s.name == "identity.face_distance")
        return float(np.nanmedian(s.values))

    assert face_distance(res.after) <= face_distance(res.before) + 0.03


def test_exposure_drift_is_brought_back_to_the_opening(d13, folder):
    # given: the clean clip darkening to 70 % brightness over 2-3 s (a whole-frame exposure drift)
    from steadymotion.repair.colour import frame_correction, recolour
    from steadymotion.repair.spans import span_weights
    from steadymotion.repair.track import track_video

    dark = folder / "darkening.mp4"
    with VideoReader(d13) as r, VideoWriter(dark, r.fps) as w:
        for f in r:
            gain = 1.0 - 0.3 * float(np.clip(f.t - 2.0, 0.0, 1.0))
            w.write(np.clip(f.image.astype(np.float32) * gain, 0, 255).astype(np.uint8))
    track = track_video(dark)
    # when: the exposure correction acts from 2 s on (where the meter's color.exposure event would be)
    fix = frame_correction(track, span_weights(track.t, [(2.5, 4.0)]), np.zeros(len(track)))
    # then: none before 1.5 s, and the last frames' lightness comes back to the opening's (within 1.5 L*)
    assert not fix.active()[track.t < 1.5].any()
    last = _frames(dark)[-1]
    fixed = recolour(last, len(track) - 1, float(track.t[-1]), [], fix, None, None)
    import cv2

    def lightness(img):
        return float(cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[..., 0].mean() * 100 / 255)

    opening = lightness(_frames(d13)[0])
    assert lightness(last) < opening - 8 and abs(lightness(fixed) - opening) < 1.5, (opening, lightness(last), lightness(fixed))


def test_audio_frames_rate_and_size_are_kept(folder):
    # given: 3 s of a real clip with sound (LivePortrait d6, AAC), brightness pulsing from 1 s on
    src = media_path("liveportrait__d6.mp4")
    clip = folder / "with_sound.mp4"
    with VideoReader(src, end_s=3.0, max_side=320) as r, VideoWriter(clip, r.fps, audio_from=src) as w:
        for f in r:
            gain = 1.0 + (0.1 * (1 if f.index % 2 else -1) if f.t >= 1.0 else 0.0)
            w.write(np.clip(f.image.astype(np.float32) * gain, 0, 255).astype(np.uint8))
    # when
    res = repair_video(clip, folder / "with_sound_fixed.mp4", only="flicker", measure_after=False)
    # then: a repaired (re-encoded) video with the same frames, rate, size and sound
    from steadymotion.io.video import probe_video

    a, b = probe_video(clip), probe_video(res.output)
    assert not res.copied and res.repairs["flicker"]["spans"]
    assert b.audio_codec == "aac" and b.frame_count == a.frame_count and b.fps == a.fps and b.size == a.size
    assert abs((b.duration_s or 0) - (a.duration_s or 0)) < 0.1


def test_the_meters_frame_pass_gives_the_repairs_track(d13):
    # given: the meter asked to keep what the repairs need of every frame (as repair_video does)
    from steadymotion.drift import analyze_video
    from steadymotion.repair.track import track_video

    kept = analyze_video(d13, pose=False, keep_track=True).track
    # then: the same numbers as the repairs' own tracking pass over the video, which it replaces
    alone = track_video(d13)
    for name in ("t", "gain", "step", "lab", "chroma", "cut"):
        assert np.array_equal(getattr(kept, name), getattr(alone, name), equal_nan=name != "cut"), name
    assert (kept.size, kept.fps) == (alone.size, alone.fps)


def test_appearance_measured_again_at_given_landmarks_is_the_same_on_the_same_frames(d13):
    # given: the meter's pose-and-appearance pass on a clip
    from steadymotion.pose.extract import extract_pose_and_appearance, measure_appearance

    _, app = extract_pose_and_appearance(d13, stride=4)
    # when: the appearance is measured again at its landmarks without tracking (the repair's after-measure)
    again = measure_appearance(d13, app.times, app.body, app.face, app.sampled, stride=4)
    # then: on unchanged frames it gives the same numbers, frame for frame
    assert app.sampled[:, 0].any() and app.sampled[:, 1].any()
    for name in ("times", "colors", "colors2", "descriptors", "shapes", "sampled"):
        assert np.array_equal(getattr(app, name), getattr(again, name), equal_nan=name != "sampled"), name


def test_after_measure_reuses_the_skeleton_only_where_no_frame_was_moved(d13, folder, colour_drift):
    # a colour repair moves no frame: the output's skeleton is the input's (said in the notes), and
    # the colour score still responds to the repair (test_garment_colour_is_pulled_back)
    res = colour_drift["res"]
    assert "jitter" not in res.repairs and "joins" not in res.repairs
    assert any("not tracked again" in n for n in res.after.notes), res.after.notes
    # a stabilised clip's frames were moved: the output is tracked again, and its jitter is gone
    shaky = inject(d13, folder / "shaky.mp4", "jitter", 1.0, ONSET, seed=1).path
    res = repair_video(shaky, folder / "shaky_fixed.mp4")
    assert "jitter" in res.repairs, res.repairs
    assert not any("not tracked again" in n for n in res.after.notes), res.after.notes
    assert res.after.scores["jitter"] > res.before.scores["jitter"]
