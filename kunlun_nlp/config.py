"""Settings: one switch picks the backend. An engine URL means the search engine; without one,
the embedded index lives in the data folder. Model versions are found in the models folder
(run-time versions; default <data folder>/models) and among the shipped ones."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "kunlun-data"
DEFAULT_INDEX_NAME = "kunlun-documents"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    engine_url: str | None = None
    index_name: str = DEFAULT_INDEX_NAME
    model: str | None = None  # a model version name or "zero-shot" pins it; None or "latest": the active version (model_registry)
    models_dir: Path | None = None  # run-time model versions; None: <data_dir>/models
    # Host names the API answers to: a page on another site that rebinds its DNS name to this
    # machine is refused (KUNLUN_ALLOWED_HOSTS, comma-separated; "*" allows any).
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
    # The largest request body the API reads (KUNLUN_MAX_REQUEST_BYTES); a larger one is refused
    # with 413 before it is buffered (api/limits.py). 50 MiB holds a bulk of 1,000 reports of
    # 50 KB, or 40 texts at the 200,000-character limit even as JSON \u escapes (6 bytes a character).
    max_request_bytes: int = 50 * 2**20
    # The intake queue: redis://host:port/db for workers on many machines; None: a SQLite file in
    # the data folder (KUNLUN_QUEUE_URL).
    queue_url: str | None = None
    # A batch whose worker went silent this long is sent again (KUNLUN_QUEUE_LEASE_SECONDS).
    queue_lease_seconds: float = 300.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.models_dir is not None:
            object.__setattr__(self, "models_dir", Path(self.models_dir))

    @classmethod
    def from_env(
        cls, *, data_dir: str | None = None, engine_url: str | None = None, model: str | None = None
    ) -> Settings:
        """Explicit arguments win over KUNLUN_DATA_DIR, KUNLUN_ENGINE_URL, KUNLUN_MODEL,
        KUNLUN_MODELS_DIR and KUNLUN_INDEX_NAME."""
        return cls(
            data_dir=Path(data_dir or os.environ.get("KUNLUN_DATA_DIR") or DEFAULT_DATA_DIR),
            engine_url=(engine_url or os.environ.get("KUNLUN_ENGINE_URL") or None),
            index_name=os.environ.get("KUNLUN_INDEX_NAME") or DEFAULT_INDEX_NAME,
            model=model or os.environ.get("KUNLUN_MODEL") or None,
            models_dir=os.environ.get("KUNLUN_MODELS_DIR") or None,
            allowed_hosts=tuple(h.strip() for h in os.environ.get("KUNLUN_ALLOWED_HOSTS", "").split(",") if h.strip())
            or cls.allowed_hosts,
            max_request_bytes=int(os.environ.get("KUNLUN_MAX_REQUEST_BYTES") or cls.max_request_bytes),
            queue_url=os.environ.get("KUNLUN_QUEUE_URL") or None,
            queue_lease_seconds=float(os.environ.get("KUNLUN_QUEUE_LEASE_SECONDS") or cls.queue_lease_seconds),
        )

    @property
    def backend(self) -> str:
        return "engine" if self.engine_url else "embedded"

    @property
    def embedded_index_path(self) -> Path:
        return self.data_dir / "index.sqlite3"

    @property
    def intake_queue_url(self) -> str:
        return self.queue_url or f"sqlite://{(self.data_dir / 'queue.sqlite3').resolve()}"

    @property
    def file_ledger_path(self) -> Path:
        """Which files `ingest` and `watch` queued and finished (kunlun_nlp.intake.files)."""
        return self.data_dir / "intake-files.sqlite3"

    @property
    def profiles_path(self) -> Path:
        """What each source's documents share (kunlun_nlp.intake.profiles): learned at ingest."""
        return self.data_dir / "source-profiles.sqlite3"

    @property
    def labels_path(self) -> Path:
        """Human labels: corrections and imported labeled samples, with their history (kunlun_nlp.labels)."""
        return self.data_dir / "labels.sqlite3"

    @property
    def keys_path(self) -> Path:
        """The API's keys, hashed, with their names and roles (kunlun_nlp.keys)."""
        return self.data_dir / "keys.sqlite3"

    @property
    def sources_path(self) -> Path:
        """Operators' names and default grades per source (kunlun_nlp.intake.sources)."""
        return self.data_dir / "sources.toml"

    @property
    def model_dirs(self) -> list[Path]:
        """Where model versions are looked for: the run-time folder first, then the shipped ones."""
        from kunlun_nlp.models import shipped_models_dir

        return [self.models_dir or self.data_dir / "models", shipped_models_dir()]
