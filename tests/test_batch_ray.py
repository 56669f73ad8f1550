"""`steadymotion batch --engine ray` on a real one-machine Ray cluster (started once for this file):
it listens on 127.0.0.1 only, and a batch run through it gives the local engine's results."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from steadymotion.batch import run_batch
from steadymotion.samples import make_sample_clip
from tests.conftest import MEDIA

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'steadymotion[ray]')")
psutil = pytest.importorskip("psutil")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    """One local cluster for the module, as `batch --engine ray` starts it (2 CPUs, 200 MB store)."""
    from steadymotion.batch import RayEngine

    engine = RayEngine(workers=2)
    yield engine
    engine.close()


def _cut(src: Path, dst: Path, start_s: float, end_s: float, side: int = 360) -> Path:
    from steadymotion.io.video import VideoReader, VideoWriter

    with VideoReader(src, start_s=start_s, end_s=end_s, max_side=side) as r, VideoWriter(dst, r.fps) as w:
        for f in r:
            w.write(f.image)
    return dst


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[Path]:
    """A built-in clip, a broken file, and when ../shared is here 2 s of a generated clip that drifts
    (LongLive without KV cache at its prompt change, 4.5-6.5 s, 360 px: a major cut)."""
    folder = tmp_path_factory.mktemp("ray-inputs")
    made = [make_sample_clip(folder / "sway.mp4", seconds=1.2, size=256)]
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    made.append(folder / "broken.mp4")
    generated = MEDIA / "longlive__no-cache-man_web.mp4"
    if generated.is_file():
        made.append(_cut(generated, folder / "no-cache-man.mp4", 4.5, 6.5))
    return made


def _ray_processes(engine) -> list:
    """This process (the driver), its descendants (GCS, raylet, agents, workers) and any process
    that runs out of the cluster's own temporary folder."""
    me = psutil.Process()
    procs = {p.pid: p for p in [me, *me.children(recursive=True)]}
    for p in psutil.process_iter(["cmdline"]):
        if any(engine._temp_dir in part for part in (p.info["cmdline"] or [])):
            procs.setdefault(p.pid, p)
    return list(procs.values())


def _listening(procs) -> list[tuple[str, str, int]]:
    out = []
    for p in procs:
        try:
            out += [(p.name(), c.laddr.ip, c.laddr.port) for c in p.net_connections(kind="inet")
                    if c.status == psutil.CONN_LISTEN]
        except psutil.NoSuchProcess:
            continue
    return out


def _loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(addr, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return (mapped or addr).is_loopback


def test_ray_batch_gives_the_local_results_and_listens_on_loopback_only(tmp_path, cluster, inputs):
    # when: the same inputs through a CLI process on the running cluster (--ray-address), and locally
    address = ray.get_runtime_context().gcs_address
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    cli = subprocess.run([sys.executable, "-m", "steadymotion.cli", "batch", "analyze", *map(str, inputs),
                          "--out", str(tmp_path / "ray"), "--engine", "ray", "--ray-address", address, "-q"],
                         env=env, capture_output=True, text=True, timeout=300)
    listening = _listening(_ray_processes(cluster))  # the cluster now runs the workers it started for it
    local = run_batch("analyze", inputs, tmp_path / "local", engine="local", workers=2)
    # then: the same rows, the same reports byte for byte
    assert cli.returncode == 2, cli.stderr[-2000:]  # the broken file
    on_ray = {r["key"]: r for r in map(json.loads, (tmp_path / "ray" / "results.jsonl").read_text().splitlines())}
    assert sorted(on_ray) == sorted(r["key"] for r in local.rows) and len(on_ray) == len(inputs)
    for row in local.rows:
        other = on_ray[row["key"]]
        assert (other["status"], other.get("error"), other.get("scores")) == (row["status"], row.get("error"), row.get("scores"))
        for name in ("json", "thumb"):
            if row["status"] == "ok":
                assert (tmp_path / "ray" / other["outputs"][name]).read_bytes() == \
                    (tmp_path / "local" / row["outputs"][name]).read_bytes()
    assert [r["status"] for r in local.rows] == ["ok", "error", "ok"][: len(inputs)]
    if len(inputs) == 3:  # the generated clip drifts: the comparison is not of two perfect scores
        assert local.rows[2]["scores"]["overall"] < 100
    # and: every socket of the cluster listens on 127.0.0.1
    names = {name for name, _, _ in listening}
    assert {"gcs_server", "raylet"} <= names, listening
    assert listening and all(_loopback(ip) for _, ip, _ in listening), listening


def test_bad_ray_options_are_one_line_errors(tmp_path, inputs):
    from steadymotion.batch import make_engine
    from steadymotion.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError, match="--ray-address needs --engine ray"):
        make_engine("local", ray_address="127.0.0.1:1")
    with pytest.raises(InvalidOptionError, match="--engine 'spark'"):
        run_batch("analyze", inputs[:1], tmp_path / "out", engine="spark")
    with pytest.raises(InvalidOptionError, match="write it as HOST:PORT"):
        make_engine("ray", ray_address="head-node")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InvalidOptionError, match=f"cannot reach the Ray cluster at '127.0.0.1:{port}'"):
        run_batch("analyze", inputs[:1], tmp_path / "out", engine="ray", ray_address=f"127.0.0.1:{port}")
    assert not (tmp_path / "out").exists()  # refused before any work
