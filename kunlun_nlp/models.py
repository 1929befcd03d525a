"""Model versions: a folder per version holds everything a trained pipeline needs.

    model.json     manifest: labels, thresholds, file names, training data counts
    pipeline.toml  the stages tagging runs, in order, with their settings (kunlun_nlp.pipeline)
    encoder.onnx   MiniLM + tuned classification branch, int8 (kunlun_nlp.onnx_encoder)
    tokenizer.json the encoder's tokenizer
    ner/           the domain entity layer (a spaCy pipeline)
    MODEL_CARD.md, metrics.json

Versions are looked for in the settings' models folder (run-time versions, in the service's data
folder) and among the shipped ones, which travel inside the installed package
(`kunlun_nlp.shipped_models`, the repository's `models/`). Names sort by date (v<YYYYMMDD>-<HHMM>).
The service tags with the active version (kunlun_nlp.model_registry.active_version_name): the one
the settings name, else the one promoted last, else the newest SHIPPED one; a version trained at
run time is used only once promoted. `find_model(None)` answers the newest version in the folders
it is given; "zero-shot" is the untrained baseline.

A version is checked against the code's vocabulary when it loads: a model trained for other
domains, sub-types or entity labels is refused, never silently misread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kunlun_nlp.vocabulary import DOMAIN_LABELS, ENTITY_LABELS, SUBTYPE_LABELS

ZERO_SHOT = "zero-shot"
MANIFEST_FILE = "model.json"


class ModelMismatchError(ValueError):
    """A model version's labels are not the ones this code knows."""


def shipped_models_dir() -> Path:
    """The versions shipped with the package (in a checkout: the repository's models/)."""
    return Path(str(resources.files("kunlun_nlp.shipped_models")))


@dataclass(frozen=True)
class ModelVersion:
    path: Path
    manifest: dict[str, Any]

    @classmethod
    def read(cls, path: Path) -> ModelVersion:
        """The version in `path`, its manifest checked against the vocabulary."""
        version = cls(path, json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8")))
        version.check_vocabulary()
        return version

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def domains(self) -> tuple[str, ...]:
        """The domain outputs of the encoder, in the order the graph gives them."""
        return tuple(self.manifest["domains"])

    @property
    def subtypes(self) -> tuple[str, ...]:
        return tuple(self.manifest["subtypes"])

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

    @property
    def entity_labels(self) -> tuple[str, ...]:
        """The labels its domain NER was trained to give."""
        return tuple(self.manifest.get("entity_labels", ()))

    def check_vocabulary(self) -> None:
        _same(self.version, "domains", self.domains, DOMAIN_LABELS)
        _same(self.version, "sub-types", self.subtypes, SUBTYPE_LABELS)
        _same(self.version, "domain thresholds", tuple(self.domain_thresholds), self.domains, ordered=False)
        _same(self.version, "sub-type thresholds", tuple(self.subtype_thresholds), self.subtypes, ordered=False)
        unknown = [label for label in self.entity_labels if label not in ENTITY_LABELS]
        if unknown:
            raise ModelMismatchError(
                f"model {self.version}: its NER was trained for entity labels {unknown}, which this code does not know "
                f"(known: {list(ENTITY_LABELS)})"
            )


def _same(version: str, what: str, model: Sequence[str], code: Sequence[str], *, ordered: bool = True) -> None:
    if (tuple(model) if ordered else sorted(model)) != (tuple(code) if ordered else sorted(code)):
        raise ModelMismatchError(
            f"model {version} was trained for {what} {list(model)}, but this code knows {list(code)}; "
            "retrain it (kunlun-nlp train) or run the code it was trained with"
        )


def list_versions(directories: Sequence[Path]) -> list[Path]:
    """Version folders in `directories`, oldest first (by name)."""
    found = [m.parent for d in directories if d.is_dir() for m in d.glob(f"*/{MANIFEST_FILE}")]
    return sorted(found, key=lambda p: p.name)


def find_model(name: str | None, directories: Sequence[Path]) -> ModelVersion | None:
    """The version called `name` ("latest" or None: the newest); None for the zero-shot baseline."""
    name = name or "latest"
    if name == ZERO_SHOT:
        return None
    versions = list_versions(directories)
    if name == "latest":
        return ModelVersion.read(versions[-1]) if versions else None
    for path in versions:
        if path.name == name:
            return ModelVersion.read(path)
    known = ", ".join(p.name for p in versions) or "none"
    raise LookupError(f"no model version {name!r}; known: {known} (or {ZERO_SHOT!r})")
