"""Prompt discipline: a rule-based, explainable linter and builder for generation prompts.

Each rule encodes a practice that keeps motion-controlled and text-to-video generations anchored
(Kling's own prompt guides for Motion Control, the Wan and MimicMotion model cards, and common
ComfyUI practice): motion comes from the reference video, not from words; name concrete actions;
give camera moves a target; ask for a camera rig when a steady shot is wanted; say what to avoid in
a negative prompt rather than with "no ..." in the positive one; stay within the length limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from steadymotion.findings import Finding, FindingsReport, Severity, sort_findings
from steadymotion.vocab import CAMERA_MOVES, CAMERA_RIG, words as _words

#: Kling's prompt limit (characters).
MAX_PROMPT_CHARS = 2500
TARGETS = ("motion-control", "text-to-video")

# -- vocabularies (lower case; matched on word boundaries) -----------------------------------------
VAGUE_ACTIONS = (
    r"moves?", r"moving", r"movements?", r"in motion", r"some motion", r"does (?:something|stuff|things)",
    r"doing (?:something|stuff|things|a thing)", r"acts?", r"acting", r"goes around", r"animated?", r"animates",
    r"dances?", r"dancing", r"does a dance", r"some dance moves", r"being active", r"action",
)
#: Words after a vague verb that make it concrete enough ("dancing a slow waltz", "moves her arms").
CONCRETE_AFTER = (
    r"(?:a |an |the )?(?:slow |fast |quick )?(?:waltz|tango|salsa|ballet|hip[- ]hop|routine|choreography|step|steps|"
    r"spin|twirl|pirouette|jump|kick|arms?|hands?|legs?|head|hips?|shoulders?|toward|towards|forward|backward|"
    r"left|right|\d+ degrees)"
)
ACTION_VERBS = (
    r"danc(?:e|es|ing)", r"walk(?:s|ing)?", r"run(?:s|ning)?", r"jump(?:s|ing)?", r"spin(?:s|ning)?",
    r"twirl(?:s|ing)?", r"wav(?:e|es|ing)(?! of)", r"kick(?:s|ing)?", r"turn(?:s|ing)? around", r"rotat(?:e|es|ing)",
    r"rais(?:e|es|ing) (?:her|his|their|both)? ?(?:arms?|hands?)", r"clap(?:s|ping)?", r"squat(?:s|ting)?",
    r"bow(?:s|ing)", r"step(?:s|ping)", r"sway(?:s|ing)?", r"leap(?:s|ing)?", r"strut(?:s|ting)?", r"gestur(?:e|es|ing)",
    r"mov(?:e|es|ing)", r"shak(?:e|es|ing)", r"nod(?:s|ding)?",
)
CAMERA_TARGET = r"\s+(?:\w+\s+){0,3}?(?:on|onto|toward|towards|to|into|at|of)\s+(?:the\s+|her\s+|his\s+|their\s+|a\s+)?\w+"
NEGATIONS = r"\b(?:no|without|never|avoid|don'?t|do not|not)\s+(?:any\s+)?((?:[\w-]+)(?:\s+[\w-]+)?)"
SUBJECT_NOUNS = ("woman", "man", "girl", "boy", "person", "dancer", "character", "lady", "guy", "child", "kid", "model")
#: "negative prompt: ...", "negative: ...", "--no ..." typed into the positive prompt (to its end).
INLINE_NEGATIVE = re.compile(r"(?is)[\s,;.]*(?:\bnegative(?:\s+prompt)?\s*[:=]|(?<!\w)--no\b)\s*(.+?)\s*$")

BASE_NEGATIVE = ["blur", "distortion", "extra limbs", "extra fingers", "shaky camera", "flicker", "morphing face"]
TOPIC_NEGATIVES = (
    (r"\b(?:hands?|fingers?|gestur\w*|wav\w*|clap\w*|holding|grip\w*)\b", ["fused fingers", "missing fingers", "malformed hands"]),
    (r"\b(?:face|portrait|close[- ]up|eyes?|smil\w*|talk\w*|speak\w*|express\w*)\b", ["asymmetric eyes", "changing eye colour", "deformed face"]),
    (r"\b(?:hair|ponytail|braids?|curls?)\b", ["changing hairstyle"]),
    (r"\b(?:dress|shirt|t-shirt|jacket|coat|outfit|skirt|jeans|hoodie|suit|sweater|uniform|clothes|clothing)\b", ["changing clothes", "clothing morphing"]),
    (r"\b(?:danc\w*|spin\w*|jump\w*|run\w*|kick\w*|twirl\w*|fast|energetic\w*)\b", ["stretched limbs", "motion blur", "duplicate limbs"]),
    (r"\b(?:background|room|street|garden|stage|studio|city|beach|forest|office|rooftop|park)\b", ["melting background", "warping background"]),
    (r"\b(?:light\w*|sunset|neon|lamp|candle\w*|night|shadow\w*)\b", ["flickering light", "exposure changes"]),
    (r"\b(?:two|couple|group|crowd|people|friends|together)\b", ["merged bodies", "extra people"]),
)


@dataclass
class PromptReport(FindingsReport):
    """Result of :func:`lint_prompt`.

    Attributes
    ----------
    prompt : str
        The prompt as given.
    target : str
        ``"motion-control"`` or ``"text-to-video"``.
    findings : list of Finding
    suggested_prompt : str
        A rewrite that applies the fixes (a suggestion, not a rule).
    negative_prompt : str
        A negative prompt tuned to what the prompt shows (a suggestion).
    """

    prompt: str = ""
    target: str = "motion-control"
    suggested_prompt: str = ""
    negative_prompt: str = ""

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "prompt": self.prompt,
            "target": self.target,
            "findings": [f.to_dict() for f in self.findings],
            "suggested_prompt": self.suggested_prompt,
            "negative_prompt": self.negative_prompt,
            "suggestions_only": True,
        }


def _subject(text: str) -> str:
    m = re.search(r"\b(" + "|".join(SUBJECT_NOUNS) + r")\b", text, re.I)
    return f"the {m.group(1).lower()}" if m else "the subject"


def _clean(text: str) -> str:
    text = re.sub(r"\s+([,.;!?])", r"\1", text)
    text = re.sub(r"([,;])\s*(?=[,;.])", "", text)
    text = re.sub(r"\s{2,}", " ", text)
    return text.strip(" ,;")


def _vague(text: str) -> list[re.Match]:
    hits = []
    for m in re.finditer(_words(VAGUE_ACTIONS), text, re.I):
        after = text[m.end() : m.end() + 40]
        if re.match(r"\s+" + CONCRETE_AFTER, after, re.I):
            continue
        hits.append(m)
    return hits


def negative_prompt_for(text: str, extra: list[str] | None = None) -> str:
    """Build a negative prompt: common drift failures plus the ones this prompt's topics invite."""
    terms = list(BASE_NEGATIVE)
    for pattern, words in TOPIC_NEGATIVES:
        if re.search(pattern, text, re.I):
            terms += words
    terms += extra or []
    seen: list[str] = []
    for term in terms:
        term = term.strip().lower()
        if term and term not in seen:
            seen.append(term)
    return ", ".join(seen)


def prompt_too_long(text: str | None) -> Finding | None:
    """The ``TOO_LONG`` error when ``text`` passes :data:`MAX_PROMPT_CHARS`: the one prompt limit that
    the linter, preflight and ``animate`` all apply."""
    if text is None or len(text) <= MAX_PROMPT_CHARS:
        return None
    return Finding("TOO_LONG", Severity.ERROR,
                   f"the prompt is {len(text):,} characters; Kling and most hosted generators accept at most {MAX_PROMPT_CHARS:,}",
                   "cut it to the subject's look, the scene, the lighting and the camera")


def lint_prompt(text: str, target: str = "motion-control") -> PromptReport:
    """Check a generation prompt and suggest a better one and a negative prompt.

    Parameters
    ----------
    text : str
        The prompt.
    target : {"motion-control", "text-to-video"}
        Motion control takes its motion from a reference video; text-to-video from the words.

    Returns
    -------
    PromptReport
        Findings (codes ``TOO_LONG``, ``VAGUE_ACTION``, ``MOTION_IN_PROMPT``, ``UNTARGETED_CAMERA``,
        ``NO_CAMERA_RIG``, ``NEGATION_IN_PROMPT``, ``NEGATIVE_PROMPT``), a suggested rewrite and a
        negative prompt. Everything is a suggestion; nothing is enforced.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    text = text or ""
    findings: list[Finding] = []
    original = text
    suggestion = text
    subject = _subject(text)

    too_long = prompt_too_long(text)
    if too_long is not None:
        findings.append(too_long)
    if not text.strip():
        findings.append(Finding("EMPTY_PROMPT", Severity.WARN, "the prompt is empty",
                                "describe the scene, the clothing, the lighting and the camera (e.g. 'fixed lens, tripod, 35mm')"))

    # a negative prompt typed into the positive one ("..., negative prompt: blurry, extra fingers")
    inline = re.search(INLINE_NEGATIVE, text)
    inline_terms: list[str] = []
    if inline:
        inline_terms = [t.strip().lower() for t in re.split(r"[,;]", inline.group(1)) if t.strip()]
        findings.append(Finding(
            "NEGATIVE_IN_PROMPT", Severity.WARN,
            f"the prompt carries its own negative part ('{inline.group(0).strip(' ,;.')}'); in the positive prompt "
            "those words ask for what they name",
            "pass them as the negative prompt (moved there in the suggestion)"))
        text = text[: inline.start()]
        suggestion = text
        subject = _subject(text)

    # "no blur" in a positive prompt reads as "blur" to most text encoders
    negated = [m for m in re.finditer(NEGATIONS, text, re.I)]
    negated_terms = [m.group(1).lower() for m in negated] + inline_terms
    if negated:
        quoted = ", ".join(f"'{m.group(0)}'" for m in negated[:4])
        findings.append(Finding(
            "NEGATION_IN_PROMPT", Severity.WARN,
            f"the prompt says what to avoid with negations ({quoted}); text encoders tend to see the word, not the 'no'",
            "move these words to the negative prompt (done in the suggestion)"))
        for m in reversed(negated):
            suggestion = suggestion[: m.start()] + suggestion[m.end():]

    actions = list(re.finditer(_words(ACTION_VERBS), text, re.I))
    if target == "motion-control" and actions:
        words = sorted({m.group(0).lower() for m in actions})
        findings.append(Finding(
            "MOTION_IN_PROMPT", Severity.WARN,
            f"the prompt describes motion ({', '.join(words[:5])}), but in motion control the motion comes from the reference video",
            "describe the scene, clothing, environment, lighting and camera instead; let the video carry the motion"))
        for m in sorted(re.finditer(r"\b(?:is |are )?" + _words(ACTION_VERBS) + r"(?:\s+\w+ly)?", suggestion, re.I),
                        key=lambda m: -m.start()):
            suggestion = suggestion[: m.start()] + suggestion[m.end():]
    else:
        vague = _vague(text)
        if vague:
            words = sorted({m.group(0).lower() for m in vague})
            findings.append(Finding(
                "VAGUE_ACTION", Severity.WARN,
                f"vague action word(s): {', '.join(words)}; generators improvise (and drift) when the action is unspecified",
                "name the action precisely, e.g. 'walking purposefully toward the camera', 'rotating 360 degrees "
                "clockwise', 'raising both arms overhead', 'stepping side to side'"))

    untargeted = []
    for m in re.finditer(_words(CAMERA_MOVES), text, re.I):
        if not re.match(CAMERA_TARGET, text[m.end():], re.I):
            untargeted.append(m)
    if untargeted:
        move = untargeted[0].group(0).lower()
        verb = "zooms in" if "zoom" in move else move
        example = f"camera {verb} on {subject}'s eyes" if "zoom" in move or "close" in move else f"camera {verb} toward {subject}'s face"
        findings.append(Finding(
            "UNTARGETED_CAMERA", Severity.WARN,
            f"camera move '{untargeted[0].group(0)}' has no target; the generator guesses one, and the framing wanders",
            f"say what it moves to, e.g. '{example}'"))
        for m in reversed(untargeted):
            suggestion = suggestion.replace(m.group(0), f"{m.group(0)} on {subject}'s face", 1) if m.group(0) in suggestion else suggestion

    if not re.search(_words(CAMERA_RIG), text, re.I):
        findings.append(Finding(
            "NO_CAMERA_RIG", Severity.INFO,
            "no camera rig is named; without one, generators add drifting hand-held motion",
            "for a steady shot add 'fixed lens, tripod, 35mm' (added in the suggestion)"))
        suggestion = _clean(suggestion)
        suggestion = (suggestion + ", " if suggestion else "") + "fixed lens, tripod, 35mm"

    negative = negative_prompt_for(text, negated_terms)
    findings.append(Finding(
        "NEGATIVE_PROMPT", Severity.INFO,
        f"suggested negative prompt for this scene: {negative}",
        "pass it as the negative prompt (Kling: 'negative_prompt'; ComfyUI: the negative conditioning)"))
    return PromptReport(prompt=original, target=target, findings=sort_findings(findings),
                        suggested_prompt=_clean(suggestion), negative_prompt=negative)
