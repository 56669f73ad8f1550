"""Prompt linter: every rule fires on a real-world-style prompt and stays quiet on a counter-example."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.prompt import MAX_PROMPT_CHARS, lint_prompt


def codes(text, target="motion-control"):
    return lint_prompt(text, target).codes()


def test_too_long():
    long = "A woman in a flowing red dress stands on a windy cliff at golden hour, " * 40
    assert len(long) > MAX_PROMPT_CHARS and "TOO_LONG" in codes(long)
    assert "TOO_LONG" not in codes(long[:2400])


@pytest.mark.parametrize("prompt", ["A man moves around the room", "She is doing something cool in the kitchen", "a girl dancing"])
def test_vague_action_fires(prompt):
    assert "VAGUE_ACTION" in codes(prompt, "text-to-video")


@pytest.mark.parametrize("prompt", ["A man walking purposefully toward the camera", "The girl is dancing a slow waltz in a ballroom",
                                    "An astronaut rotating 360 degrees in zero gravity"])
def test_vague_action_counter_examples(prompt):
    assert "VAGUE_ACTION" not in codes(prompt, "text-to-video")


def test_motion_in_prompt_for_motion_control_only():
    prompt = "A woman dancing energetically in a neon club, waving her arms"
    report = lint_prompt(prompt, "motion-control")
    assert "MOTION_IN_PROMPT" in report.codes()
    assert "dancing" not in report.suggested_prompt and "neon club" in report.suggested_prompt
    assert "MOTION_IN_PROMPT" not in codes(prompt, "text-to-video")
    assert "MOTION_IN_PROMPT" not in codes("A woman in a red dress on a rooftop at sunset, fixed lens")


def test_untargeted_camera():
    report = lint_prompt("Cinematic shot of a dancer on a stage, camera zooms in", "motion-control")
    assert "UNTARGETED_CAMERA" in report.codes()
    finding = next(f for f in report.findings if f.code == "UNTARGETED_CAMERA")
    assert "the dancer's eyes" in finding.fix
    assert "UNTARGETED_CAMERA" not in codes("Cinematic shot of a dancer, camera zooms in on the woman's eyes")
    assert "UNTARGETED_CAMERA" not in codes("slow dolly in toward her face, tripod")


def test_no_camera_rig():
    report = lint_prompt("A knight in a misty forest")
    assert "NO_CAMERA_RIG" in report.codes() and report.suggested_prompt.endswith("fixed lens, tripod, 35mm")
    assert "NO_CAMERA_RIG" not in codes("A knight in a misty forest, shot on a tripod with a 35mm lens")
    assert "NO_CAMERA_RIG" not in codes("handheld documentary look, a knight in a misty forest")


def test_negations_move_to_the_negative_prompt():
    report = lint_prompt("Portrait of a woman in a garden, no blur, without distortion, fixed lens")
    assert "NEGATION_IN_PROMPT" in report.codes()
    assert "no blur" not in report.suggested_prompt and "without" not in report.suggested_prompt
    assert "blur" in report.negative_prompt and "distortion" in report.negative_prompt
    assert "NEGATION_IN_PROMPT" not in codes("A snowy night in a quiet town, fixed lens")


def test_negative_prompt_is_tuned_to_the_prompt():
    hands = lint_prompt("Close-up of a pianist's hands on the keys, fixed lens").negative_prompt
    scenery = lint_prompt("Wide shot of a mountain lake at dawn, tripod").negative_prompt
    assert "fused fingers" in hands and "fused fingers" not in scenery
    for common in ("blur", "extra limbs", "flicker", "morphing face"):
        assert common in hands and common in scenery
    assert "NEGATIVE_PROMPT" in codes("anything at all")


def test_bad_target():
    with pytest.raises(ValueError, match="target"):
        lint_prompt("x", "image-to-image")


def test_cli_prompt_json_and_exit_codes():
    runner = CliRunner()
    result = runner.invoke(app, ["prompt", "A woman dancing in a park, no blur, zoom in", "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["version"] == 1 and doc["suggestions_only"] is True
    assert {f["code"] for f in doc["findings"]} >= {"MOTION_IN_PROMPT", "NEGATION_IN_PROMPT", "UNTARGETED_CAMERA"}
    assert set(doc["findings"][0]) == {"code", "severity", "message", "fix", "time_ranges"}
    too_long = runner.invoke(app, ["prompt", "x " * 1300])
    assert too_long.exit_code == 2 and "TOO_LONG" in too_long.output
    bad = runner.invoke(app, ["prompt", "x", "--for", "poetry"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("prompt,moved", [
    ("a woman in a red dress, studio light, negative prompt: blurry, extra fingers", ["blurry", "extra fingers"]),
    ("a man on a porch, fixed lens --no watermark", ["watermark"]),
])
def test_negative_part_typed_into_the_prompt_moves_to_the_negative(prompt, moved):
    r = lint_prompt(prompt, "motion-control")
    assert "NEGATIVE_IN_PROMPT" in [f.code for f in r.findings]
    assert "negative" not in r.suggested_prompt.lower() and "--no" not in r.suggested_prompt
    for w in moved:
        assert w in r.negative_prompt and w not in r.suggested_prompt
    assert r.prompt == prompt


def test_negative_part_counter_example():
    # "negative space" is a photography term, not a negative prompt
    r = lint_prompt("portrait with lots of negative space, fixed lens", "motion-control")
    assert "NEGATIVE_IN_PROMPT" not in [f.code for f in r.findings]
    assert "negative space" in r.suggested_prompt
