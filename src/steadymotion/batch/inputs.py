"""What a batch is made of: the inputs on the command line (files, folders, CSV manifests) expanded
into :class:`BatchItem` s, each with its options validated and its resume key.

The resume key is the SHA-256 of the job's kind, the SHA-256 of every input file's *contents* and the
normalised options (defaults filled in), so a renamed or copied clip is still done, and an edited
clip, another image or another option is new work.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from steadymotion.errors import InvalidOptionError, SteadyMotionError, error_message
from steadymotion.io.video import VIDEO_INPUT_EXTENSIONS
from steadymotion.vocab import Orientation

KINDS = ("analyze", "check", "animate")
#: The file each kind is about: a row's ``input``.
MAIN_ROLE = {"analyze": "video", "check": "motion", "animate": "motion"}
#: Manifest columns that name files, per kind (relative paths are read from the manifest's folder).
FILE_COLUMNS = {
    "analyze": ("video", "reference", "motion"),
    "check": ("image", "motion"),
    "animate": ("image", "motion", "end_image", "background"),
}
#: Manifest columns that hold options, per kind.
OPTION_COLUMNS = {
    "analyze": (),
    "check": ("orientation", "prompt"),
    "animate": ("orientation", "prompt", "size", "max_seconds", "sound", "static_background"),
}
#: A folder holding this file is a batch's results folder (see :mod:`.ledger`), never searched for inputs.
RESULTS_FILE = "results.jsonl"
REQUIRED = {"analyze": ("video",), "check": ("image", "motion"), "animate": ("image", "motion")}
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}


@dataclass(frozen=True)
class BatchItem:
    """One unit of work of a batch.

    Attributes
    ----------
    kind : {"analyze", "check", "animate"}
    files : dict role -> absolute path (``video``; ``image`` and ``motion``; optional ``reference``,
        ``end_image``, ``background``)
    options : dict
        Normalised options, JSON-serialisable, every default filled in.
    source : str
        Where it came from: the video's path, or ``"jobs.csv:4"`` (manifest and line).
    key : str
        The resume key (hex SHA-256).
    problem : str, optional
        Why it cannot run (a missing file, a bad option in its manifest row): it becomes an error row.
    """

    kind: str
    files: dict
    options: dict
    source: str
    key: str
    problem: str | None = None

    @property
    def input(self) -> str:
        return self.files.get(MAIN_ROLE[self.kind], self.source)

    @property
    def folder_name(self) -> str:
        """The item's own folder under the results folder: the input's name and the key's start."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(self.input).stem)[:60].strip("._") or "input"
        return f"{stem}-{self.key[:12]}"


def _flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidOptionError(f"{name} {value!r}: write yes or no")


def normalise_options(kind: str, options: dict) -> dict:
    """``options`` checked and completed with the defaults: the form the resume key hashes.

    Raises :class:`~steadymotion.errors.InvalidOptionError` quoting a bad value.
    """
    from steadymotion.pipelines.animate import check_max_seconds, check_prompt, parse_background, parse_size

    unknown = set(options) - set(OPTION_COLUMNS[kind]) - ({"background"} if kind == "animate" else set())
    if unknown:
        raise InvalidOptionError(f"batch {kind} takes no option {min(unknown)!r}")
    given = {k: v.strip() if isinstance(v, str) else v for k, v in options.items()}
    given = {k: v for k, v in given.items() if v not in (None, "")}
    out: dict = {}
    if kind in ("check", "animate"):
        out["orientation"] = Orientation.parse(given.get("orientation", "video")).value
        out["prompt"] = check_prompt(given.get("prompt"))
    if kind == "animate":
        size = parse_size(given.get("size"))
        out["size"] = f"{size[0]}x{size[1]}" if size else None
        seconds = given.get("max_seconds")
        if isinstance(seconds, str):
            try:
                seconds = float(seconds)
            except ValueError:
                raise InvalidOptionError(f"max_seconds {seconds!r} is not a number of seconds") from None
        out["max_seconds"] = check_max_seconds(seconds)
        out["sound"] = _flag(given.get("sound", True), "sound")
        out["static_background"] = _flag(given.get("static_background", False), "static_background")
        colour = given.get("background")
        if colour is not None:
            parse_background(colour)  # a colour here: a background image is one of the item's files
            colour = colour.lower()
        out["background"] = colour
    return out


_SHA256: dict = {}  # (path, size, mtime) -> digest: a folder given twice is read once


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's contents (remembered per path, size and modification time)."""
    st = os.stat(path)
    memo = (str(path), st.st_size, st.st_mtime_ns)
    if memo not in _SHA256:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _SHA256[memo] = h.hexdigest()
    return _SHA256[memo]


def _key(kind: str, hashes: dict, options: dict) -> str:
    text = json.dumps({"kind": kind, "files": hashes, "options": options}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def make_item(kind: str, fields: dict, source: str, base: Path | None = None) -> BatchItem:
    """A :class:`BatchItem` from a manifest row's (or the command line's) ``fields``: file columns
    (relative paths read from ``base``; ``None`` or empty left out) and options.

    What would stop it (a missing or unreadable file, a bad option) is kept as its ``problem``: one
    broken input is one error row, never the end of the batch.
    """
    files, options = {}, {}
    for name, value in fields.items():
        if value in (None, ""):
            continue
        if name in FILE_COLUMNS[kind] and not (name == "background" and not _looks_like_file(str(value))):
            files[name] = str(((base or Path()) / Path(value).expanduser()).absolute())
        else:
            options[name] = value
    problem = None
    try:
        options = normalise_options(kind, options)
    except SteadyMotionError as exc:
        problem = error_message(exc)
    missing = [role for role in REQUIRED[kind] if role not in files]
    if missing and problem is None:
        problem = f"no {missing[0]} given for this input"
    hashes = {}
    for role, path in files.items():
        try:
            hashes[role] = file_sha256(path)
        except FileNotFoundError:
            hashes[role] = "missing:" + path
            problem = problem or f"input not found: {path}"
        except OSError as exc:
            hashes[role] = "unreadable:" + path
            problem = problem or f"cannot read {path}: {exc.strerror or exc}"
    if problem is not None:  # a broken row is keyed by what is wrong with it too
        hashes["problem"] = problem
    return BatchItem(kind=kind, files=files, options=options, source=source, key=_key(kind, hashes, options),
                     problem=problem)


def _looks_like_file(value: str) -> bool:
    """A background given as a path (it has an extension or a folder) rather than a colour."""
    return bool(Path(value).suffix) or "/" in value or os.sep in value


def _videos_in(folder: Path) -> list[Path]:
    """The videos under ``folder`` by name, without hidden folders or a batch's results folder (whose
    animated clips would otherwise become inputs of the next run)."""
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (Path(here) / d / RESULTS_FILE).exists())
        found += [Path(here) / f for f in files if not f.startswith(".") and Path(f).suffix.lower() in VIDEO_INPUT_EXTENSIONS]
    return sorted(found)


def read_manifest(kind: str, path: Path, defaults: dict) -> list[BatchItem]:
    """The items of a CSV manifest: a header row naming columns of :data:`FILE_COLUMNS` and
    :data:`OPTION_COLUMNS` for ``kind``, then one input per row; an empty cell takes the default.
    Columns another kind of batch reads are ignored (an animate manifest can be checked first)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError:
        raise InvalidOptionError(f"{path}: the manifest is not UTF-8 text; save it as CSV (UTF-8)") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InvalidOptionError(f"{path}: the manifest is empty; the first row names the columns, e.g. "
                                 f"{','.join(REQUIRED[kind])}")
    header = [c.strip().lower().replace("-", "_").replace(" ", "_") for c in rows[0]]
    allowed = FILE_COLUMNS[kind] + OPTION_COLUMNS[kind]
    known = {c for k in KINDS for c in FILE_COLUMNS[k] + OPTION_COLUMNS[k]}
    unknown = [c for c in header if c not in known]
    if unknown:
        raise InvalidOptionError(f"{path}: unknown column {unknown[0]!r} for batch {kind}; the columns are "
                                 f"{', '.join(allowed)}")
    if len(set(header)) != len(header):
        raise InvalidOptionError(f"{path}: a column is named twice in the header")
    need = [c for c in REQUIRED[kind] if c not in header and c not in defaults]
    if need:
        raise InvalidOptionError(f"{path}: no {need[0]!r} column (and no --{need[0]} for all rows)")
    items = []
    for line, row in enumerate(rows[1:], start=2):
        fields = dict(defaults)
        # columns of another kind of batch are left alone: one manifest serves check, then animate
        fields.update((col, value.strip()) for col, value in zip(header, row) if value.strip() and col in allowed)
        items.append(make_item(kind, fields, f"{path.name}:{line}", base=path.parent))
    return items


def expand_inputs(kind: str, inputs: list, defaults: dict | None = None) -> list[BatchItem]:
    """The items of a batch, in the order given, each once (the same contents and options twice are one item).

    Parameters
    ----------
    kind : {"analyze", "check", "animate"}
    inputs : list of paths
        Video files (for ``check``/``animate`` the motion videos, with ``defaults["image"]``), folders
        (their videos, recursively, by name) or CSV manifests (``.csv``, see :func:`read_manifest`).
        A file that is not there or does not decode becomes an error row.
    defaults : dict, optional
        Files and options for every input (``image``, ``orientation``, ``prompt``, ...); a
        manifest's cells override them.

    Raises
    ------
    InvalidOptionError
        A bad default, an unreadable manifest, or nothing to do: before any work.
    """
    if kind not in KINDS:
        raise InvalidOptionError(f"unknown batch kind {kind!r}; one of {', '.join(KINDS)}")
    defaults = {k: v for k, v in (defaults or {}).items() if v is not None}
    for role in FILE_COLUMNS[kind]:  # files given on the command line are read from here, not a manifest's folder
        if role in defaults and (role != "background" or _looks_like_file(str(defaults[role]))):
            defaults[role] = str(Path(defaults[role]).expanduser().absolute())
    unknown = set(defaults) - set(FILE_COLUMNS[kind]) - set(OPTION_COLUMNS[kind])
    if unknown:
        raise InvalidOptionError(f"batch {kind} takes no option {min(unknown)!r}")
    options = {k: v for k, v in defaults.items() if k in OPTION_COLUMNS[kind]}
    if kind == "animate" and defaults.get("background") and not _looks_like_file(str(defaults["background"])):
        options["background"] = defaults["background"]
    normalise_options(kind, options)  # a bad default fails the whole command, now
    items: list[BatchItem] = []
    for given in inputs:
        p = Path(given).expanduser()
        if p.suffix.lower() == ".csv" and p.is_file():
            items += read_manifest(kind, p, defaults)
            continue
        videos = _videos_in(p) if p.is_dir() else [p]
        if p.is_dir() and not videos:
            raise InvalidOptionError(f"{str(p)!r} holds no videos ({', '.join(VIDEO_INPUT_EXTENSIONS)})")
        if kind != "analyze" and "image" not in defaults:
            raise InvalidOptionError(f"batch {kind} of videos needs --image IMAGE (or a CSV manifest with image and "
                                     "motion columns)")
        for video in videos:
            items.append(make_item(kind, {**defaults, MAIN_ROLE[kind]: str(video)}, str(video.absolute())))
    if not items:
        raise InvalidOptionError("nothing to do: give video files, folders of videos or a CSV manifest")
    seen: set = set()
    unique = []
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            unique.append(item)
    return unique
