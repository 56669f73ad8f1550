"""Shared plumbing of the hand-run benchmarks: where the media is, and one fresh process per clip."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def run_clips(script: str, clips: list[tuple[str, str]], measure: Callable[[str], dict]) -> Iterator[tuple[str, str, dict]]:
    """In a child process (``script --measure PATH``) print ``measure(PATH)`` as JSON; in the parent,
    run one fresh child per clip (so peak memory and start-up are per clip) and yield the results."""
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure(sys.argv[2])))
        raise SystemExit(0)
    for label, name in clips:
        path = MEDIA / name
        if not path.exists():
            print(f"{label}: {name} missing (needs ../shared/media)")
            continue
        out = subprocess.run([sys.executable, script, "--measure", str(path)], capture_output=True, text=True, check=True)
        yield label, name, json.loads(out.stdout.strip().splitlines()[-1])
