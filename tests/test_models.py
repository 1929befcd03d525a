"""Model versions: found through the settings, checked against the vocabulary, built from their
declared pipeline; and an installed package (outside the checkout) finds and runs the shipped one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kunlun_nlp.config import Settings
from kunlun_nlp.models import MANIFEST_FILE, ModelMismatchError, ModelVersion, find_model, shipped_models_dir
from kunlun_nlp.pipeline import Pipeline, PipelineConfig, StageConfig
from kunlun_nlp.pipeline.registry import PipelineConfigError, registered_stages
from kunlun_nlp.vocabulary import DOMAIN_LABELS, SUBTYPE_LABELS

from tests.test_golden_tagging import AS_OF, GOLDEN, fingerprint, golden_input_lines

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped() -> ModelVersion:
    version = find_model("latest", [shipped_models_dir()])
    assert version is not None
    return version


def _copy_manifest(version: ModelVersion, into: Path, name: str, **changes) -> Path:
    folder = into / name
    folder.mkdir(parents=True)
    (folder / MANIFEST_FILE).write_text(json.dumps({**version.manifest, **changes}), encoding="utf-8")
    return folder


def test_the_shipped_version_agrees_with_the_vocabulary(shipped):
    assert shipped.domains == DOMAIN_LABELS and shipped.subtypes == SUBTYPE_LABELS
    assert set(shipped.entity_labels) == {"ORG", "LOC", "PERSON", "PRODUCT", "SUBSTANCE"}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("domains", ["FOOD", "MEDICINE", "ENVIRONMENT", "WILDLIFE"], ["WILDLIFE", "INTELLECTUAL_PROPERTY"]),
        ("domains", ["MEDICINE", "FOOD", "ENVIRONMENT", "INTELLECTUAL_PROPERTY"], ["'MEDICINE', 'FOOD'", "'FOOD', 'MEDICINE'"]),
        ("subtypes", list(SUBTYPE_LABELS[:-1]), ["sub-types", "TRADE_SECRET"]),
        ("entity_labels", ["ORG", "VESSEL"], ["VESSEL", "entity labels"]),
    ],
)
def test_a_version_whose_manifest_disagrees_is_refused_naming_both_sides(shipped, tmp_path, field, value, words):
    folder = _copy_manifest(shipped, tmp_path, "v20990101-0000", **{field: value})
    with pytest.raises(ModelMismatchError) as refused:
        ModelVersion.read(folder)
    for word in [*words, "v20990101-0000"]:
        assert word in str(refused.value)
    # and it is refused when found as the newest version, not skipped
    with pytest.raises(ModelMismatchError):
        find_model("latest", [tmp_path, shipped_models_dir()])


def test_versions_are_found_in_the_settings_models_folder_before_the_shipped_ones(shipped, tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.model_dirs == [tmp_path / "data" / "models", shipped_models_dir()]
    assert find_model(None, settings.model_dirs).version == shipped.version  # nothing trained yet
    _copy_manifest(shipped, settings.model_dirs[0], "v20990101-0000")
    assert find_model(None, settings.model_dirs).version == "v20990101-0000"
    assert find_model(shipped.version, settings.model_dirs).path == shipped.path
    assert find_model("zero-shot", settings.model_dirs) is None
    with pytest.raises(LookupError, match="known: .*v20990101-0000"):
        find_model("v1", settings.model_dirs)
    other = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "elsewhere")
    assert other.model_dirs[0] == tmp_path / "elsewhere"


def test_every_declared_stage_is_registered(shipped):
    declared = {s.stage for s in PipelineConfig.read(shipped.path / "pipeline.toml").stages}
    assert declared <= set(registered_stages())
    assert {"spacy_ner", "gazetteer_labels", "goods_lookup", "merge_layers", "quantities", "join_places", "entities"} <= declared


def test_a_declaration_with_an_unknown_stage_or_setting_is_refused():
    with pytest.raises(PipelineConfigError, match="unknown pipeline stage 'spellcheck'.*known: .*branch_encoder"):
        Pipeline(PipelineConfig((StageConfig("spellcheck"),)))
    with pytest.raises(PipelineConfigError, match="'quantities'.*layr"):
        Pipeline(PipelineConfig((StageConfig("quantities", {"layr": "x"}),)))


def test_a_pipeline_runs_only_the_stages_it_declares(seed_document):
    grade_only = Pipeline(PipelineConfig((StageConfig("source_grade"), StageConfig("report_text"))))
    (tagged,) = grade_only.tag([seed_document])
    assert tagged.document.grade == "F6"
    assert not tagged.entities and not tagged.domains and not tagged.cases and tagged.priority is None
    assert tagged.model == "zero-shot"


def test_an_installed_package_outside_the_checkout_finds_and_runs_the_shipped_model(tmp_path):
    """`pip install .` (non-editable) into a fresh virtualenv, run from another folder."""
    uv = Path(os.environ.get("KUNLUN_TOOLS_DIR", Path.home() / ".cache/kunlun-nlp/tools")) / "bin" / "uv"
    assert uv.exists(), f"{uv} missing: scripts/setup installs it"
    venv = tmp_path / "venv"
    run = dict(check=True, capture_output=True, text=True, timeout=600)
    subprocess.run([str(uv), "venv", "--quiet", "--python", "python3.11", str(venv)], **run)
    python = str(venv / "bin" / "python")
    subprocess.run([str(uv), "pip", "sync", "--quiet", "--python", python, "--require-hashes", str(ROOT / "requirements.lock")], **run)
    # built from a copy: a build leaves build/ and *.egg-info behind in the tree it builds
    source = tmp_path / "source"
    source.mkdir()
    for part in ("pyproject.toml", "README.md", "kunlun_nlp", "api", "training", "kunlun_cli", "models"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
        copy(ROOT / part, source / part, **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}))
    subprocess.run([str(uv), "pip", "install", "--quiet", "--python", python, "--no-deps", "--no-build-isolation", str(source)], **run)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "seed.jsonl").write_text(golden_input_lines()[0] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KUNLUN_MODEL", "KUNLUN_MODELS_DIR")}
    env["KUNLUN_DATA_DIR"] = str(elsewhere / "data")
    where = subprocess.run([python, "-c", "import kunlun_nlp.models as m; print(m.shipped_models_dir())"], cwd=elsewhere, env=env, **run)
    assert where.stdout.strip().startswith(str(venv)), where.stdout
    tagged = subprocess.run([str(venv / "bin" / "kunlun-nlp"), "tag", "--as-of", AS_OF, "seed.jsonl"], cwd=elsewhere, env=env, **run)
    golden_seed = json.loads(GOLDEN.read_text(encoding="utf-8").splitlines()[0])
    assert fingerprint(json.loads(tagged.stdout)) == golden_seed
    shutil.rmtree(venv)
