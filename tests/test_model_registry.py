"""The model registry: which version is active (pin, promotion, newest shipped), promotion and
rollback bookkeeping with their history, the versions list, and the CLI's `models list|rollback`.
Versions here are the shipped one's manifest copied under other names: bookkeeping never loads a
pipeline."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from kunlun_cli.main import main as cli
from kunlun_nlp.config import Settings
from kunlun_nlp.model_registry import (
    ACTIVE_FILE,
    PROMOTIONS_FILE,
    ModelRegistry,
    RegistryError,
    active_model,
    active_version_name,
)
from kunlun_nlp.models import MANIFEST_FILE, find_model, shipped_models_dir


@pytest.fixture(scope="module")
def shipped_name() -> str:
    version = find_model("latest", [shipped_models_dir()])
    assert version is not None
    return version.version


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _version(settings: Settings, name: str, **metrics) -> Path:
    """A run-time version folder: the shipped manifest under another name, optional metrics."""
    shipped = find_model("latest", [shipped_models_dir()])
    folder = settings.model_dirs[0] / name
    folder.mkdir(parents=True)
    (folder / MANIFEST_FILE).write_text(json.dumps({**shipped.manifest, "version": name}), encoding="utf-8")
    if metrics:
        (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return folder


def test_a_version_trained_at_run_time_is_used_only_once_promoted(settings, shipped_name):
    assert active_version_name(settings) == shipped_name  # a fresh data folder: the newest shipped version
    _version(settings, "v20990101-0000")
    assert active_version_name(settings) == shipped_name  # newer, but never promoted
    assert find_model(None, settings.model_dirs).version == "v20990101-0000"  # find_model itself is unchanged
    pointer = ModelRegistry(settings).promote("v20990101-0000", by="ana", reason="better on the evaluation set")
    assert active_version_name(settings) == "v20990101-0000" == pointer.version
    assert active_model(settings).version == "v20990101-0000"
    written = json.loads((settings.model_dirs[0] / ACTIVE_FILE).read_text())
    assert written["version"] == "v20990101-0000" and written["by"] == "ana" and written["since"]
    # KUNLUN_MODEL pins a version whatever was promoted; "latest" means the active one
    assert active_version_name(replace(settings, model=shipped_name)) == shipped_name
    assert active_version_name(replace(settings, model="zero-shot")) == "zero-shot"
    assert active_model(replace(settings, model="zero-shot")) is None
    assert active_version_name(replace(settings, model="latest")) == "v20990101-0000"


def test_promote_and_rollback_keep_a_history_and_walk_back(settings, shipped_name):
    _version(settings, "v20990101-0000")
    _version(settings, "v20990102-0000")
    registry = ModelRegistry(settings)
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        registry.rollback(by="ana")
    registry.promote("v20990101-0000", by="ana", reason="round 1")
    registry.promote("v20990102-0000", by="bo", reason="round 2")
    back = registry.rollback(by="cy")
    assert back.version == "v20990101-0000" and back.reason == "rollback from v20990102-0000"
    assert registry.rollback(by="cy").version == shipped_name  # and once more: before round 1
    with pytest.raises(RegistryError, match="active version already"):
        registry.rollback(shipped_name, by="cy")
    assert registry.rollback("v20990102-0000", by="cy").version == "v20990102-0000"  # any earlier version, by name
    history = registry.history()
    assert [(h["action"], h["version"], h["previous"], h["by"]) for h in history] == [
        ("promote", "v20990101-0000", shipped_name, "ana"),
        ("promote", "v20990102-0000", "v20990101-0000", "bo"),
        ("rollback", "v20990101-0000", "v20990102-0000", "cy"),
        ("rollback", shipped_name, "v20990101-0000", "cy"),
        ("rollback", "v20990102-0000", shipped_name, "cy"),
    ]
    lines = (settings.model_dirs[0] / PROMOTIONS_FILE).read_text().splitlines()
    assert len(lines) == 5 and all(json.loads(line)["since"] for line in lines)
    assert not list(settings.model_dirs[0].glob(".*.tmp"))  # atomic writes leave no temporary behind


def test_unknown_or_unfit_versions_are_refused(settings):
    registry = ModelRegistry(settings)
    with pytest.raises(RegistryError, match="no model version 'v1'.*known:"):
        registry.promote("v1", by="ana")
    folder = _version(settings, "v20990101-0000")
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, "domains": ["FOOD"]}))
    with pytest.raises(ValueError, match="domains"):
        registry.promote("v20990101-0000", by="ana")
    assert registry.active() is None


def test_concurrent_promotions_each_leave_a_whole_record(settings):
    for n in range(6):
        _version(settings, f"v2099010{n}-0000")
    registry = ModelRegistry(settings)
    threads = [threading.Thread(target=registry.promote, args=(f"v2099010{n}-0000",), kwargs={"by": f"t{n}"}) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = registry.history()
    assert len(history) == 6 and {h["by"] for h in history} == {f"t{n}" for n in range(6)}
    assert registry.active().version == history[-1]["version"]
    # each promotion saw the one before it as the previous version
    assert [h["previous"] for h in history[1:]] == [h["version"] for h in history[:-1]]


def test_versions_list_origin_active_flag_lineage_and_figures(settings, shipped_name):
    evaluation = {"fingerprint": "abc", "documents": 12, "macro_f1": 0.8, "domains_f1": {"FOOD": 0.9}, "entities_f1": {"ORG": 0.7}}
    _version(settings, "v20990101-0000", evaluation=evaluation, decision={"promote": False, "passed": False})
    folder = _version(settings, "v20990102-0000")
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, "feedback": {"continued_from": "v20990101-0000"}}))
    registry = ModelRegistry(settings)
    registry.write_evaluation("v20990102-0000", "abc", {**evaluation, "macro_f1": 0.85})
    registry.promote("v20990102-0000", by="ana")
    versions = {v.version: v for v in registry.versions()}
    assert versions[shipped_name].shipped and not versions[shipped_name].active
    shipped_figures = versions[shipped_name].figures  # measured on the evaluation set (its evaluations/), else the dev split's
    assert 0.5 < (shipped_figures.get("macro_f1") or shipped_figures["dev_macro_f1"]) <= 1
    old, new = versions["v20990101-0000"], versions["v20990102-0000"]
    assert not old.shipped and old.figures["macro_f1"] == 0.8 and old.decision == {"promote": False, "passed": False}
    assert new.active and new.continued_from == "v20990101-0000" and new.figures["macro_f1"] == 0.85
    assert json.loads(json.dumps(new.to_json()))["path"] == str(folder)


def test_cli_lists_and_rolls_back(settings, shipped_name, capsys):
    _version(settings, "v20990101-0000")
    ModelRegistry(settings).promote("v20990101-0000", by="ana")
    data = ["--data-dir", str(settings.data_dir)]
    assert cli(["models", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert "* v20990101-0000" in listed and shipped_name in listed and "by ana" in listed
    assert cli(["models", "list", "--json", *data]) == 0
    assert json.loads(capsys.readouterr().out)["active"] == "v20990101-0000"
    assert cli(["models", "rollback", "--no-retag", "--by", "bo", *data]) == 0
    assert f"active: {shipped_name} (was v20990101-0000)" in capsys.readouterr().out
    assert ModelRegistry(settings).history()[-1]["by"] == "bo"
    assert cli(["models", "rollback", "--no-retag", *data]) == 2  # nothing before the shipped version
    assert "nothing to roll back to" in capsys.readouterr().err
    assert cli(["models", "promote", "v-missing", *data]) == 2
    assert "no model version 'v-missing'" in capsys.readouterr().err
