"""Tagging as a declared pipeline of named stages (registry.py), built from a model version's
pipeline.toml (config.py) and run by Pipeline.tag (pipeline.py)."""

from kunlun_nlp.pipeline.config import PipelineConfig, StageConfig
from kunlun_nlp.pipeline.pipeline import Pipeline

__all__ = ["Pipeline", "PipelineConfig", "StageConfig"]
