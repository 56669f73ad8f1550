"""The web UI: a Gradio Blocks app over the same library functions as the CLI.

Tabs (:mod:`.tabs`): Animate (image or stored character + motion video -> video, preflight findings,
drift of the result), Analyze (drift of any video: scores, plots with event spans, events with their
frames, JSON + HTML report), Repair (undo the drift found: scores before/after, before|after frames,
the repaired video and report), Check & prompt (preflight findings; prompt lint), Characters (the
character memory). The server's state and upload checks are :mod:`.state`; heavy work runs as
cancellable child processes (:mod:`.jobs`) behind one queue sized to the CPU, and every error
reaches the page as one readable line (``gr.Error``), never a stack trace.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from steadymotion.errors import InvalidOptionError
from steadymotion.web.state import Limits, WebApp, clean_share_dir
from steadymotion.web.tabs import analyze_tab, animate_tab, characters_tab, check_tab, repair_tab

log = logging.getLogger("steadymotion.web")


def build_app(app: WebApp):
    """The Gradio Blocks of the web UI (not launched)."""
    import gradio as gr

    slots = dict(concurrency_limit=app.limits.job_slots, concurrency_id="cpu")
    with gr.Blocks(title="steadymotion") as demo:
        gr.Markdown("# steadymotion\nDrift-free character animation on a CPU, and a drift meter for any video. "
                    "Files stay on this machine; one job runs at a time per CPU budget and others wait in line.")
        with gr.Tabs():
            a_character = animate_tab(app, slots)
            analyze_tab(app, slots)
            repair_tab(app, slots)
            check_tab(app, slots)
            characters_view, char_outputs = characters_tab(app, slots, a_character)
        demo.load(characters_view, None, char_outputs)
    return demo


def launch(host: str = "127.0.0.1", port: int = 7860, share_dir: str | Path | None = None, store: str | Path | None = None,
           limits: Limits = Limits(), block: bool = True):
    """Start the web UI; returns the launched Blocks (``block=False`` returns at once)."""
    if share_dir is None:
        share_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "steadymotion" / "web"
    share = Path(share_dir).expanduser().resolve()
    try:
        share.mkdir(parents=True, exist_ok=True)
        probe = share / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InvalidOptionError(f"cannot write to the share folder {str(share)!r} ({exc.strerror}); pass --share-dir DIR") from None
    # uploads and Gradio's cache live in the share folder too, so nothing leaves it
    os.environ["GRADIO_TEMP_DIR"] = str(share / "cache")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gradio as gr

    webapp = WebApp(share, store=store, limits=limits)
    gone = clean_share_dir(share)
    if gone:
        log.info("removed %d job folders older than a week from %s", gone, share)
    demo = build_app(webapp)
    demo.queue(max_size=32, default_concurrency_limit=limits.job_slots)
    demo.launch(server_name=host, server_port=port, allowed_paths=[str(webapp.jobs_dir), str(webapp.thumbs_dir), str(webapp.samples_dir)],
                max_file_size=f"{limits.max_upload_mb}mb", show_error=True, quiet=True, prevent_thread_lock=not block,
                theme=gr.themes.Soft(), footer_links=[], ssr_mode=False)
    demo.steadymotion_share = share
    return demo
