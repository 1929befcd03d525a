"""Index backends behind one interface (base.DocumentIndex)."""

from kunlun_nlp.config import Settings
from kunlun_nlp.index.base import BackendHealth, DocumentIndex, IndexUnavailableError, IndexWriteReport


def open_index(settings: Settings) -> DocumentIndex:
    if settings.engine_url:
        from kunlun_nlp.index.engine import SearchEngineIndex  # needs the engine client only here

        return SearchEngineIndex(settings.engine_url, index_name=settings.index_name)
    from kunlun_nlp.index.embedded import EmbeddedIndex

    return EmbeddedIndex(settings.embedded_index_path)


__all__ = ["BackendHealth", "DocumentIndex", "IndexUnavailableError", "IndexWriteReport", "open_index"]
