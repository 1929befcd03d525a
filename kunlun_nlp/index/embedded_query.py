"""A SearchRequest compiled to SQLite SQL for the embedded index (kunlun_nlp.index.embedded).

Query text only ever reaches FTS5 as quoted string literals, and every value is a bound
parameter: no user input becomes SQL or FTS5 syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.request import QueryText, SearchRequest
from kunlun_nlp.search.results import MATCH_END, MATCH_START

TITLE_WEIGHT, TEXT_WEIGHT = 2.0, 1.0
SNIPPET_TOKENS = 24
# The id breaks ties last, so that pages never overlap or skip a report.
BY_DATE = "d.published IS NULL, d.published DESC, d.ingested_at DESC, d.id"
BY_PRIORITY = "d.priority IS NULL, d.priority DESC, " + BY_DATE
BY_SCORE = "score DESC, d.id"


@dataclass(frozen=True)
class CompiledSearch:
    # One page of rows: (stored record JSON, score or NULL, snippet with marked matches or NULL).
    page_sql: str
    page_params: list[Any]
    # Every matching document's rowid: the scope of the total and the facets.
    matching_sql: str
    matching_params: list[Any]


def fts_match_expression(query: QueryText) -> str:
    """Every term and phrase as an FTS5 string literal, implicitly ANDed: no FTS5 syntax survives."""
    parts = [_fts_string(term) for term in query.terms]
    parts += [_fts_string(" ".join(words)) for words in query.phrases]
    return " ".join(parts)


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def compile_search(request: SearchRequest) -> CompiledSearch:
    where, params = filter_clauses(request)
    words, runs = request.query.split_ideographic()
    # FTS5's tokenizer keeps a run of ideographs as one token, so a word in it is found by instr()
    for run in runs:
        where.append("(instr(d.title, ?) > 0 OR instr(d.text, ?) > 0)")
        params += [run, run]
    column_params: list[Any] = []
    order = {"date": BY_DATE, "priority": BY_PRIORITY}.get(request.sort, BY_SCORE)
    if not words.is_empty:
        conditions = " AND ".join(["documents_fts MATCH ?", *where])
        base = f"FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid WHERE {conditions}"
        params = [fts_match_expression(words), *params]
        # bm25() is lower-is-better; negated so that a higher score is a better hit, as on the engine
        columns = (
            f"d.record, -bm25(documents_fts, {TITLE_WEIGHT}, {TEXT_WEIGHT}) AS score,"
            f" snippet(documents_fts, 1, '{MATCH_START}', '{MATCH_END}', '…', {SNIPPET_TOKENS})"
        )
    else:
        base = "FROM documents d" + (" WHERE " + " AND ".join(where) if where else "")
        if runs:  # scored by how often the runs occur, title occurrences counting double
            columns = f"d.record, {' + '.join(_RUN_COUNT for _ in runs)} AS score, NULL"
            column_params = [value for run in runs for value in (run, len(run), run, len(run))]
        else:
            order = BY_PRIORITY if request.sort == "priority" else BY_DATE
            columns = "d.record, NULL, NULL"
    return CompiledSearch(
        page_sql=f"SELECT {columns} {base} ORDER BY {order} LIMIT ? OFFSET ?",
        page_params=[*column_params, *params, request.size, request.offset],
        matching_sql=f"SELECT d.rowid {base}",
        matching_params=params,
    )


# Occurrences of a run (parameters: run, its length, run, its length), in the title twice over.
_RUN_COUNT = (
    f"({TITLE_WEIGHT} * (length(d.title) - length(replace(d.title, ?, ''))) / ?"
    f" + {TEXT_WEIGHT} * (length(d.text) - length(replace(d.text, ?, ''))) / ?)"
)


def total_sql(matching_sql: str) -> str:
    return f"WITH matching(rowid) AS ({matching_sql}) SELECT COUNT(*) FROM matching"


def domain_facet_sql(matching_sql: str) -> str:
    return (
        f"WITH matching(rowid) AS ({matching_sql}) SELECT label, COUNT(*) AS n FROM doc_domains"
        " WHERE doc_rowid IN (SELECT rowid FROM matching) GROUP BY label ORDER BY n DESC, label"
    )


def language_facet_sql(matching_sql: str) -> str:
    """Parameters: the matching ones, then the facet size. Documents of no known language are not counted."""
    return (
        f"WITH matching(rowid) AS ({matching_sql}) SELECT language, COUNT(*) AS n FROM documents"
        " WHERE rowid IN (SELECT rowid FROM matching) AND language != '' GROUP BY language ORDER BY n DESC, language LIMIT ?"
    )


def entity_facet_sql(matching_sql: str) -> str:
    """Parameters: the matching ones, then the label and the facet size. Counts reports, not mentions."""
    return (
        f"WITH matching(rowid) AS ({matching_sql}) SELECT MIN(normalized), COUNT(DISTINCT doc_rowid) AS n"
        " FROM doc_entities WHERE label = ? AND doc_rowid IN (SELECT rowid FROM matching)"
        " GROUP BY key ORDER BY n DESC, key LIMIT ?"
    )


def filter_clauses(request: SearchRequest) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if request.domains:
        marks = ", ".join("?" for _ in request.domains)
        where.append(f"d.rowid IN (SELECT doc_rowid FROM doc_domains WHERE label IN ({marks}))")
        params += list(request.domains)
    for entity in request.entities:
        where.append("d.rowid IN (SELECT doc_rowid FROM doc_entities WHERE label = ? AND key = ?)")
        params += [entity.label, entity_key(normalize_entity(entity.label, entity.value))]
    if request.sources:
        where.append(f"d.source IN ({', '.join('?' for _ in request.sources)})")
        params += list(request.sources)
    if request.published_from:
        where.append("d.published >= ?")
        params.append(request.published_from.isoformat())
    if request.published_to:
        where.append("d.published <= ?")
        params.append(request.published_to.isoformat())
    if request.reviewed is not None:
        where.append("d.reviewed_at IS NOT NULL" if request.reviewed else "d.reviewed_at IS NULL")
    if request.reliability:
        where.append(f"d.reliability IN ({', '.join('?' for _ in request.reliability)})")
        params += list(request.reliability)
    if request.credibility:
        where.append(f"d.credibility IN ({', '.join('?' for _ in request.credibility)})")
        params += list(request.credibility)
    if request.languages:
        where.append(f"d.language IN ({', '.join('?' for _ in request.languages)})")
        params += list(request.languages)
    return where, params
