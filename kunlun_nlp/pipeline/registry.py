"""The stage registry: every pipeline stage is a small named component, registered here by name
(spaCy's registry-and-config style), and a model version's pipeline.toml names the ones it runs.

A stage is built from its settings and a BuildContext, and is then called on each batch of
documents being tagged. Adding one: write the class in a module listed in STAGE_MODULES, decorate
it with @stage("name"), and name it in a pipeline.toml.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem

# The modules that define stages; imported once, when the first stage is built.
STAGE_MODULES = (
    "kunlun_nlp.pipeline.text_stages",
    "kunlun_nlp.pipeline.intake_stages",
    "kunlun_nlp.pipeline.language_stages",
    "kunlun_nlp.pipeline.entity_stages",
    "kunlun_nlp.pipeline.model_stages",
    "kunlun_nlp.pipeline.triage_stages",
)


class Stage(Protocol):
    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        """Add this stage's part to each item of the batch."""


class SettinglessStage:
    """Base of a stage that takes no settings and builds nothing."""

    def __init__(self, build: BuildContext) -> None:
        pass


StageFactory = Callable[..., Stage]  # (build: BuildContext, **settings) -> Stage
_FACTORIES: dict[str, StageFactory] = {}


class PipelineConfigError(ValueError):
    """A pipeline.toml names a stage or a setting that does not exist."""


def stage(name: str) -> Callable[[StageFactory], StageFactory]:
    def register(factory: StageFactory) -> StageFactory:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"pipeline stage {name!r} is registered twice")
        _FACTORIES[name] = factory
        return factory

    return register


def registered_stages() -> list[str]:
    _import_stage_modules()
    return sorted(_FACTORIES)


def create_stage(name: str, settings: dict[str, Any], build: BuildContext) -> Stage:
    _import_stage_modules()
    factory = _FACTORIES.get(name)
    if factory is None:
        raise PipelineConfigError(f"unknown pipeline stage {name!r}; known: {', '.join(sorted(_FACTORIES))}")
    try:
        return factory(build, **settings)
    except TypeError as exc:  # a misspelt or missing setting
        raise PipelineConfigError(f"pipeline stage {name!r}: {exc}") from exc


def _import_stage_modules() -> None:
    for module in STAGE_MODULES:
        importlib.import_module(module)
