"""The ``steadymotion`` command line (Typer + Rich): a thin layer over the library.

Every command validates its outputs before doing work, shows progress on anything long, and
turns a :class:`~steadymotion.errors.SteadyMotionError` into one red line and exit code 2.
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from steadymotion import __version__
from steadymotion._progress import StagedProgress, console, progress_bar
from steadymotion.errors import InvalidOptionError, OutputError, SteadyMotionError, SteadyMotionWarning, error_message
from steadymotion.io.atomic import check_writable
from steadymotion.vocab import Mode, Orientation

app = typer.Typer(
    name="steadymotion",
    help="Drift-free motion-controlled character video, and a drift meter for any video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_USER_ERROR = 2


def _edge(func):
    """Run a command: domain errors -> one red line + exit 2; warnings -> yellow lines."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        shown: set = set()

        def show_warning(message, category, filename, lineno, file=None, line=None):
            # one line per subject: two passes over one damaged video each warn about it
            key = (category, getattr(message, "key", str(message)))
            if issubclass(category, SteadyMotionWarning) and key not in shown:
                shown.add(key)
                console.print(f"[yellow]warning:[/] {message}", highlight=False)

        old = warnings.showwarning
        warnings.showwarning = show_warning
        try:
            return func(*args, **kwargs)
        except SteadyMotionError as exc:
            console.print(f"[bold red]error:[/] {error_message(exc)}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except KeyboardInterrupt:
            console.print("[bold red]interrupted[/]; no output was written")
            raise typer.Exit(130) from None
        finally:
            warnings.showwarning = old

    return wrapper


def _version(value: bool) -> None:
    if value:
        print(f"steadymotion {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
) -> None:
    """Drift-free motion-controlled character video, and a drift meter for any video."""


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


SkeletonMapOpt = Annotated[Optional[Path], typer.Option("--skeleton-map", help="BVH input: a JSON file naming the capture's joints, "
                                                     '{"left_shoulder": "L_UpperArm", ...} (needed only for unusual namings).', show_default=False)]


def _pose_summary(seq, elapsed: float, outputs: list[tuple[str, Path]]) -> Table:
    cov = seq.coverage()
    table = Table(title=f"motion from {Path(seq.source).name}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("frames", f"{len(seq)} at {float(seq.fps):.3f} fps ({seq.duration_s:.2f} s), {seq.size[0]}x{seq.size[1]}")
    if "bvh" in seq.meta:
        b = seq.meta["bvh"]
        table.add_row("capture", f"{b['frames']} frames of {b['frame_time']:.4f} s, {b['naming']} naming, {b['up']} up; projection "
                      + ", ".join(f"{k} {v}" for k, v in b["projection"].items()))
    table.add_row("body", _pct(cov["body"]))
    table.add_row("hands", f"{_pct(cov['hands'])} (left {_pct(cov['left_hand'])}, right {_pct(cov['right_hand'])})")
    table.add_row("face", _pct(cov["face"]))
    filled = int(seq.body_filled.sum() + seq.hands_filled.sum() + seq.face_filled.sum())
    clean = [k for k, on in (("smoothed", seq.meta.get("smoothed")), ("gaps filled", seq.meta.get("gaps_filled")), ("hands repaired", seq.meta.get("hands_repaired"))) if on]
    table.add_row("clean-up", (", ".join(clean) or "none") + f"; {filled} part-frames interpolated, {seq.meta.get('hand_swaps_repaired', 0)} hand swaps fixed")
    table.add_row("speed", f"{elapsed:.1f} s, {len(seq) / max(elapsed, 1e-9):.1f} frames/s")
    for label, path in outputs:
        table.add_row(label, str(path))
    return table


@app.command()
@_edge
def pose(
    video: Annotated[Path, typer.Argument(help="Reference video with one person (MP4, MOV, WebM, AVI ...), or a BVH motion capture.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to save the motion (.npz).")] = Path("motion.npz"),
    bvh_out: Annotated[Optional[Path], typer.Option("--bvh", help="Also write the motion as a BVH capture (humanoid skeleton, opens in Blender).")] = None,
    openpose_json: Annotated[Optional[Path], typer.Option("--openpose-json", help="Also write OpenPose JSON, one file per frame, into this folder.")] = None,
    render: Annotated[Optional[Path], typer.Option("--render", help="Also render the DWPose-style pose video (.mp4) here.")] = None,
    smooth: Annotated[bool, typer.Option("--smooth/--no-smooth", help="Zero-lag smoothing of jitter (Savitzky-Golay, 0.25 s).")] = True,
    fill: Annotated[bool, typer.Option("--fill/--no-fill", help="Interpolate dropouts of up to 0.2 s.")] = True,
    hand_repair: Annotated[bool, typer.Option("--hand-repair/--no-hand-repair", help="Fix left/right hand swaps.")] = True,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, max=64, help="Parallel processes (default: one per core).")] = None,
    fps: Annotated[Optional[float], typer.Option("--fps", min=1, max=240, help="BVH input: the frame rate the capture is resampled to (default 30).")] = None,
    skeleton_map: SkeletonMapOpt = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar or summary.")] = False,
) -> None:
    """Extract body, hand and face motion from a video (MediaPipe Holistic), or read a BVH capture.

    Saves a .npz with body (T,33,4), hands (T,2,21,3), face (T,478,3), presence masks, times,
    fps and size; optionally OpenPose JSON, a pose video for ControlNet-style models and a BVH
    capture. A BVH input (Mixamo, Rokoko, CMU, Meta namings, or --skeleton-map) is projected onto
    the image plane as AnimatedDrawings does and resampled to --fps.
    """
    from steadymotion.io.video import check_video_output, probe_video
    from steadymotion.motion.bvh import DEFAULT_FPS, is_bvh, read_motion_bvh
    from steadymotion.pose.extract import extract_pose
    from steadymotion.pose.openpose import render_pose_video, write_openpose_json

    if output.suffix.lower() != ".npz":
        raise OutputError(f"the motion file must end in .npz, got {str(output)!r}")
    check_writable(output, inputs=[video])
    if bvh_out is not None:
        if bvh_out.suffix.lower() != ".bvh":
            raise OutputError(f"--bvh must name a .bvh file, got {str(bvh_out)!r}")
        check_writable(bvh_out, inputs=[video, output])
    if render is not None:
        check_video_output(render, inputs=[video, output])
    if openpose_json is not None:
        if openpose_json.exists() and not openpose_json.is_dir():
            raise OutputError(f"{str(openpose_json)!r} exists and is not a folder; --openpose-json takes a folder path")
        check_writable(openpose_json.parent / f".{openpose_json.name}.probe")
        if not openpose_json.is_dir():
            check_writable(openpose_json, inputs=[video, output])
    capture = is_bvh(video)
    if not capture:
        if skeleton_map is not None or fps is not None:
            raise InvalidOptionError("--fps and --skeleton-map apply to a BVH input only (a video keeps its own frame rate)")
        probe_video(video)  # a missing or unreadable video fails here, before any progress bar
    t0 = time.perf_counter()
    if capture:
        seq = read_motion_bvh(video, fps=fps or DEFAULT_FPS, skeleton_map=skeleton_map)
    else:
        with progress_bar("extracting motion", quiet=quiet) as update:
            seq = extract_pose(video, smooth=smooth, fill_gaps=fill, repair_hands=hand_repair, workers=workers, progress=update)
    elapsed = time.perf_counter() - t0
    bvh_fit = None
    if bvh_out is not None:  # solved before anything is written: a failure leaves no output
        from steadymotion.motion.bvh import bvh_from_pose

        bvh, bvh_fit = bvh_from_pose(seq)
    outputs = [("motion", seq.save(output))]
    if bvh_out is not None:
        from steadymotion.io.bvh import write_bvh

        outputs.append(("bvh", f"{write_bvh(bvh_out, bvh)} ({bvh.n_frames} frames at {1 / bvh.frame_time:.3f} fps; "
                               f"bones within {bvh_fit['median_deg']:.1f} deg median, {bvh_fit['p95_deg']:.1f} deg p95 of the tracked ones)"))
    if openpose_json is not None:
        with progress_bar("writing OpenPose JSON", quiet=quiet) as update:
            outputs.append(("openpose json", write_openpose_json(seq, openpose_json, name=video.stem, progress=update)))
    if render is not None:
        with progress_bar("rendering pose video", quiet=quiet) as update:
            outputs.append(("pose video", render_pose_video(seq, render, progress=update)))
    if not quiet:
        console.print(_pose_summary(seq, elapsed, outputs))


SEVERITY_STYLE = {"error": "bold red", "warn": "yellow", "info": "cyan"}


def _findings_table(findings, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("code", no_wrap=True, style="bold")
    table.add_column("what was found")
    table.add_column("fix")
    for f in findings:
        sev = f.severity.value
        table.add_row(f"[{SEVERITY_STYLE[sev]}]{sev}[/]", f.code, f.message, f.fix)
    if not findings:
        table.add_row("[green]ok[/]", "-", "nothing to report", "")
    return table


def _write_json(path: Path, data: dict) -> Path:
    import json

    from steadymotion.io.atomic import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")
    return path


@app.command()
@_edge
def check(
    image: Annotated[Path, typer.Option("--image", help="The character image.", show_default=False)],
    motion: Annotated[Path, typer.Option("--motion", help="The motion reference video, or a BVH capture.", show_default=False)],
    orientation: Annotated[str, typer.Option("--orientation", help="video: follow the video's position/scale/facing; image: keep the image's.")] = "video",
    prompt: Annotated[Optional[str], typer.Option("--prompt", help="Also lint this prompt.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the findings as JSON here.")] = None,
    skeleton_map: SkeletonMapOpt = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Preflight: check a character image and a motion video (or BVH capture) before generating anything.

    Prints findings (framing, people, clutter, speed, spins, turning away, camera, cuts, hands,
    duration, sizes) with what to do about each; exits 2 when any finding is an error.
    """
    from steadymotion.preflight import check_inputs

    orientation = Orientation.parse(orientation).value
    if json_out is not None:
        check_writable(json_out, inputs=[image, motion])
    from steadymotion.io.image import read_image
    from steadymotion.io.video import probe_video

    from steadymotion.motion.bvh import is_bvh

    read_image(image)  # unreadable inputs fail here, as one line, before any progress bar
    if not is_bvh(motion):
        if skeleton_map is not None:
            raise InvalidOptionError("--skeleton-map applies to a BVH motion only")
        probe_video(motion)
    with StagedProgress(quiet=quiet) as progress:
        report = check_inputs(image, motion, orientation=orientation, prompt=prompt, progress=progress, skeleton_map=skeleton_map)
    console.print(_findings_table(report.findings, f"preflight: {image.name} + {motion.name} (orientation {orientation})"))
    if json_out is not None:
        console.print(f"findings written to {_write_json(json_out, report.to_dict())}")
    if not report.ok:
        raise typer.Exit(EXIT_USER_ERROR)


@app.command("prompt")
@_edge
def prompt_cmd(
    text: Annotated[str, typer.Argument(help="The prompt to check (quote it).", show_default=False)],
    target: Annotated[str, typer.Option("--for", help="motion-control (motion from a video) or text-to-video.")] = "motion-control",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
) -> None:
    """Lint a generation prompt and suggest a better one plus a negative prompt (suggestions only)."""
    import json

    from steadymotion.prompt import TARGETS, lint_prompt

    if target not in TARGETS:
        raise typer.BadParameter(f"must be one of {', '.join(TARGETS)}", param_hint="--for")
    report = lint_prompt(text, target)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        console.print(_findings_table(report.findings, f"prompt ({target})"))
        console.print(f"[bold]suggested prompt:[/] {report.suggested_prompt}", highlight=False)
        console.print(f"[bold]negative prompt:[/] {report.negative_prompt}", highlight=False)
    if any(f.severity.value == "error" for f in report.findings):
        raise typer.Exit(EXIT_USER_ERROR)


EXIT_DRIFT = 3


@app.command()
@_edge
def analyze(
    video: Annotated[Path, typer.Argument(help="Any video: ours or another generator's.", show_default=False)],
    reference: Annotated[Optional[Path], typer.Option("--reference", help="Image of the subject as they should look (default: the opening frames).")] = None,
    motion: Annotated[Optional[Path], typer.Option("--motion", help="The driving video, to measure motion fidelity.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the full report (series, events, scores) as JSON.")] = None,
    html_out: Annotated[Optional[Path], typer.Option("--html", help="Write a readable HTML report with plots and thumbnails.")] = None,
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", help="Exit 3 when an event of this severity or worse is found: minor, major or severe.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Measure drift: identity, colour, flicker, structure, jitter, skeleton, hands, physics, fidelity, cuts.

    Prints the scores (0-100, 100 = no drift) and the top events; exit 3 when --fail-on is met.
    """
    from steadymotion.drift import analyze_video
    from steadymotion.drift.series import SEVERITIES
    from steadymotion.io.video import probe_video

    if fail_on is not None and fail_on not in SEVERITIES:
        raise typer.BadParameter(f"must be one of {', '.join(SEVERITIES)}", param_hint="--fail-on")
    for out in (json_out, html_out):
        if out is not None:
            check_writable(out, inputs=[video, reference])
    if json_out is not None and html_out is not None and Path(json_out).resolve() == Path(html_out).resolve():
        raise OutputError(f"--json and --html name the same file {str(json_out)!r}; give each report its own path")
    probe_video(video)
    if reference is not None:
        from steadymotion.io.image import read_image

        read_image(reference)
    if motion is not None:
        probe_video(motion)
    with StagedProgress(quiet=quiet) as progress:
        report = analyze_video(video, reference=reference, motion=motion, progress=progress)
    _print_drift(report, video.name)
    if json_out is not None:
        console.print(f"JSON report: {report.write_json(json_out)}")
    if html_out is not None:
        console.print(f"HTML report: {report.write_html(html_out)}")
    if fail_on is not None and report.fails(fail_on):
        raise typer.Exit(EXIT_DRIFT)


def _print_drift(report, name: str) -> None:
    """The drift scores, the top events and the verdict."""
    from steadymotion.drift.series import SEVERITIES

    table = Table(title=f"drift in {name}", title_justify="left")
    table.add_column("kind", style="bold")
    table.add_column("score", justify="right")
    for kind, score in report.scores.items():
        table.add_row(kind, "n/a" if score is None else f"{score:.0f}")
    console.print(table)
    if report.events:
        ev = Table(title="top events", title_justify="left")
        for col in ("kind", "severity", "start", "end", "what"):
            ev.add_column(col)
        top = sorted(report.events, key=lambda e: (-SEVERITIES.index(e.severity), -e.score))[:8]
        for e in sorted(top, key=lambda e: e.start_s):
            ev.add_row(e.kind, f"[{ {'minor': 'yellow', 'major': 'dark_orange', 'severe': 'bold red'}[e.severity]}]{e.severity}[/]",
                       f"{e.start_s:.2f} s", f"{e.end_s:.2f} s", e.detail)
        console.print(ev)
    console.print(report.verdict(), highlight=False)


@app.command()
@_edge
def repair(
    video: Annotated[Path, typer.Argument(help="A drifting video (ours or another generator's).", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="The repaired video (.mp4).", show_default=False)],
    reference: Annotated[Optional[Path], typer.Option("--reference", help="Image of the subject as they should look: colours are pulled back to it (default: the opening frames).")] = None,
    only: Annotated[Optional[str], typer.Option("--only", help="Repair only these, comma-separated: flicker, color, jitter, joins (default: all).")] = None,
    report_out: Annotated[Optional[Path], typer.Option("--report", help="Write a before/after HTML report here (JSON beside it).")] = None,
    no_check: Annotated[bool, typer.Option("--no-check", help="Do not measure the output again (about a third faster; no 'after' scores; not with --report).")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Undo the drift the meter finds: flicker, colour drift, jitter, segment joins; then measure again.

    Only what the drift meter finds is touched (clean footage comes out as it went in); audio,
    frame count, rate and size are kept. Prints the scores before and after.
    """
    from steadymotion.pipelines import repair_video
    from steadymotion.repair import parse_kinds

    parse_kinds(only)  # a bad --only fails before any work
    if no_check and report_out is not None:
        raise InvalidOptionError("--no-check and --report do not go together: the report shows the output measured again; drop one")
    started = time.perf_counter()
    with StagedProgress(quiet=quiet) as progress:
        res = repair_video(video, output, reference=reference, only=only, report=report_out, measure_after=not no_check,
                           progress=progress)
    _print_repair(res, time.perf_counter() - started)


def _print_repair(res, elapsed: float) -> None:
    """Scores before and after, and what was repaired where."""
    table = Table(title=f"repaired {res.output.name}", title_justify="left")
    checked = res.after is not None
    for col in ("kind", "before", "after") if checked else ("kind", "before"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    after = res.after.scores if checked else {}
    for kind, score in res.before.scores.items():
        a = after.get(kind)
        cells = [kind, "n/a" if score is None else f"{score:.0f}"]
        table.add_row(*cells, *(["n/a" if a is None else f"{a:.0f}"] if checked else []))
    console.print(table)
    if not checked:
        console.print("the output was not measured again (--no-check)", highlight=False)
    words = {"flicker": "deflicker", "color": "colour", "jitter": "stabilised", "joins": "joins"}
    for kind in res.kinds:
        info = res.repairs.get(kind)
        spans = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in info["spans"][:6]) if info else "nothing found to repair"
        console.print(f"[bold]{words[kind]}[/]: {spans}", highlight=False)
    if res.copied:
        console.print("nothing needed repair: the output is the input, unchanged", highlight=False)
    duration = res.frames / res.fps if res.fps else 0.0
    console.print(f"{res.frames} frames, {res.size[0]}x{res.size[1]}, {res.fps:g} fps; {elapsed:.1f} s = "
                  f"{elapsed / max(duration, 1e-9):.2f}x the clip", highlight=False)
    if res.report_files:
        console.print(f"report: {res.report_files[0]} (JSON: {res.report_files[1]})", highlight=False)


@app.command("sample-clip")
@_edge
def sample_clip(
    output: Annotated[Path, typer.Argument(help="Where to write the sample video (.mp4).")] = Path("sample.mp4"),
    seconds: Annotated[float, typer.Option(min=0.5, max=120, help="Length in seconds.")] = 4.0,
) -> None:
    """Write the built-in sample clip (the scikit-image astronaut, swaying)."""
    from steadymotion.samples import make_sample_clip

    console.print(f"sample clip written to [bold]{make_sample_clip(output, seconds=seconds)}[/]")


@app.command("cache")
@_edge
def cache_cmd(
    clear: Annotated[bool, typer.Option("--clear", help="Remove everything kept (it is computed again when needed).")] = False,
) -> None:
    """Show (or clear) the cache of rigs and tracked motion kept between runs."""
    from steadymotion import cache

    folder = cache.cache_dir()
    if folder is None:
        console.print(f"caching is off ({cache.ENV}={os.environ.get(cache.ENV)}); nothing is kept", highlight=False)
        return
    if clear:
        files, size = cache.clear()
        console.print(f"removed {files} files ({size / 1e6:.1f} MB) from {folder}", highlight=False)
        return
    table = Table(title=f"cache: {folder}", title_justify="left")
    table.add_column("kept")
    table.add_column("entries", justify="right")
    table.add_column("MB", justify="right")
    for kind, (n, size) in sorted(cache.contents().items()):
        table.add_row(kind, str(n), f"{size / 1e6:.1f}")
    console.print(table)
    console.print(f"limit {cache.limit_bytes() / 2**20:.0f} MB (least recently used go first; {cache.ENV_MB}); "
                  f"{cache.ENV}=DIR keeps it elsewhere, =off not at all; `steadymotion cache --clear` empties it",
                  highlight=False)


@app.command()
@_edge
def animate(
    motion: Annotated[Path, typer.Option("--motion", "-m", help="Reference video whose motion the character performs, or a BVH capture.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output MP4.")],
    image: Annotated[Optional[Path], typer.Option("--image", "-i", help="Character image (one person, head and shoulders at least).")] = None,
    character: Annotated[Optional[str], typer.Option("--character", "-c", help="A stored character (see `steadymotion character`); reuses its rig.")] = None,
    orientation: Annotated[str, typer.Option("--orientation", help="video: position, scale, rotation and camera follow the reference; image: keep the image's.")] = "video",
    mode: Annotated[str, typer.Option("--mode", help="animate: the character performs in its own image's scene; replace: it takes the reference person's place in the reference video (scene, light, camera, size, audio).")] = "animate",
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="Camera directives are read from it: fixed lens, zoom in on the face, pan left, 85mm...")] = None,
    end_image: Annotated[Optional[Path], typer.Option("--end-image", help="End the clip in this image's pose (blended over the last second).")] = None,
    background: Annotated[Optional[str], typer.Option("--background", help="Replace the background (animate mode): an image or video path (a video moves, looped), #rrggbb, r,g,b or a colour name.")] = None,
    size: Annotated[Optional[str], typer.Option("--size", help="Output WIDTHxHEIGHT (default: the image's aspect, long side 512-1280).")] = None,
    no_sound: Annotated[bool, typer.Option("--no-sound", help="Drop the reference's audio (kept by default).")] = False,
    max_seconds: Annotated[Optional[float], typer.Option("--max-seconds", help="Use only the first seconds of the reference.")] = None,
    static_background: Annotated[bool, typer.Option("--static-background", help="Do not move the background with the reference's camera.")] = False,
    store: Annotated[Optional[Path], typer.Option("--store", help="Character store folder (default $STEADYMOTION_HOME or ~/.local/share/steadymotion).", envvar="STEADYMOTION_HOME")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Also measure the result's drift and write this HTML report (JSON beside it).")] = None,
    fps: Annotated[Optional[float], typer.Option("--fps", min=1, max=240, help="BVH motion: the output frame rate (default 30).")] = None,
    skeleton_map: SkeletonMapOpt = None,
    no_expressions: Annotated[bool, typer.Option("--no-expressions", help="Keep the image's facial expression (by default the reference face's mouth, lids and brows move the character's face, its eyes look where the reference's look and its head's turn in depth turns it; tracking the face adds 6-50 % to the tracking time).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Animate a character image with the motion of a reference video or BVH capture (the CPU puppet backend)."""
    from steadymotion.pipelines import make_video, parse_size

    if (image is None) == (character is None):
        raise InvalidOptionError("give exactly one of --image IMAGE or --character NAME")
    orientation = Orientation.parse(orientation).value
    mode = Mode.parse(mode)
    from steadymotion.motion.bvh import is_bvh

    if not is_bvh(motion) and (fps is not None or skeleton_map is not None):
        raise InvalidOptionError("--fps and --skeleton-map apply to a BVH motion only (a video keeps its own frame rate)")
    started = time.perf_counter()
    with StagedProgress(quiet=quiet) as stage:
        made = make_video(motion, output, image=image, character=character, store=store, orientation=orientation,
                          prompt=prompt, end_image=end_image, background=background, size=parse_size(size),
                          sound=not no_sound, max_seconds=max_seconds, follow_camera=not static_background,
                          report=report, progress=stage, fps=fps, skeleton_map=skeleton_map, mode=mode,
                          expressions=not no_expressions)
    _print_animation(made.animation, orientation, static_background, time.perf_counter() - started, mode)
    if made.drift is not None:
        _print_drift(made.drift, made.output.name)
        console.print(f"drift report: {made.report_files[0]} (JSON: {made.report_files[1]})")


def _print_animation(result, orientation: str, static_background: bool, elapsed: float, mode: Mode = Mode.ANIMATE) -> None:
    table = Table(title=f"animated {result.output.name}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("video", f"{result.output}  ({result.size[0]}x{result.size[1]}, {result.frames} frames, {result.fps:g} fps, {result.duration_s:.2f} s)")
    table.add_row("character", result.character)
    table.add_row("mode", f"{mode} (the character replaces the reference person in its video)" if mode is Mode.REPLACE else str(mode))
    table.add_row("orientation", orientation)
    if mode is Mode.REPLACE:
        table.add_row("camera", "the reference video's own")
    else:
        table.add_row("camera", "; ".join(d.describe() + f' ("{d.words}")' for d in result.directives.understood) or
                      ("follows the reference" if orientation == "video" and not static_background else "static"))
    if result.directives.ignored:
        table.add_row("ignored", ", ".join(f'"{w}"' for w in result.directives.ignored) + " (not supported, or overruled by a static camera)")
    t = result.timings
    table.add_row("time", f"{elapsed:.1f} s = {elapsed / max(result.duration_s, 1e-9):.2f}x the clip  "
                  f"(motion {t.get('motion', 0):.1f} s, rig {t.get('rig', 0):.1f} s (alongside), camera {t.get('camera', 0):.1f} s, "
                  f"render {t.get('render', 0):.1f} s = {result.render_fps:.1f} fps)")
    for note in result.notes:
        table.add_row("note", note)
    console.print(table)


@app.command()
@_edge
def web(
    host: Annotated[str, typer.Option("--host", help="Address to bind; the default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 7860,
    share_dir: Annotated[Optional[Path], typer.Option("--share-dir", help="Folder for uploads, results and reports (default ~/.cache/steadymotion/web).")] = None,
    store: Annotated[Optional[Path], typer.Option("--store", help="Character store folder (default $STEADYMOTION_HOME or ~/.local/share/steadymotion).", envvar="STEADYMOTION_HOME")] = None,
    max_video_seconds: Annotated[float, typer.Option("--max-video-seconds", min=1, help="Longest video the page accepts.")] = 300.0,
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", min=1, help="Largest upload the page accepts.")] = 500,
) -> None:
    """Serve the web UI: Animate, Analyze, Repair, Check & prompt, Characters (Ctrl+C stops it)."""
    from steadymotion.web import Limits, launch

    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning:[/] serving on {host}: anyone who can reach this address can use the app and its files")
    limits = Limits(max_upload_mb=max_upload_mb, max_video_s=max_video_seconds)
    demo = launch(host=host, port=port, share_dir=share_dir, store=store, limits=limits, block=False)
    console.print(f"steadymotion web UI at [bold]http://{'127.0.0.1' if host in ('127.0.0.1', 'localhost') else host}:{port}[/]"
                  f"  (files in {demo.steadymotion_share}; Ctrl+C stops it)", highlight=False)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        demo.close()


character_app = typer.Typer(help="The character memory: master images with their rigs and identity, reused by animate.",
                            no_args_is_help=True)
app.add_typer(character_app, name="character")
StoreOpt = Annotated[Optional[Path], typer.Option("--store", help="Store folder (default $STEADYMOTION_HOME or ~/.local/share/steadymotion).", envvar="STEADYMOTION_HOME")]
PreviewOpt = Annotated[Optional[Path], typer.Option("--preview", help="Also write the rig preview here (.png, .jpg or .webp): "
                                                    "the parts, joints and bones, and what moving uncovers.", show_default=False)]


def _write_preview(ch, path: Path) -> None:
    """Draw a stored character's rig preview (an older stored rig is rebuilt first, as animate does)."""
    from steadymotion.render import DEFAULT_BACKEND, get_backend
    from steadymotion.render.cache import prepare_cached
    from steadymotion.render.puppet.preview import write_rig_preview

    try:
        rig = ch.load_rig()
    except SteadyMotionError:
        with console.status(f"the stored rig of {ch.name!r} is from an older version; rebuilding it"):
            rig = prepare_cached(get_backend(DEFAULT_BACKEND), ch.load_image(), source=f"character {ch.name!r}", note=False)
        ch.store.update_rig(ch.name, rig)
        console.print(f"rebuilt the rig of {ch.name!r} (it was from an older version)", highlight=False)
    write_rig_preview(rig, path)
    console.print(f"[green]rig preview[/] {path}", highlight=False)


@character_app.command("add")
@_edge
def character_add(
    name: Annotated[str, typer.Argument(help="Name to store it under.")],
    image: Annotated[Path, typer.Argument(help="The master image (one person).")],
    notes: Annotated[str, typer.Option("--notes", help="Free text kept with it.")] = "",
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a character of the same name.")] = False,
    preview: PreviewOpt = None,
    store: StoreOpt = None,
) -> None:
    """Rig IMAGE and keep it as NAME (master image, rig, rest pose, identity signature)."""
    from steadymotion.characters import CharacterStore
    from steadymotion.render.puppet.preview import check_preview_path

    if preview is not None:
        check_preview_path(preview)  # before the rigging, not after it
    with console.status(f"rigging {image}"):
        ch = CharacterStore(store).add(name, image, notes=notes, replace=replace)
    console.print(f"[green]stored[/] {ch.name!r} ({ch.size[0]}x{ch.size[1]}) in {ch.store.root}")
    if preview is not None:
        _write_preview(ch, preview)


@character_app.command("list")
@_edge
def character_list(store: StoreOpt = None) -> None:
    """List the stored characters."""
    from steadymotion.characters import CharacterStore

    st = CharacterStore(store)
    chars = st.list()
    table = Table(title=f"characters in {st.root}", title_justify="left")
    for col in ("name", "size", "face", "created", "notes"):
        table.add_column(col)
    for c in chars:
        d = c.to_dict()
        table.add_row(c.name, f"{c.size[0]}x{c.size[1]}", "yes" if c.identity.get("face_descriptor") else "no", d["created"], c.notes)
    console.print(table if chars else f"no characters in {st.root} yet; add one with: steadymotion character add NAME IMAGE")


@character_app.command("show")
@_edge
def character_show(
    name: Annotated[str, typer.Argument(help="Character name.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    preview: PreviewOpt = None,
    store: StoreOpt = None,
) -> None:
    """Show one character: size, files, identity colours (and write its rig preview with --preview)."""
    import json

    from steadymotion.characters import CharacterStore
    from steadymotion.render.puppet.preview import check_preview_path

    if preview is not None:
        check_preview_path(preview)
    c = CharacterStore(store).get(name)
    d = c.to_dict()
    if json_out:
        print(json.dumps(d, indent=2))
        if preview is not None:
            _write_preview(c, preview)  # its messages go to stderr: stdout stays one JSON document
        return
    table = Table(title=f"character {c.name!r}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("size", f"{c.size[0]}x{c.size[1]}")
    table.add_row("created", d["created"])
    table.add_row("notes", c.notes or "-")
    table.add_row("master image", str(c.store.object_path(c.image)))
    table.add_row("rig", str(c.store.object_path(c.rig)))
    table.add_row("face descriptor", "128-d (dlib)" if c.identity.get("face_descriptor") else "none (no frontal face found)")
    for region, lab in c.identity.get("colors_lab", {}).items():
        table.add_row(f"{region} colour", "L*a*b* " + ", ".join(f"{v:.1f}" for v in lab))
    console.print(table)
    if preview is not None:
        _write_preview(c, preview)


@character_app.command("remove")
@_edge
def character_remove(name: Annotated[str, typer.Argument(help="Character name.")], store: StoreOpt = None) -> None:
    """Remove a character (its files go when no other character uses them)."""
    from steadymotion.characters import CharacterStore

    CharacterStore(store).remove(name)
    console.print(f"removed {name!r}")


batch_app = typer.Typer(help="Many inputs at once (files, folders, CSV manifests) into one results folder: resumable, "
                        "one row per input, a dashboard worst first.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")
BatchInputs = Annotated[list[Path], typer.Argument(help="Video files, folders of videos (searched recursively) or CSV manifests.",
                                                   show_default=False)]
BatchOut = Annotated[Path, typer.Option("--out", "-o", help="Results folder: results.jsonl, summary.csv, index.html and a "
                                        "folder per input (made if missing; a rerun skips what is done).", show_default=False)]
BatchEngine = Annotated[str, typer.Option("--engine", help="local: a process pool on this machine; ray: tasks on a Ray cluster.")]
BatchRay = Annotated[Optional[str], typer.Option("--ray-address", help="An existing Ray cluster (e.g. 10.0.0.5:6379); default: "
                                                 "a cluster on 127.0.0.1 started for this run.")]
BatchWorkers = Annotated[Optional[int], typer.Option("--workers", min=1, max=1024, help="Inputs processed at once (default: one per core).")]
BatchRetry = Annotated[bool, typer.Option("--retry-errors", help="Process inputs whose last run was an error again.")]
BatchQuiet = Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")]
BatchImage = Annotated[Optional[Path], typer.Option("--image", help="The character image for every input (a manifest's image column overrides it).")]
BatchOrientation = Annotated[str, typer.Option("--orientation", help="video or image, for every input without its own.")]
BatchPrompt = Annotated[Optional[str], typer.Option("--prompt", help="The prompt for every input without its own.")]


def _run_batch(kind: str, inputs: list[Path], out: Path, engine: str, ray_address: str | None, workers: int | None,
               retry_errors: bool, quiet: bool, defaults: dict) -> None:
    """Run a batch with a progress bar, print each error row as it comes and a summary; exit 2 when
    any input is an error."""
    from steadymotion.batch import run_batch

    def on_row(row: dict) -> None:
        if row["status"] != "ok":
            console.print(f"[bold red]error:[/] {row['input']}: {row['error']}", highlight=False, soft_wrap=True)

    try:
        with progress_bar(f"batch {kind}", unit="inputs", quiet=quiet) as update:
            summary = run_batch(kind, inputs, out, engine=engine, ray_address=ray_address, workers=workers,
                                defaults=defaults, retry_errors=retry_errors, progress=update, on_row=on_row)
    except KeyboardInterrupt:
        console.print(f"[bold red]interrupted[/]; the finished inputs are in {out / 'results.jsonl'}: "
                      "the same command goes on where this one stopped", highlight=False)
        raise typer.Exit(130) from None
    table = Table(title=f"batch {kind}: {len(summary.rows)} inputs", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rate = f", {60 * summary.processed / summary.seconds:.1f} inputs/min" if summary.processed and summary.seconds > 0 else ""
    table.add_row("processed", f"{summary.processed} in {summary.seconds:.1f} s on {summary.engine} "
                  f"({summary.workers} workers){rate}; {summary.skipped} done before, skipped")
    table.add_row("ok", str(summary.ok))
    table.add_row("errors", f"[bold red]{len(summary.errors)}[/]" if summary.errors else "0")
    for e in summary.errors[:5]:
        table.add_row("", f"{e['input']}: {e['error']}")
    for label in ("index", "summary", "results"):
        table.add_row(label, str(summary.files[label]))
    console.print(table)
    if summary.errors:
        raise typer.Exit(EXIT_USER_ERROR)


@batch_app.command("analyze")
@_edge
def batch_analyze(inputs: BatchInputs, out: BatchOut, engine: BatchEngine = "local", ray_address: BatchRay = None,
                  workers: BatchWorkers = None, retry_errors: BatchRetry = False, quiet: BatchQuiet = False) -> None:
    """Measure drift in every video (a manifest's columns: video, reference, motion).

    Per input: report.html, report.json and a thumbnail; exit 2 when any input is an error row.
    """
    _run_batch("analyze", inputs, out, engine, ray_address, workers, retry_errors, quiet, {})


@batch_app.command("check")
@_edge
def batch_check(inputs: BatchInputs, out: BatchOut, image: BatchImage = None, orientation: BatchOrientation = "video",
                prompt: BatchPrompt = None, engine: BatchEngine = "local", ray_address: BatchRay = None,
                workers: BatchWorkers = None, retry_errors: BatchRetry = False, quiet: BatchQuiet = False) -> None:
    """Preflight every image + motion pair (motion videos with --image, or a manifest: image, motion,
    orientation, prompt). Per input: the findings as HTML and JSON and a thumbnail."""
    _run_batch("check", inputs, out, engine, ray_address, workers, retry_errors, quiet,
               {"image": image, "orientation": orientation, "prompt": prompt})


@batch_app.command("animate")
@_edge
def batch_animate(
    inputs: BatchInputs, out: BatchOut, image: BatchImage = None, orientation: BatchOrientation = "video",
    prompt: BatchPrompt = None,
    size: Annotated[Optional[str], typer.Option("--size", help="Output WIDTHxHEIGHT for every input without its own.")] = None,
    max_seconds: Annotated[Optional[float], typer.Option("--max-seconds", help="Use only the first seconds of each reference.")] = None,
    background: Annotated[Optional[str], typer.Option("--background", help="An image path, #rrggbb, r,g,b or a colour name.")] = None,
    no_sound: Annotated[bool, typer.Option("--no-sound", help="Drop the references' audio.")] = False,
    static_background: Annotated[bool, typer.Option("--static-background", help="Do not move the background with the camera.")] = False,
    engine: BatchEngine = "local", ray_address: BatchRay = None, workers: BatchWorkers = None,
    retry_errors: BatchRetry = False, quiet: BatchQuiet = False,
) -> None:
    """Animate every image + motion pair (motion videos with --image, or a manifest: image, motion,
    orientation, prompt, size, max_seconds, background, end_image, sound, static_background).
    Per input: animated.mp4, its drift report and a thumbnail."""
    _run_batch("animate", inputs, out, engine, ray_address, workers, retry_errors, quiet,
               {"image": image, "orientation": orientation, "prompt": prompt, "size": size, "max_seconds": max_seconds,
                "background": background, "sound": not no_sound, "static_background": static_background})


@app.command()
@_edge
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo outputs.")] = Path("demo_output"),
) -> None:
    """Run the main job end to end on built-in sample inputs and say where the results are.

    The character is a full-body figure the package draws itself; the motion is a jumping-jacks
    motion capture (BVH) from Meta's AnimatedDrawings (MIT). Writes the capture, its skeleton
    exports (motion .npz, OpenPose JSON, pose video), the animated video, a contact sheet of it
    and its drift report.
    """
    import shutil

    from steadymotion.io.image import write_image
    from steadymotion.pipelines import make_video
    from steadymotion.samples import contact_sheet, sample_character, sample_motion
    from steadymotion.types import PoseSequence

    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK):
        raise OutputError(f"cannot write into {str(out)!r}; choose another --out folder")
    character = write_image(out / "character.png", sample_character())
    capture = Path(shutil.copyfile(sample_motion(), out / "motion.bvh"))
    console.print(f"[bold]1/3[/] built-in character {character} and motion capture {capture} (jumping jacks)")
    console.print("[bold]2/3[/] reading the motion capture")
    pose(capture, output=out / "motion.npz", bvh_out=None, openpose_json=out / "openpose", render=out / "pose.mp4",
         smooth=True, fill=True, hand_repair=True, workers=None, fps=None, skeleton_map=None, quiet=False)
    console.print("[bold]3/3[/] animating the character and measuring the result's drift")
    started = time.perf_counter()
    with StagedProgress() as stage:
        made = make_video(capture, out / "animated.mp4", image=character, preflight=True,
                          motion_pose=PoseSequence.load(out / "motion.npz"), report=out / "drift.html", progress=stage)
    for f in made.check.findings:
        console.print(f"preflight {f.severity.value}: {f.code} {f.message}", highlight=False)
    _print_animation(made.animation, "video", False, time.perf_counter() - started)
    _print_drift(made.drift, made.output.name)
    sheet = contact_sheet(made.output, out / "animated_sheet.png")
    console.print(f"[green]demo finished:[/] open {made.output} (made from {capture}), {sheet} and {out / 'drift.html'}")


if __name__ == "__main__":  # pragma: no cover
    app()
