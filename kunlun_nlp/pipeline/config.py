"""A pipeline's declaration: the stages it runs, in order, with their settings (pipeline.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PIPELINE_FILE = "pipeline.toml"  # in each model version's folder
TRAINED_CONFIG = Path(__file__).with_name("trained.toml")  # what training copies into a version
ZERO_SHOT_CONFIG = Path(__file__).with_name("zero-shot.toml")  # the untrained baseline


@dataclass(frozen=True)
class StageConfig:
    stage: str  # a name in the stage registry
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineConfig:
    stages: tuple[StageConfig, ...]
    batch_size: int = 32  # documents tagged together (spaCy's nlp.pipe batch, one encoder call)

    @classmethod
    def read(cls, path: Path) -> PipelineConfig:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no pipeline declaration; a model version needs its {PIPELINE_FILE}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        stages = []
        for number, table in enumerate(data.get("stages", []), start=1):
            settings = dict(table)
            name = settings.pop("stage", None)
            if not isinstance(name, str):
                raise ValueError(f"{path}: stage {number} has no `stage = \"name\"`")
            stages.append(StageConfig(name, settings))
        if not stages:
            raise ValueError(f"{path}: declares no stages")
        return cls(tuple(stages), int(data.get("batch_size", 32)))

    def up_to(self, name: str) -> PipelineConfig:
        """The stages up to the last one called `name` (e.g. only what entities need)."""
        last = max((i for i, s in enumerate(self.stages) if s.stage == name), default=None)
        if last is None:
            raise ValueError(f"the pipeline has no {name!r} stage")
        return replace(self, stages=self.stages[: last + 1])

    def with_stage(self, name: str, replacement: StageConfig) -> PipelineConfig:
        """The same pipeline with every `name` stage replaced."""
        return replace(self, stages=tuple(replacement if s.stage == name else s for s in self.stages))
