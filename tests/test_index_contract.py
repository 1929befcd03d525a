"""One contract, every backend (kunlun_nlp.testing.IndexContract): the embedded SQLite index and
the search engine must behave alike. Engine-only behaviour (alias, mapping upgrades) is below."""

from __future__ import annotations

import pytest

from kunlun_nlp.testing import IndexContract


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
