"""Which model version the service tags with, and the record of how each became the active one.

    <models folder>/active.json        {"version", "since", "by", "reason"}: the active version
    <models folder>/promotions.jsonl   one line per change of the active version (promote, rollback)
    <models folder>/decisions.jsonl    one line per gate decision (training/gate.py writes them here)
    <models folder>/evaluations/       figures of versions on the fixed evaluation set, by set fingerprint

The models folder is the run-time one (Settings.models_dir, default <data folder>/models): versions
trained by feedback rounds live there, never in git's models/. The active version is the one
KUNLUN_MODEL names when set; else the one promoted last; else the newest shipped version. A
version trained at run time is therefore only used once promoted (by the gate after its round, or
by hand), and a fresh install tags with what it shipped.

Every file is replaced whole (written beside, then os.replace), so a reader sees the old content or
the new, never half; a lock file keeps two promotions from interleaving their read and write.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kunlun_nlp.config import Settings
from kunlun_nlp.models import MANIFEST_FILE, ZERO_SHOT, ModelVersion, list_versions, shipped_models_dir

ACTIVE_FILE = "active.json"
PROMOTIONS_FILE = "promotions.jsonl"
DECISIONS_FILE = "decisions.jsonl"
EVALUATIONS_DIR = "evaluations"
METRICS_FILE = "metrics.json"
_LOCK_FILE = ".registry.lock"


class RegistryError(ValueError):
    """A promotion or rollback that cannot be done (unknown version, nothing to roll back to)."""


def runtime_models_dir(settings: Settings) -> Path:
    """Where run-time versions and the registry's files live."""
    return settings.model_dirs[0]


def active_version_name(settings: Settings) -> str:
    """The version the service tags with: KUNLUN_MODEL (Settings.model) when set ("latest" counts
    as unset); else the version active.json names; else the newest shipped version; "zero-shot"
    when nothing ships. Cheap enough to ask on every batch: one small file read, and a listing of
    the shipped folder only when nothing was ever promoted."""
    return pinned_version(settings) or _promoted_or_shipped(settings)


def pinned_version(settings: Settings) -> str | None:
    """The version KUNLUN_MODEL (Settings.model) pins, or None: unset, or "latest"."""
    return settings.model if settings.model and settings.model != "latest" else None


def _promoted_or_shipped(settings: Settings) -> str:
    """The active version as promotions left it, whatever KUNLUN_MODEL pins."""
    pointer = _read_active(runtime_models_dir(settings))
    if pointer is not None:
        return pointer.version
    shipped = list_versions([shipped_models_dir()])
    return shipped[-1].name if shipped else ZERO_SHOT


def active_model(settings: Settings) -> ModelVersion | None:
    """The active version, read and checked; None for the zero-shot baseline."""
    from kunlun_nlp.models import find_model

    return find_model(active_version_name(settings), settings.model_dirs)


@dataclass(frozen=True)
class ActiveVersion:
    version: str
    since: str  # UTC, ISO 8601
    by: str
    reason: str = ""


@dataclass(frozen=True)
class VersionInfo:
    """A model version as `models list` shows it."""

    version: str
    path: Path
    shipped: bool
    created: str | None
    active: bool
    continued_from: str | None  # the version a feedback round started from; None for the full recipe
    figures: dict[str, Any] = field(default_factory=dict)  # the evaluation set's, else the dev split's
    decision: dict[str, Any] | None = None  # the gate's, for a version trained at run time

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory = runtime_models_dir(settings)

    # -- versions ------------------------------------------------------------------------------

    def versions(self) -> list[VersionInfo]:
        """Every version, shipped and run-time, oldest first (names sort by date)."""
        active = active_version_name(self.settings)
        shipped = shipped_models_dir().resolve()
        return [self._info(path, shipped=path.parent.resolve() == shipped, active=path.name == active)
                for path in list_versions(self.settings.model_dirs)]

    def version(self, name: str) -> VersionInfo:
        for info in self.versions():
            if info.version == name:
                return info
        known = ", ".join(v.version for v in self.versions()) or "none"
        raise RegistryError(f"no model version {name!r}; known: {known}")

    def _info(self, path: Path, *, shipped: bool, active: bool) -> VersionInfo:
        manifest = _read_json(path / MANIFEST_FILE) or {}
        metrics = _read_json(path / METRICS_FILE) or {}
        figures = (_summary(metrics.get("evaluation")) or _summary(self.latest_evaluation(path.name))
                   or _summary(_newest_json(path / EVALUATIONS_DIR)))  # figures shipped with the version
        if not figures:
            dev = (metrics.get("classifier") or {}).get("dev_macro_f1_calibrated")
            figures = {"dev_macro_f1": dev} if dev is not None else {}
        return VersionInfo(
            version=path.name, path=path, shipped=shipped, created=manifest.get("created"), active=active,
            continued_from=(manifest.get("feedback") or {}).get("continued_from"), figures=figures,
            decision=metrics.get("decision"),
        )

    # -- the active version ----------------------------------------------------------------------

    def active(self) -> ActiveVersion | None:
        """The last promotion's pointer; None while nothing was ever promoted here."""
        return _read_active(self.directory)

    def active_version_name(self) -> str:
        return active_version_name(self.settings)

    def promote(self, version: str, *, by: str, reason: str = "", action: str = "promote") -> ActiveVersion:
        """Make `version` the active one (bookkeeping only: the gate decides before this is called).
        Refuses a version that does not exist or does not fit the code's vocabulary."""
        path = self.path_of(version)
        ModelVersion.read(path)  # a version the service could not load is never made active
        with self._locked():
            previous = _promoted_or_shipped(self.settings)
            pointer = ActiveVersion(version=version, since=_now(), by=by, reason=reason)
            write_atomic(self.directory / ACTIVE_FILE, json.dumps(asdict(pointer), indent=2) + "\n")
            self._append(PROMOTIONS_FILE, {**asdict(pointer), "action": action, "previous": previous})
        return pointer

    def rollback(self, to: str | None = None, *, by: str, reason: str = "") -> ActiveVersion:
        """Make `to` active again; None: the version that was active before the current one was
        promoted (so rolling back twice walks back two promotions)."""
        current = _promoted_or_shipped(self.settings)
        if to is None:
            to = self._before(current)
            if to is None:
                raise RegistryError(f"nothing to roll back to: {current} was never promoted over another version")
        if to == current:
            raise RegistryError(f"{to} is the active version already")
        return self.promote(to, by=by, reason=reason or f"rollback from {current}", action="rollback")

    def _before(self, version: str) -> str | None:
        """The version the latest promotion of `version` replaced."""
        for entry in reversed(self.history()):
            if entry.get("version") == version and entry.get("action") != "rollback":
                return entry.get("previous")
        return None

    def history(self) -> list[dict[str, Any]]:
        """Every change of the active version, oldest first."""
        return list(_read_jsonl(self.directory / PROMOTIONS_FILE))

    def path_of(self, version: str) -> Path:
        """The folder of `version`; RegistryError when there is none."""
        for path in list_versions(self.settings.model_dirs):
            if path.name == version:
                return path
        known = ", ".join(p.name for p in list_versions(self.settings.model_dirs)) or "none"
        raise RegistryError(f"no model version {version!r}; known: {known}")

    # -- gate decisions and evaluations ---------------------------------------------------------------

    def record_decision(self, decision: dict[str, Any]) -> None:
        with self._locked():
            self._append(DECISIONS_FILE, decision)

    def decisions(self) -> list[dict[str, Any]]:
        return list(_read_jsonl(self.directory / DECISIONS_FILE))

    def evaluation_path(self, version: str, fingerprint: str) -> Path:
        return self.directory / EVALUATIONS_DIR / f"{version}-{fingerprint}.json"

    def read_evaluation(self, version: str, fingerprint: str) -> dict[str, Any] | None:
        return _read_json(self.evaluation_path(version, fingerprint))

    def write_evaluation(self, version: str, fingerprint: str, figures: dict[str, Any]) -> Path:
        path = self.evaluation_path(version, fingerprint)
        write_atomic(path, json.dumps(figures, indent=2) + "\n")
        return path

    def latest_evaluation(self, version: str) -> dict[str, Any] | None:
        """The figures measured last for `version`, on whichever evaluation set."""
        folder = self.directory / EVALUATIONS_DIR
        found = sorted(folder.glob(f"{version}-*.json"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
        # a version name may prefix another's ("v1" and "v1-2"): keep files whose rest is one fingerprint
        found = [p for p in found if "-" not in p.stem[len(version) + 1 :]]
        return _read_json(found[-1]) if found else None

    # -- files -----------------------------------------------------------------------------------------

    def _append(self, name: str, entry: dict[str, Any]) -> None:
        """Append a line by rewriting the file whole: a crash leaves the old file, never a torn line."""
        path = self.directory / name
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        write_atomic(path, old + json.dumps(entry, default=str, ensure_ascii=False) + "\n")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / _LOCK_FILE, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _summary(evaluation: dict[str, Any] | None) -> dict[str, Any]:
    """The figures `models list` shows from an evaluation (training/gate.py's shape)."""
    if not evaluation:
        return {}
    return {
        "evaluation_set": evaluation.get("fingerprint"),
        "documents": evaluation.get("documents"),
        "macro_f1": evaluation.get("macro_f1"),
        "domains_f1": evaluation.get("domains_f1", {}),
        "entities_f1": evaluation.get("entities_f1", {}),
    }


def _newest_json(folder: Path) -> dict[str, Any] | None:
    found = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    return _read_json(found[-1]) if found else None


def _read_active(directory: Path) -> ActiveVersion | None:
    data = _read_json(directory / ACTIVE_FILE)
    if not data or not isinstance(data.get("version"), str):
        return None
    return ActiveVersion(version=data["version"], since=str(data.get("since", "")), by=str(data.get("by", "")),
                         reason=str(data.get("reason", "")))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    for line in lines:
        if line.strip():
            yield json.loads(line)


def write_atomic(path: Path, text: str) -> None:
    """Write beside `path`, flush to disk, then replace it in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
