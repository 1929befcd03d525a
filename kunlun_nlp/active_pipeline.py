"""The pipeline a running service tags with: the active model version's, switched without a restart.

A promotion or a rollback writes the active version (`<models folder>/active.json`, kept by
kunlun_nlp.model_registry). Each process (the API, every queue worker) looks at that file's stat at
most once a second as tagging asks for the pipeline; when it changed and names another version,
the new pipeline is loaded beside the old one and the reference swapped in one assignment. A
request in flight keeps the pipeline object it started with; none ever sees a half-loaded one.
While one thread loads, the others go on with the old pipeline; a version that fails to load is
logged and the old one kept (tried again after a while, or when the file changes). The API's
promote and rollback routes call `switch` to load at once instead of on the next look.
KUNLUN_MODEL (Settings.model) pins a version: then nothing switches.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kunlun_nlp.config import Settings
from kunlun_nlp.model_registry import ACTIVE_FILE, active_version_name, pinned_version, runtime_models_dir
from kunlun_nlp.models import ZERO_SHOT, find_model
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.pipeline.registry import Stage

log = logging.getLogger(__name__)

LOOK_SECONDS = 1.0  # how often the active version's file is looked at (one stat)
RETRY_FAILED_SECONDS = 30.0  # a version that failed to load is tried again after this, or when the file changes


def active_file(settings: Settings) -> Path:
    return runtime_models_dir(settings) / ACTIVE_FILE


def load_pipeline(settings: Settings, version: str | None) -> Pipeline:
    """The pipeline `version` declares ("zero-shot": the baseline; None: the newest version)."""
    return Pipeline.load(find_model(version, settings.model_dirs))


class ActivePipeline:
    def __init__(self, settings: Settings, *, factory: Callable[[], Pipeline] | None = None) -> None:
        """`factory` gives the first pipeline instead of the active version (tests); it stands
        until the active version changes."""
        self.settings = settings
        self._factory = factory
        self._pipeline: Pipeline | None = None
        self._load_lock = threading.Lock()  # one load at a time; taking turns, never waiting, once one is in place
        self._seen: tuple[int, int, int] | None = None  # the active file's stat when last followed
        self._next_look = 0.0
        self._failed: tuple[tuple[int, int, int] | None, float] | None = None  # (stat, when to try again)

    @property
    def pinned(self) -> bool:
        """KUNLUN_MODEL names a version (model_registry.pinned_version)."""
        return pinned_version(self.settings) is not None

    @property
    def loaded_version(self) -> str | None:
        """The version of the pipeline in use; None before the first one is loaded."""
        pipeline = self._pipeline
        return pipeline.model_version if pipeline is not None else None

    def current(self) -> Pipeline:
        """The pipeline to tag one request or batch with (keep it for the whole of it)."""
        pipeline = self._pipeline
        if pipeline is None:
            with self._load_lock:
                if self._pipeline is None:
                    self._seen, self._next_look = self._stat(), time.monotonic() + LOOK_SECONDS
                    self._pipeline = self._factory() if self._factory else load_pipeline(self.settings, active_version_name(self.settings))
                return self._pipeline
        if not self.pinned and time.monotonic() >= self._next_look and self._load_lock.acquire(blocking=False):
            try:
                self._follow()
            finally:
                self._load_lock.release()
        return self._pipeline

    def stage(self, name: str) -> Stage:
        """The stage `name` of the pipeline tagging uses: the loaded pipeline's own; before one is
        loaded, the active version's stage built alone, so that re-scoring a corrected report in a
        process that only searches and corrects loads no models."""
        if self._pipeline is None and self._factory is None:
            return Pipeline.load_stage(find_model(active_version_name(self.settings), self.settings.model_dirs), name)
        return self.current().stage(name)

    def switch(self, version: str | None = None) -> str:
        """Load `version` (None: the active one) now and tag with it from here on; the version in
        use after. Raises, keeping the pipeline in use, when it does not load. Pinned by
        KUNLUN_MODEL, nothing switches (the pinned version is answered)."""
        if self.pinned:
            log.warning("model pinned to %s by KUNLUN_MODEL: not switching to %s", self.settings.model, version)
            return self.current().model_version
        with self._load_lock:
            seen = self._stat()
            wanted = version if version is not None else active_version_name(self.settings)
            if self._pipeline is None or resolved_version(self.settings, wanted) != self._pipeline.model_version:
                self._pipeline = load_pipeline(self.settings, wanted)
                log.info("tagging with model %s", self._pipeline.model_version)
            self._seen, self._next_look = seen, time.monotonic() + LOOK_SECONDS
            return self._pipeline.model_version

    def _follow(self) -> None:
        """With the load lock held: switch when the active file changed and names another version."""
        self._next_look = time.monotonic() + LOOK_SECONDS
        seen = self._stat()
        if seen == self._seen or (self._failed and self._failed[0] == seen and time.monotonic() < self._failed[1]):
            return
        current = self._pipeline
        assert current is not None
        try:
            wanted = active_version_name(self.settings)
            if resolved_version(self.settings, wanted) != current.model_version:
                pipeline = load_pipeline(self.settings, wanted)
                self._pipeline = pipeline  # one assignment: the next caller gets the new one, whole
                log.info("active model changed: tagging with %s (was %s)", pipeline.model_version, current.model_version)
        except Exception:  # noqa: BLE001 - whatever broke the load, the service goes on with the old model
            log.exception("active model changed, but it did not load: still tagging with %s", current.model_version)
            self._failed = (seen, time.monotonic() + RETRY_FAILED_SECONDS)
            return
        self._seen, self._failed = seen, None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            found = os.stat(active_file(self.settings))
        except OSError:
            return None
        return found.st_mtime_ns, found.st_size, found.st_ino


def resolved_version(settings: Settings, version: str | None) -> str:
    """The version name a pipeline loaded for `version` would carry (LookupError: no such version)."""
    model = find_model(version, settings.model_dirs)
    return model.version if model is not None else ZERO_SHOT
