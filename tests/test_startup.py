"""What a process tagging with the shipped model loads, and how: no torch, the spaCy pipelines
complete, tables from the disk cache, ONNX Runtime sessions set for a worker."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kunlun_nlp import disk_cache
from kunlun_nlp.models import find_model, shipped_models_dir

ROOT = Path(__file__).resolve().parents[1]

TAG_ONE = """
import json, sys
from kunlun_nlp.models import find_model, shipped_models_dir
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.readers import Document

pipeline = Pipeline.load(find_model(None, [shipped_models_dir()]))
(tagged,) = pipeline.tag([Document.create("Police seized 3 t of gutter oil in Zhengzhou.")])
loaded = sorted(name for name in ("torch", "transformers", "sentence_transformers") if name in sys.modules)
import torch  # hidden from thinc only while it was imported: the zero-shot encoder and training still get it
print(json.dumps({"loaded": loaded, "entities": [e.text for e in tagged.entities], "torch": torch.__name__}))
"""


def test_tagging_with_the_shipped_model_loads_no_torch():
    done = subprocess.run([sys.executable, "-c", TAG_ONE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    assert "Zhengzhou" in result["entities"] and "3 t" in result["entities"]
    assert result["torch"] == "torch"


def test_the_domain_ner_loads_whole_with_its_gazetteers():
    import spacy

    from kunlun_nlp.pipeline.entity_stages import load_spacy

    ner = find_model(None, [shipped_models_dir()]).path / "ner"
    nlp = load_spacy(ner)
    assert nlp.pipe_names == ["ner", "gazetteer", "gazetteer_cased"] and nlp.disabled == []
    names = []
    for ruler in ("gazetteer", "gazetteer_cased"):
        lines = (ner / ruler / "patterns.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(nlp.get_pipe(ruler)) == len(lines)
        names += [json.loads(line)["pattern"] for line in lines[::40]]
    # the same entities as spaCy's own load, which ran the NER over every pattern
    text = "Officers found " + ", then ".join(names) + "."
    entities = [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents]
    assert entities == [(e.start_char, e.end_char, e.label_) for e in spacy.load(ner)(text).ents]
    assert len(entities) > len(names) / 2


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV, str(folder))
    return folder


def test_a_cached_table_is_built_once_and_rebuilt_when_its_sources_change(cache_dir, tmp_path):
    source = tmp_path / "table.txt"
    source.write_text("a b c", encoding="utf-8")
    builds = []

    def build() -> list[str]:
        builds.append(1)
        return source.read_text(encoding="utf-8").split()

    assert disk_cache.cached("words", [source], build) == ["a", "b", "c"]
    assert disk_cache.cached("words", [source], build) == ["a", "b", "c"]
    assert len(builds) == 1
    source.write_text("d e", encoding="utf-8")
    assert disk_cache.cached("words", [source], build) == ["d", "e"]
    assert len(builds) == 2
    assert len(list(cache_dir.glob("words-*.pickle"))) == 1  # the stale entry went


def test_a_damaged_entry_is_rebuilt_and_an_unwritable_folder_only_costs_time(cache_dir, tmp_path, monkeypatch):
    source = tmp_path / "table.txt"
    source.write_text("a", encoding="utf-8")
    disk_cache.cached("words", [source], lambda: ["a"])
    entry = disk_cache.entry_path("words", [source])
    entry.write_bytes(pickle.dumps(["a"])[:5])
    assert disk_cache.cached("words", [source], lambda: ["rebuilt"]) == ["rebuilt"]

    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv(disk_cache.CACHE_DIR_ENV, str(blocker / "cache"))  # cannot be created
    assert disk_cache.cached("words", [source], lambda: ["built"]) == ["built"]


PLACES = ["Zhengzhou", "Lagos", "Duluth, Ga.", "Guangdong Province", "Port of Tianjin"]


def test_places_and_languages_are_the_same_from_the_cache(tmp_path):
    script = f"""
import json
from kunlun_nlp.places import resolve_place
from kunlun_nlp.language import guess_language
print(json.dumps([[resolve_place(p) for p in {PLACES!r}], guess_language("Police seized 3 t of gutter oil.").language]))
"""
    env = {**os.environ, disk_cache.CACHE_DIR_ENV: str(tmp_path)}
    outputs = [subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert sorted(p.name.split("-")[0] for p in tmp_path.glob("*.pickle")) == ["language", "places"]
    assert outputs[0] == outputs[1]
    places, language = json.loads(outputs[0])
    assert places[0]["country"] == "China" and language == "en"


def test_a_worker_gets_one_quiet_onnx_thread_and_the_same_outputs(monkeypatch):
    from kunlun_nlp.onnx_encoder import BranchEncoder, SessionSettings, configure_for_worker, configure_sessions

    model = find_model(None, [shipped_models_dir()])
    texts = ["Police seized 3 t of gutter oil in Zhengzhou.", "Counterfeit vaccines were sold online. " * 80]
    monkeypatch.delenv("KUNLUN_ONNX_THREADS", raising=False)
    monkeypatch.delenv("KUNLUN_ONNX_SPINNING", raising=False)
    assert SessionSettings.from_env() == SessionSettings(threads=None, spinning=False)  # a thread per core, quiet
    monkeypatch.setenv("KUNLUN_ONNX_THREADS", "2")
    monkeypatch.setenv("KUNLUN_ONNX_SPINNING", "1")
    assert SessionSettings.from_env() == SessionSettings(threads=2, spinning=True)
    default = BranchEncoder(model.encoder_path, model.tokenizer_path)
    try:
        configure_for_worker()
        worker = BranchEncoder(model.encoder_path, model.tokenizer_path)
    finally:
        configure_sessions(None)
    options = worker.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    for a, b in zip(default.encode(texts), worker.encode(texts)):
        assert np.array_equal(a.embedding, b.embedding) and np.array_equal(a.domain_logits, b.domain_logits)
