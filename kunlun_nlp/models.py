"""Model versions: `models/<version>/` holds everything a trained pipeline needs.

    model.json     manifest: labels, thresholds, file names, training data counts
    encoder.onnx   MiniLM + tuned classification branch, int8 (kunlun_nlp.onnx_encoder)
    tokenizer.json the encoder's tokenizer
    ner/           the domain entity layer (a spaCy pipeline)
    MODEL_CARD.md, metrics.json

The pipeline loads the newest version (versions sort by name: v<YYYYMMDD>-<HHMM>) unless
KUNLUN_MODEL names one; KUNLUN_MODEL=zero-shot runs the untrained baseline.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
ZERO_SHOT = "zero-shot"


@dataclass(frozen=True)
class ModelVersion:
    path: Path
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def encoder_path(self) -> Path:
        return self.path / self.manifest["encoder"]

    @property
    def tokenizer_path(self) -> Path:
        return self.path / self.manifest["tokenizer"]

    @property
    def ner_path(self) -> Path | None:
        name = self.manifest.get("ner")
        return self.path / name if name else None

    @property
    def domain_thresholds(self) -> dict[str, float]:
        return self.manifest["domain_thresholds"]

    @property
    def subtype_thresholds(self) -> dict[str, float]:
        return self.manifest["subtype_thresholds"]


def models_dirs() -> list[Path]:
    """Where versions are looked for: KUNLUN_MODELS_DIR (e.g. the service's data folder) and the shipped ones."""
    extra = os.environ.get("KUNLUN_MODELS_DIR")
    return [Path(extra), SHIPPED_MODELS_DIR] if extra else [SHIPPED_MODELS_DIR]


def list_versions(directories: list[Path] | None = None) -> list[ModelVersion]:
    versions = []
    for directory in directories or models_dirs():
        if directory.is_dir():
            for manifest in directory.glob("*/model.json"):
                versions.append(ModelVersion(manifest.parent, json.loads(manifest.read_text(encoding="utf-8"))))
    return sorted(versions, key=lambda v: v.version)


def find_model(name: str | None = None, directories: list[Path] | None = None) -> ModelVersion | None:
    """The version called `name` (default: KUNLUN_MODEL, else the newest); None for the zero-shot baseline."""
    name = name or os.environ.get("KUNLUN_MODEL") or "latest"
    if name == ZERO_SHOT:
        return None
    versions = list_versions(directories)
    if name == "latest":
        return versions[-1] if versions else None
    for version in versions:
        if version.version == name:
            return version
    known = ", ".join(v.version for v in versions) or "none"
    raise LookupError(f"no model version {name!r}; known: {known} (or {ZERO_SHOT!r})")
