"""Character memory: master images, their rigs, rest poses and identity signatures, kept between runs.

An embedded SQLite database (one row per character) plus content-addressed files (SHA-256 of
the bytes) under one folder: ``--store DIR``, else ``$STEADYMOTION_HOME``, else
``$XDG_DATA_HOME/steadymotion`` (``~/.local/share/steadymotion``). Writers take SQLite's write
lock (``BEGIN IMMEDIATE``, WAL journal, 30 s busy timeout) and files are written to a temporary
name and renamed, so several processes can add and read characters at once without corrupting
the store.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from steadymotion.errors import InvalidOptionError, OutputError, SteadyMotionError
from steadymotion.io.image import Image, read_image, write_image
from steadymotion.perception.identity import identity_signature
from steadymotion.pose.extract import pose_from_image
from steadymotion.render.cache import prepare_cached
from steadymotion.render.puppet.backend import PuppetBackend
from steadymotion.render.puppet.rig import Rig
from steadymotion.types import PoseSequence

ENV = "STEADYMOTION_HOME"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
#: Unreferenced objects younger than this are kept (another process may be about to use them).
GC_GRACE_S = 600.0
#: Temporary files and folders of writers start with this; ones older than ``STALE_TEMP_S`` were
#: left by a killed process and are removed when a store is opened.
TEMP_PREFIX = ".tmp-"
STALE_TEMP_S = 600.0


class CharacterNotFoundError(SteadyMotionError, KeyError):
    """No character of that name in the store."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the sentence
        return str(self.args[0]) if self.args else ""


class CharacterExistsError(SteadyMotionError, ValueError):
    """A character of that name exists already."""


def default_root() -> Path:
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "steadymotion"


@dataclass
class Character:
    """One stored character (a row); the heavy parts load on demand from the store's objects."""

    name: str
    created: float
    notes: str
    image: str  # object hash of the master image (PNG)
    rig: str  # object hash of the rig (.npz)
    pose: str  # object hash of the rest pose (.npz)
    identity: dict
    size: tuple[int, int]
    store: CharacterStore

    def load_image(self) -> np.ndarray:
        return read_image(self.store.object_path(self.image)).rgb

    def load_rig(self) -> Rig:
        return Rig.load(self.store.object_path(self.rig))

    def load_pose(self) -> PoseSequence:
        return PoseSequence.load(self.store.object_path(self.pose))

    def to_dict(self) -> dict:
        return {"name": self.name, "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created)),
                "notes": self.notes, "size": list(self.size), "image": self.image, "rig": self.rig, "pose": self.pose,
                "identity": self.identity}


class CharacterStore:
    """See the module docstring. ``CharacterStore(root)``; ``add``, ``get``, ``list``, ``remove``."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root).expanduser() if root else default_root()
        self.objects = self.root / "objects"
        try:
            self.objects.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the character store at {str(self.root)!r} ({exc.strerror}); "
                              f"pass --store DIR or set {ENV}") from None
        self.db_path = self.root / "characters.sqlite"
        self._clean_stale_temps()
        with self._connect() as db:
            db.execute("""CREATE TABLE IF NOT EXISTS characters (
                name TEXT PRIMARY KEY, created REAL NOT NULL, notes TEXT NOT NULL, image TEXT NOT NULL,
                rig TEXT NOT NULL, pose TEXT NOT NULL, identity TEXT NOT NULL, width INTEGER, height INTEGER)""")

    def _connect(self) -> sqlite3.Connection:
        # Switching a new database to WAL takes an exclusive lock that SQLite does not wait for
        # (its busy handler is skipped there to avoid deadlocks): two processes opening a fresh
        # store at once can get "database is locked" at once, so that step is retried.
        deadline = time.monotonic() + 30.0
        while True:
            db = None
            try:
                db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
                db.execute("PRAGMA busy_timeout=30000")
                db.execute("PRAGMA journal_mode=WAL")
                return _Closing(db)
            except sqlite3.OperationalError as exc:
                if db is not None:
                    db.close()
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise OutputError(f"cannot open the character store {str(self.db_path)!r}: {exc}") from None
                time.sleep(0.05)
            except sqlite3.Error as exc:
                if db is not None:
                    db.close()
                raise OutputError(f"cannot open the character store {str(self.db_path)!r}: {exc}") from None

    def _clean_stale_temps(self) -> None:
        """Remove what a killed writer left: its ``.tmp-*`` folders and files, once older than
        :data:`STALE_TEMP_S` (a live writer's are younger: it finishes in seconds)."""
        import shutil

        cutoff = time.time() - STALE_TEMP_S
        for p in [*self.root.glob(f"{TEMP_PREFIX}*"), *self.objects.glob(f"*/{TEMP_PREFIX}*")]:
            try:
                if p.lstat().st_mtime < cutoff:
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            except OSError:
                pass  # gone already (another process cleaned it), or not ours to remove

    def _temp_dir(self) -> tempfile.TemporaryDirectory:
        return tempfile.TemporaryDirectory(dir=self.root, prefix=TEMP_PREFIX)

    # -- objects ---------------------------------------------------------------------------------
    def object_path(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.object_path(digest)
        if path.exists():
            os.utime(path)  # fresh again: the garbage collector's grace period starts over
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def put_file(self, writer) -> str:
        """Store what ``writer(path)`` writes (e.g. ``rig.save``)."""
        with self._temp_dir() as d:
            p = Path(d) / "obj"
            writer(p)
            return self.put_bytes(p.read_bytes())

    # -- characters ------------------------------------------------------------------------------
    def add(self, name: str, image, *, notes: str = "", replace: bool = False, progress=None) -> Character:
        """Rig ``image`` (a path or :class:`~steadymotion.io.image.Image`) and store it as ``name``."""
        check_name(name)
        if not replace and self.exists(name):
            raise CharacterExistsError(f"a character named {name!r} exists already; pass --replace or choose another name")
        img = image if isinstance(image, Image) else read_image(image)
        source = str(img.path) if img.path else name
        pose = pose_from_image(img.rgb)
        # the rig is what animating this image would build (and may have built already): from the cache
        rig = prepare_cached(PuppetBackend(), img.rgb, img.alpha, source=source, note=False)
        identity = identity_signature(img.rgb, pose)
        with self._temp_dir() as d:
            png = Path(d) / "master.png"
            write_image(png, img.rgb)
            image_hash = self.put_bytes(png.read_bytes())
        rig_hash = self.put_file(rig.save)
        pose_hash = self.put_file(pose.save)
        h, w = img.rgb.shape[:2]
        now = time.time()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if not replace and db.execute("SELECT 1 FROM characters WHERE name=?", (name,)).fetchone():
                    raise CharacterExistsError(f"a character named {name!r} was just added by another process")
                db.execute("INSERT OR REPLACE INTO characters VALUES (?,?,?,?,?,?,?,?,?)",
                           (name, now, notes, image_hash, rig_hash, pose_hash, json.dumps(identity), w, h))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.get(name)

    def update_rig(self, name: str, rig) -> None:
        digest = self.put_file(rig.save)
        with self._connect() as db:
            db.execute("UPDATE characters SET rig=? WHERE name=?", (digest, name))

    def exists(self, name: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM characters WHERE name=?", (name,)).fetchone() is not None

    def get(self, name: str) -> Character:
        with self._connect() as db:
            row = db.execute("SELECT * FROM characters WHERE name=?", (name,)).fetchone()
        if row is None:
            known = ", ".join(c.name for c in self.list()) or "none yet"
            raise CharacterNotFoundError(f"no character named {name!r} in {self.root} (stored: {known}); "
                                         "add one with: steadymotion character add NAME IMAGE")
        return self._row(row)

    def list(self) -> list[Character]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM characters ORDER BY name").fetchall()
        return [self._row(r) for r in rows]

    def remove(self, name: str) -> None:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute("DELETE FROM characters WHERE name=?", (name,))
            if cur.rowcount == 0:
                db.execute("ROLLBACK")
                self.get(name)  # raises with the list of names
            keep = set()
            for row in db.execute("SELECT image, rig, pose FROM characters"):
                keep.update(row)
            db.execute("COMMIT")
        now = time.time()
        for p in self.objects.glob("*/*"):
            if p.name not in keep and not p.name.startswith(".") and now - p.stat().st_mtime > GC_GRACE_S:
                p.unlink(missing_ok=True)

    def _row(self, row) -> Character:
        name, created, notes, image, rig, pose, identity, w, h = row
        return Character(name, created, notes, image, rig, pose, json.loads(identity), (w, h), self)


class _Closing:
    """sqlite3 connection as a context manager that closes (sqlite3's own only commits)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc) -> None:
        self.db.close()


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InvalidOptionError(f"character name {name!r}: use 1-64 letters, digits, spaces, '_', '-' or '.', starting with a letter or digit")
    return name
