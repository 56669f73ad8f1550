"""The web UI in a real browser: Debian's Chromium driven by Playwright against `steadymotion web`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import media_path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`steadymotion web` on 127.0.0.1 with its own share folder and character store."""
    root = tmp_path_factory.mktemp("web")
    port = _free_port()
    log = open(root / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "steadymotion.cli", "web", "--port", str(port), "--share-dir", str(root / "share"),
                             "--store", str(root / "store"), "--max-video-seconds", "120"],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the web UI did not start: {(root / 'server.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield {"url": url, "root": root, "proc": proc}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Screenshots go here (STEADYMOTION_SHOTS=DIR keeps them somewhere to look at)."""
    d = Path(os.environ.get("STEADYMOTION_SHOTS") or tmp_path_factory.mktemp("shots"))
    d.mkdir(parents=True, exist_ok=True)
    return d



def _max_seconds(page, value: str) -> None:
    """Open "More options" and set the max-seconds field to ``value``.

    A number field commits its value on blur; under load the opening accordion's first render can
    also reset a value typed into it at once, so it is typed until the committed value reads back.
    """
    page.get_by_text("More options").click()
    page.locator("#a_max input").wait_for(state="visible")
    for _ in range(5):
        page.locator("#a_max input").fill(value)
        page.locator("#a_max input").press("Tab")
        page.wait_for_timeout(400)
        if page.locator("#a_max input").input_value() == value:
            break

def _page(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    page.wait_for_selector("#a_run", timeout=60_000)
    return page


TABS = ("Animate", "Analyze", "Repair", "Check & prompt", "Characters")


def _open_tab(page, name: str) -> None:
    """Click a tab by its label; every tab keeps its own label afterwards (a gr.State placed directly
    under gr.Tabs once counted as a tab and shifted the labels, hiding the Check & prompt tab)."""
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(300)
    assert tuple(page.get_by_role("tab").all_inner_texts()) == TABS, page.get_by_role("tab").all_inner_texts()


def _upload(page, elem_id: str, path: Path, preview: str) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))
    page.wait_for_selector(f"#{elem_id} {preview}", timeout=60_000)


def _table(page, elem_id: str) -> list[list[str]]:
    """The rows of a Gradio Dataframe (a virtualised grid: rows are role=row with a data-index)."""
    rows = page.locator(f"#{elem_id} [role=row][data-index]")
    return [[c.strip() for c in rows.nth(i).locator("[role=gridcell]").all_inner_texts()] for i in range(rows.count())]


def _video_file(page, server, elem_id: str, dest: Path) -> Path:
    """Download what the page's <video> plays, the way the browser fetches it."""
    src = page.locator(f"#{elem_id} video").get_attribute("src")
    assert src, "the result video has no source"
    body = page.request.get(src if src.startswith("http") else server["url"] + src).body()
    dest.write_bytes(body)
    return dest


def test_animate_tab_runs_end_to_end(browser, server, shots, tmp_path):
    from steadymotion.io.video import VideoReader, probe_video

    page = _page(browser, server)
    page.screenshot(path=str(shots / "animate_empty.png"), full_page=True)
    # given a real character image and a real dance clip (its first 2 s)
    _upload(page, "a_image", media_path("mooreanimateanyone__anyone-11.png"), "img")
    _upload(page, "a_motion", media_path("mimicmotion__raw_0.mp4"), "video")
    # (typed until it reads back: a number field commits on blur, and under load the opening
    # accordion's first render reset a value typed into it at once, and the whole 10-s clip ran)
    _max_seconds(page, "2")
    # a background colour typed by hand (this once crashed the job with an internal error)
    page.locator("#a_bg_color textarea, #a_bg_color input").first.fill("#00ff00")
    page.locator("#a_prompt textarea").fill("a man dances, static camera, zoom in on his face")
    # when
    page.locator("#a_run").click()
    page.wait_for_selector("#a_video video[src]", timeout=300_000)
    page.wait_for_function("document.querySelector('#a_video video').readyState >= 1", timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "animate_result.png"), full_page=True)
    # then: a playable H.264 video of the reference's first 2 s
    duration = page.evaluate("document.querySelector('#a_video video').duration")
    assert 1.5 < duration < 2.5, duration
    video = _video_file(page, server, "a_video", tmp_path / "result.mp4")
    info = probe_video(video)
    assert info.codec == "h264" and info.frame_count == 30 and float(info.fps) == 15.0
    with VideoReader(video) as r:
        frame = next(iter(r)).image
    assert frame.std() > 10  # a picture, not a blank frame
    corner = frame[:24, :24].reshape(-1, 3).mean(axis=0)
    assert corner[1] > 200 and corner[0] < 60 and corner[2] < 60, f"the typed background colour is not there: {corner}"
    # the preflight findings, the drift scores and the status are on the page
    assert _table(page, "a_findings"), "no preflight findings row"
    scores = {row[0]: row[1] for row in _table(page, "a_scores")}
    assert "overall" in scores and 0 <= float(scores["overall"]) <= 100
    status = page.locator("#a_status").inner_text()
    assert "Done" in status and "30 frames" in status and "zoom" in status.lower()
    assert "Traceback" not in page.content()


def test_replace_mode_from_the_page(browser, server, shots, tmp_path):
    """Replace mode chosen in the Animate tab: the output has the reference video's own size."""
    from steadymotion.io.video import probe_video

    page = _page(browser, server)
    _upload(page, "a_image", media_path("mooreanimateanyone__anyone-11.png"), "img")
    _upload(page, "a_motion", media_path("unianimate__source_video.mp4"), "video")
    page.locator("#a_mode").get_by_text("replace:").click()
    _max_seconds(page, "1")
    page.get_by_label("Measure the result's drift").uncheck()
    page.locator("#a_run").click()
    page.wait_for_selector("#a_video video[src]", timeout=300_000)
    page.screenshot(path=str(shots / "animate_replace.png"), full_page=True)
    ref = probe_video(media_path("unianimate__source_video.mp4"))
    status = page.locator("#a_status").inner_text()
    assert f"{ref.size[0]}x{ref.size[1]}" in status, status
    video = _video_file(page, server, "a_video", tmp_path / "replaced.mp4")
    assert probe_video(video).size == ref.size


def test_analyze_tab_shows_scores_events_and_report(browser, server, shots):
    page = _page(browser, server)
    _open_tab(page, "Analyze")
    page.screenshot(path=str(shots / "analyze_empty.png"), full_page=True)
    # a real AI-generated clip that jumps to a new scene at its prompt switch (LongLive without KV cache)
    _upload(page, "z_video", media_path("longlive__no-cache-man_web.mp4"), "video")
    page.locator("#z_run").click()
    page.wait_for_selector("#z_scores [role=row][data-index]", timeout=300_000)
    page.wait_for_selector("#z_plots img", timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "analyze_result.png"), full_page=True)
    scores = {row[0]: row[1] for row in _table(page, "z_scores")}
    assert "overall" in scores and "identity" in scores
    events = _table(page, "z_events")
    status = page.locator("#z_status").inner_text()
    n = int(status.split("Measured")[1].split("event")[0])
    # (the grid is virtualised: only the rows in view are in the page)
    assert n >= 1 and 1 <= len(events) <= n, (n, events)
    assert all(e[1] in ("minor", "major", "severe") and 0 <= float(e[2]) <= float(e[3]) for e in events)
    assert page.locator("#z_thumbs img").count() >= 1
    assert page.locator("#z_plots img").count() == 1
    # events were found, so the verdict gives the overall score and names them (not "No drift")
    verdict = page.locator("#z_verdict").inner_text()
    assert "Overall" in verdict and "No drift" not in verdict, verdict
    # the JSON and HTML report are offered for download
    names = page.locator("#z_files").inner_text().replace("\n", "")
    assert "drift.html" in names and "drift.json" in names


def test_repair_tab_repairs_flicker(browser, server, shots, tmp_path):
    from steadymotion.drift.inject import inject
    from steadymotion.io.video import probe_video

    # given: 3 s of a real selfie clip with ±10 % brightness flicker from 1 s on, flicker repair only
    clip = inject(media_path("liveportrait__d13.mp4"), tmp_path / "flickering.mp4", "flicker", 10.0, 1.0, seed=2,
                  end_s=3.0, max_side=320).path
    page = _page(browser, server)
    _open_tab(page, "Repair")
    _upload(page, "r_video", clip, "video")
    for label in ("colour (re-anchor to the reference)", "jitter (stabilise)", "segment joins"):
        page.locator("#r_kinds").get_by_label(label).uncheck()
    # when
    page.locator("#r_run").click()
    page.wait_for_selector("#r_out video[src]", timeout=300_000)
    page.wait_for_selector("#r_pairs img", timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "repair_result.png"), full_page=True)
    # then: flicker scored lower before than after, a before|after frame, the repaired video and the report
    scores = {row[0]: row[1:] for row in _table(page, "r_scores")}
    before, after = (float(x) for x in scores["flicker"])
    assert before < 100 and after > before, scores
    assert "Repaired" in page.locator("#r_status").inner_text()
    assert "deflicker" in page.locator("#r_done").inner_text()
    names = page.locator("#r_files").inner_text().replace("\n", "")
    assert "repair.html" in names and "repair.json" in names
    video = _video_file(page, server, "r_out", tmp_path / "repaired.mp4")
    info = probe_video(video)
    assert info.frame_count == probe_video(clip).frame_count and info.size == probe_video(clip).size


def test_invalid_upload_shows_a_readable_error(browser, server, shots, tmp_path):
    page = _page(browser, server)
    _open_tab(page, "Analyze")
    junk = tmp_path / "holiday.mp4"
    junk.write_text("this is not a video")
    page.locator("#z_video input[type=file]").set_input_files(str(junk))
    page.wait_for_timeout(1500)
    page.locator("#z_run").click()
    # (the browser adds its own "Video not playable" notice; ours names the input and the fix)
    toast = page.locator(".toast-body", has_text="video:").first
    toast.wait_for(timeout=60_000)
    text = toast.inner_text()
    page.screenshot(path=str(shots / "analyze_error.png"), full_page=True)
    assert "re-export it as MP4" in text and "Traceback" not in text and str(tmp_path) not in text, text
    # only the status line reports it; the result panels stay clean
    assert page.locator("#z_scores .error").count() == 0
    # the prompt lint runs in the page too
    _open_tab(page, "Check & prompt")
    page.locator("#p_text textarea").fill("she dances, negative prompt: blurry")
    page.locator("#p_run").click()
    page.wait_for_function("document.querySelector('#p_suggested textarea').value.length > 0", timeout=30_000)
    codes = [row[1] for row in _table(page, "p_findings")]
    assert "NO_CAMERA_RIG" in codes and "NEGATIVE_PROMPT" in codes, codes
    assert page.locator("#p_negative textarea").input_value()
    # and the preflight of a real pair: a full-body image with a half-body dance
    _upload(page, "c_image", media_path("mooreanimateanyone__anyone-11.png"), "img")
    _upload(page, "c_motion", media_path("mimicmotion__raw_0.mp4"), "video")
    page.locator("#c_run").click()
    page.wait_for_function("document.querySelector('#c_status').innerText.includes('Ready') || "
                           "document.querySelector('#c_status').innerText.includes('Fix')", timeout=180_000)
    codes = [row[1] for row in _table(page, "c_findings")]
    assert "FRAMING_MISMATCH" in codes, codes
    page.screenshot(path=str(shots / "check_prompt.png"), full_page=True)


def test_characters_tab_adds_lists_and_removes(browser, server, shots):
    page = _page(browser, server)
    _open_tab(page, "Characters")
    page.locator("#k_name").get_by_role("textbox").fill("demo-girl")
    _upload(page, "k_image", media_path("mimicmotion__demo1.jpg"), "img")
    page.locator("#k_notes").get_by_role("textbox").fill("blue sweatshirt")
    page.locator("#k_add").click()
    page.wait_for_function("document.querySelector('#k_status').innerText.includes('Added')", timeout=120_000)
    page.wait_for_selector("#k_gallery img", timeout=30_000)
    page.wait_for_function("document.querySelector('#k_gallery img').naturalWidth > 0", timeout=30_000)  # it loaded
    # the new character is picked and its rig preview shows: two panels side by side, each the image's width
    page.wait_for_function("(() => { const i = document.querySelector('#k_preview img'); return i && i.naturalWidth > 0; })()",
                           timeout=60_000)
    from steadymotion.io.image import read_image

    width = read_image(media_path("mimicmotion__demo1.jpg")).size[0]
    assert page.locator("#k_preview img").evaluate("i => i.naturalWidth") > 2 * width
    assert page.locator("#k_pick input").input_value() == "demo-girl"
    page.screenshot(path=str(shots / "characters.png"), full_page=True)
    rows = _table(page, "k_table")
    assert rows and rows[0][0] == "demo-girl" and rows[0][3] == "blue sweatshirt" and rows[0][4] == "yes"
    # the stored character is offered in the Animate tab
    from steadymotion.characters import CharacterStore

    assert [c.name for c in CharacterStore(server["root"] / "store").list()] == ["demo-girl"]
    # a bad name is refused with a message
    page.locator("#k_name").get_by_role("textbox").fill("no/slashes")
    page.locator("#k_add").click()
    page.locator(".toast-body").first.wait_for(timeout=30_000)
    assert "name" in page.locator(".toast-body").first.inner_text().lower()
    # remove it
    page.locator("#k_pick input").click()
    page.get_by_role("option", name="demo-girl").click()
    page.locator("#k_remove").click()
    page.wait_for_function("document.querySelector('#k_status').innerText.includes('Removed')", timeout=30_000)
    assert CharacterStore(server["root"] / "store").list() == []
    page.wait_for_function("!document.querySelector('#k_preview img')", timeout=30_000)  # its preview went with it


def test_only_files_the_app_made_are_served(server):
    """A request for a file outside the app's folders is refused."""
    import urllib.error

    secret = Path(server["root"]) / "secret.txt"
    secret.write_text("private")
    for path in (str(secret), "/etc/passwd", str(Path(__file__).resolve())):
        try:
            with urllib.request.urlopen(f"{server['url']}/gradio_api/file={path}", timeout=10) as r:
                body = r.read()
            assert b"private" not in body and b"root:" not in body and b"def test_" not in body, path
        except urllib.error.HTTPError as exc:
            assert exc.code in (403, 404), (path, exc.code)


def test_web_refuses_an_unwritable_share_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = subprocess.run([sys.executable, "-m", "steadymotion.cli", "web", "--share-dir", str(blocker / "share"),
                        "--port", str(_free_port())], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "share folder" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (blocker / "share").exists()


def _job_processes(root: int) -> list[str]:
    """Command lines of the running job children of process ``root`` (the spawned job and its pose
    workers), and of no other process: other tests may be running jobs beside this one."""
    import psutil

    out = []
    try:
        procs = psutil.Process(root).children(recursive=True)
    except psutil.NoSuchProcess:
        return out
    for p in procs:
        try:
            cmd = " ".join(p.cmdline())
        except psutil.Error:
            continue
        if "steadymotion.pose._chunk" in cmd or "multiprocessing.spawn" in cmd:
            out.append(cmd)
    return out


def _wait_for(cond, seconds: float) -> bool:
    """Poll ``cond`` every half second for up to ``seconds``; its last value."""
    deadline = time.time() + seconds
    while not cond() and time.time() < deadline:
        time.sleep(0.5)
    return bool(cond())


def test_second_user_waits_in_line_and_jobs_cancel(browser, server, shots):
    a, b = _page(browser, server), _page(browser, server)
    long_clip = media_path("longlive__longlive-balllet_web.mp4")  # 60 s: minutes of work

    def jobs():
        return _job_processes(server["proc"].pid)

    for page in (a, b):
        _open_tab(page, "Analyze")
        _upload(page, "z_video", long_clip, "video")
    try:
        a.locator("#z_run").click()
        # the first job holds the CPU slot once its process runs: the "Queued" status comes earlier,
        # from the step that checks the inputs, and on a loaded machine the second user's click could
        # then still reach the slot first
        assert _wait_for(jobs, 120), "the first job should be running"
        b.locator("#z_run").click()
        # the second user is told their place in the queue while the first job holds the CPU slot
        b.wait_for_function("/queue[:\\s]*1\\s*\\/\\s*[12]/i.test(document.body.innerText)", timeout=60_000)
        b.screenshot(path=str(shots / "analyze_queued.png"), full_page=False)
        # cancelling the running job stops it (and its pose workers) and frees the slot for the second
        a.wait_for_timeout(3000)
        assert jobs(), "the first job should be running"
        a.locator("#z_cancel").click()
        a.wait_for_function("document.querySelector('#z_status').innerText.includes('Cancelled')", timeout=30_000)
        b.wait_for_function("!/queue[:\\s]*1\\s*\\/\\s*[12]/i.test(document.body.innerText)", timeout=60_000)
        # the second user's job runs: the first user's Cancel was theirs alone (each page is its own session)
        assert _wait_for(jobs, 60), "the second user's job should be running"
        assert "Cancelled" not in b.locator("#z_status").inner_text()
        b.locator("#z_cancel").click()
        b.wait_for_function("document.querySelector('#z_status').innerText.includes('Cancelled')", timeout=30_000)
        assert _wait_for(lambda: not jobs(), 20), jobs()
        assert a.locator("#z_scores [role=row][data-index]").count() == 0  # no result from a cancelled job
    finally:
        # a failure above must not leave two minutes-long jobs holding the server the next tests share
        for page in (a, b):
            try:
                page.locator("#z_cancel").click(timeout=10_000)
            except Exception:  # best effort: the page may be gone
                pass
        _wait_for(lambda: not jobs(), 30)


def test_animate_job_with_a_stored_character_runs_in_a_child_process(tmp_path):
    """The job runner end to end without a browser: progress stages arrive, then a result of plain data."""
    from steadymotion.characters import CharacterStore
    from steadymotion.io.video import probe_video
    from steadymotion.web.jobs import JobError, run_job

    store = tmp_path / "store"
    CharacterStore(store).add("jacket", media_path("mooreanimateanyone__anyone-11.png"))
    spec = dict(image=None, character="jacket", store=str(store), motion=str(media_path("mimicmotion__raw_0.mp4")),
                orientation="image", max_seconds=1.0, preflight=False, measure=True, out_dir=str(tmp_path / "job"))
    msgs = list(run_job("animate", spec))
    stages = {m[1] for m in msgs if m[0] == "progress"}
    assert {"extracting motion", "rendering", "tracking and measuring"} <= stages, stages
    done = msgs[-1]
    assert done[0] == "done" and done[1]["frames"] == 15
    assert probe_video(done[1]["video"]).frame_count == 15
    assert done[1]["drift"]["overall"] is not None and Path(done[1]["drift"]["html"]).exists()
    # a job that fails says why, in one line
    with pytest.raises(JobError, match="no character named|not found|unknown"):
        list(run_job("animate", dict(spec, character="nobody")))


def test_sample_button_fills_the_animate_inputs(browser, server, shots):
    page = _page(browser, server)
    page.locator("#a_sample").click()
    page.wait_for_selector("#a_image img", timeout=180_000)
    page.wait_for_selector("#a_motion video", timeout=60_000)
    assert "Sample loaded" in page.locator("#a_status").inner_text()
    assert page.locator("#a_prompt textarea").input_value() == ""
    page.screenshot(path=str(shots / "animate_sample.png"), full_page=False)
    share = Path(server["root"]) / "share" / "samples"
    from steadymotion.io.video import probe_video

    assert probe_video(share / "jumping_jacks.mp4").frame_count == 125  # the capture: 125 frames of 1/30 s
    # and they animate (the first second, without the preflight and the drift pass, to keep it
    # quick: the end-to-end test runs both from the page)
    _max_seconds(page, "1")
    page.get_by_label("Check the inputs first (preflight)").uncheck()
    page.get_by_label("Measure the result's drift").uncheck()
    page.wait_for_timeout(300)
    assert page.locator("#a_max input").input_value() == "1"
    page.locator("#a_run").click()
    page.wait_for_selector("#a_video video[src]", timeout=300_000)
    assert "30 frames" in page.locator("#a_status").inner_text()


def test_a_motion_capture_animates_from_the_page(browser, server, shots, tmp_path):
    from steadymotion.io.image import write_image
    from steadymotion.samples import sample_character

    page = _page(browser, server)
    _upload(page, "a_image", write_image(tmp_path / "figure.png", sample_character()), "img")
    page.locator("#a_capture input[type=file]").set_input_files(str(media_path("animateddrawings__wave_hello.bvh")))
    page.wait_for_timeout(1500)
    _max_seconds(page, "1")
    page.get_by_label("Measure the result's drift").uncheck()
    page.locator("#a_run").click()
    page.wait_for_selector("#a_video video[src]", timeout=300_000)
    # the 120 fps capture resampled to 30 fps: one second is 30 frames
    assert "30 frames" in page.locator("#a_status").inner_text()
    # and preflight judges the capture's whole length (7 s), not the second used
    assert "DURATION" not in page.locator("#a_findings").inner_text()
    page.screenshot(path=str(shots / "animate_capture.png"), full_page=True)


_SERVER_STANDIN = """
import sys, time
from steadymotion.web.jobs import run_job
jobs = run_job("analyze", {"video": sys.argv[1], "out_dir": sys.argv[2]}, on_start=lambda p: print(p.pid, flush=True))
next(jobs)  # the job is working
time.sleep(600)
"""


def _session_members(sid: int) -> list:
    """Processes of the session ``sid`` (a job calls setsid(): it and every worker it starts)."""
    import psutil

    out = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == sid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except (OSError, psutil.Error):
            continue
    return out


@pytest.mark.parametrize("started", [True, False], ids=["working", "still-starting"])
def test_a_job_dies_with_the_server_that_started_it(tmp_path, started):
    """No orphans: a job whose server is killed stops within seconds (its pose workers with it),
    also when the server dies while the job is still starting (importing, before its watch runs)."""
    server = subprocess.Popen([sys.executable, "-c", _SERVER_STANDIN, str(media_path("longlive__longlive-balllet_web.mp4")),
                               str(tmp_path / "job")], stdout=subprocess.PIPE, text=True)
    job_pid = int(server.stdout.readline())
    if started:
        # the job and its pose workers (importing them takes a while on a loaded machine)
        assert _wait_for(lambda: len(_session_members(job_pid)) >= 2, 120) and _job_processes(server.pid)
    server.kill()
    server.wait()
    deadline = time.time() + 30
    while (_session_members(job_pid) or Path(f"/proc/{job_pid}").exists()) and time.time() < deadline:
        time.sleep(0.5)
    left = [" ".join(p.cmdline()) for p in _session_members(job_pid)]
    assert not left and not Path(f"/proc/{job_pid}").exists(), left
