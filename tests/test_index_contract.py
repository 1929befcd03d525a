"""One contract, every backend (kunlun_nlp.testing.IndexContract): the embedded SQLite index and
the search engine must behave alike. Engine-only behaviour (alias, mapping upgrades) and
embedded-only behaviour (the file's layout, the vector graph beside it) are below."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kunlun_nlp.document import Review, TaggedDocument
from kunlun_nlp.index.embedded import EmbeddedIndex
from kunlun_nlp.records import tagged_to_record
from kunlun_nlp.search.request import SearchRequest
from kunlun_nlp.testing import IndexContract
from kunlun_nlp.testing.index_contract import ALL, WHEN, by_id, ids
from kunlun_nlp.testing.synthetic import ANCHOR_SEED, CLUSTER, SEED_ID, synthetic_corpus, unit_vector, vector_at, with_embedding


class TestEmbeddedIndex(IndexContract):
    @pytest.fixture
    def index(self, embedded_index):
        return embedded_index


@pytest.mark.engine
class TestSearchEngineIndex(IndexContract):
    @pytest.fixture
    def index(self, engine_index):
        return engine_index

    def test_alias_points_at_versioned_index(self, loaded):
        aliases = loaded.client.indices.get_alias(name=loaded.alias)
        assert list(aliases) == [loaded.versioned_name]
        mapping = loaded.client.indices.get_mapping(index=loaded.alias)[loaded.versioned_name]["mappings"]
        assert mapping["properties"]["text"]["analyzer"] == "english"
        assert mapping["properties"]["embedding"]["type"] == "dense_vector"

    def test_older_mapping_is_reindexed_behind_the_alias(self, engine_index):
        """Zero-downtime upgrade: the old version's documents move to the new one, the alias swaps."""
        old = f"{engine_index.alias}-v1"
        engine_index.client.indices.create(
            index=old,
            mappings={"properties": {"id": {"type": "keyword"}, "text": {"type": "text"}}},
            aliases={engine_index.alias: {"is_write_index": True}},
        )
        engine_index.client.index(index=old, id="old-1", document={"id": "old-1", "text": "an old report"}, refresh=True)
        engine_index.ensure_index()
        assert list(engine_index.client.indices.get_alias(name=engine_index.alias)) == [engine_index.versioned_name]
        assert engine_index.count() == 1
        assert not engine_index.client.indices.exists(index=old)
        # the new mapping's fields take values (review notes since version 7)
        assert engine_index.mark_reviewed("old-1", "ana", WHEN, "a note").review == Review("ana", WHEN, "a note")


# -- embedded only: the file's layout, the vector graph beside it -------------------------------

# The layout before issue 12 (user_version unset): the record held the title and text again.
_LAYOUT_1 = """
CREATE TABLE documents (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, text TEXT NOT NULL,
    source TEXT NOT NULL, published TEXT, ingested_at TEXT NOT NULL, record TEXT NOT NULL, embedding BLOB NOT NULL,
    priority INTEGER, reliability TEXT, credibility INTEGER, reviewed_by TEXT, reviewed_at TEXT,
    language TEXT NOT NULL DEFAULT ''
);
CREATE TABLE doc_domains (doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE, label TEXT NOT NULL);
CREATE INDEX doc_domains_label ON doc_domains(label, doc_rowid);
CREATE TABLE doc_entities (
    doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
    label TEXT NOT NULL, normalized TEXT NOT NULL, key TEXT NOT NULL
);
CREATE INDEX doc_entities_key ON doc_entities(label, key, doc_rowid);
CREATE INDEX documents_published ON documents(published);
CREATE INDEX documents_queue ON documents(reviewed_at, priority);
CREATE INDEX documents_language ON documents(language);
CREATE VIRTUAL TABLE documents_fts USING fts5(
    title, text, content='documents', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
    INSERT INTO documents_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
"""


def write_layout_1(path: Path, corpus: list[TaggedDocument], *, reviewed: str | None = None, languages: bool = True) -> None:
    """An index file as the embedded index wrote it before issue 12 (before the language column
    too, unless `languages`), holding `corpus`, `reviewed` reviewed by ana."""
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(_LAYOUT_1)
        for tagged in corpus:
            record = tagged_to_record(tagged)
            embedding = np.asarray(record.pop("embedding"), dtype=np.float32).tobytes()
            review = {"reviewed_by": "ana", "reviewed_at": WHEN.isoformat()} if tagged.id == reviewed else {}
            record["review"] = review or None
            grade = record["grade"] or ""
            rowid = db.execute(
                "INSERT INTO documents VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record["id"], record["title"], record["text"], record["source"], record["published"], record["ingested_at"],
                    json.dumps(record), embedding, (record["priority"] or {}).get("score"), grade[:1] or None,
                    int(grade[1:]) if grade[1:] else None, review.get("reviewed_by"), review.get("reviewed_at"), record["language"],
                ),
            ).lastrowid
            db.executemany("INSERT INTO doc_domains VALUES (?, ?)", [(rowid, d) for d in record["domains"]])
            db.executemany(
                "INSERT INTO doc_entities VALUES (?, ?, ?, ?)", {(rowid, e["label"], e["normalized"], e["key"]) for e in record["entities"]}
            )
        if not languages:
            db.execute("DROP INDEX documents_language")
            db.execute("ALTER TABLE documents DROP COLUMN language")


def test_embedded_file_of_layout_1_is_upgraded_in_place(tmp_path):
    corpus = synthetic_corpus()
    path = tmp_path / "old.sqlite3"
    write_layout_1(path, corpus, reviewed=SEED_ID)
    index = EmbeddedIndex(path)
    try:
        assert index.count() == len(corpus)
        for original in corpus:
            stored = index.get(original.id)
            expected = replace(original, review=Review("ana", WHEN)) if original.id == SEED_ID else original
            assert replace(stored, embedding=original.embedding) == expected
        assert ids(index.search(SearchRequest(text="food safety"))) == [SEED_ID]
        assert SEED_ID not in ids(index.search(SearchRequest(reviewed=False, sort="priority", size=ALL)))
        assert ids(index.nearest(unit_vector(ANCHOR_SEED), size=2)) == [doc_id for doc_id, _ in CLUSTER[:2]]
        facets = index.search(SearchRequest(facets=True)).facets
        assert facets.domains and sum(f.count for f in facets.subtypes) == sum(len(t.subtypes) for t in corpus)
        assert index.get(SEED_ID).review.note is None
        index.put(corpus[:1])  # and it takes new writes
        assert index.count() == len(corpus)
        stored_records = [json.loads(r) for (r,) in index._db.execute("SELECT record FROM bodies")]
        assert not any({"text", "title", "review"} & set(r) for r in stored_records)  # stored once, in columns
    finally:
        index.close()


def test_embedded_file_of_layout_2_gets_review_notes_and_sub_types(tmp_path):
    """A file written before review notes and the sub-type table (layout 2): its reviews load
    without a note, its sub-types are counted, and new reviews keep their notes."""
    corpus = synthetic_corpus()
    path = tmp_path / "layout2.sqlite3"
    index = EmbeddedIndex(path)
    index.put(corpus)
    index.mark_reviewed(SEED_ID, "ana", WHEN)
    index.close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DROP TABLE doc_subtypes")
        db.execute("ALTER TABLE documents DROP COLUMN review_note")
        db.execute("PRAGMA user_version = 2")
    index, other = EmbeddedIndex(path), EmbeddedIndex(path)  # two processes opening it: one upgrades
    try:
        assert index.get(SEED_ID).review == Review("ana", WHEN)
        subtypes = index.search(SearchRequest(facets=True)).facets.subtypes
        assert {f.value: f.count for f in subtypes} == {"FOOD.COUNTERFEIT": 9, "MEDICINE.COUNTERFEIT": 8,
                                                        "ENVIRONMENT.COUNTERFEIT": 7, "INTELLECTUAL_PROPERTY.COUNTERFEIT": 7}
        assert other.mark_reviewed(corpus[0].id, "bo", WHEN, "a note").review == Review("bo", WHEN, "a note")
        assert index.get(corpus[0].id).review.note == "a note"
        assert index._db.execute("PRAGMA user_version").fetchone()[0] == 3
    finally:
        index.close()
        other.close()


def test_embedded_vectors_and_facets_follow_other_connections(tmp_path):
    corpus = synthetic_corpus()
    path = tmp_path / "shared.sqlite3"
    reader, writer = EmbeddedIndex(path), EmbeddedIndex(path)
    try:
        reader.put(corpus)
        anchor = unit_vector(ANCHOR_SEED)
        assert ids(reader.nearest(anchor, size=1)) == [CLUSTER[0][0]]  # builds the graph
        moved = with_embedding(by_id(corpus, CLUSTER[0][0]), unit_vector(123))
        writer.put([moved, with_embedding(corpus[0], vector_at(anchor, 0.999, seed=5), doc_id="closest")])
        assert ids(reader.nearest(anchor, size=2)) == ["closest", CLUSTER[1][0]]  # the moved one is gone from there
        assert ids(reader.nearest(unit_vector(123), size=1)) == [moved.id]
        assert reader.search(SearchRequest(facets=True)).total == len(corpus) + 1
        assert sum(f.count for f in reader.search(SearchRequest(facets=True)).facets.languages) == sum(
            1 for t in [*corpus, corpus[0]] if t.document.language
        )
    finally:
        reader.close()
        writer.close()
    graph = path.with_name(path.name + ".vectors")
    assert graph.is_file()
    again = EmbeddedIndex(path)  # loads the graph written at close
    try:
        assert ids(again.nearest(anchor, size=2)) == ["closest", CLUSTER[1][0]]
    finally:
        again.close()
    stranger = EmbeddedIndex(tmp_path / "other.sqlite3")  # another database's graph is not used
    stranger.put(corpus[:3])
    stranger.nearest(anchor)
    stranger.close()
    graph.write_bytes((tmp_path / "other.sqlite3.vectors").read_bytes())
    again = EmbeddedIndex(path)
    try:
        assert ids(again.nearest(anchor, size=2)) == ["closest", CLUSTER[1][0]]
    finally:
        again.close()


def test_the_embedded_index_and_the_encoder_runtime_load_in_either_order():
    """usearch loaded before onnxruntime crashes the process (embedded_vectors imports them in
    the order that works): opening the index first, as the API does, must not."""
    import subprocess
    import sys

    for first, then in (("kunlun_nlp.index.embedded", "onnxruntime"), ("onnxruntime", "kunlun_nlp.index.embedded")):
        done = subprocess.run([sys.executable, "-c", f"import {first}, {then}"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (first, then, done.returncode, done.stderr[-2000:])
