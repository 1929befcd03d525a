"""A SearchRequest compiled to SQLite SQL for the embedded index (kunlun_nlp.index.embedded).

Query text only ever reaches FTS5 as quoted string literals, and every value is a bound
parameter: no user input becomes SQL or FTS5 syntax.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.request import QueryText, SearchRequest
from kunlun_nlp.search.results import MATCH_END, MATCH_START
from kunlun_nlp.vocabulary import DOMAIN_LABELS

TITLE_WEIGHT, TEXT_WEIGHT = 2.0, 1.0
SNIPPET_TOKENS = 24
# The id breaks ties last, so that pages never overlap or skip a report. Each order has an index
# on these very expressions (embedded._SCHEMA), so a page of a long list is read, not sorted.
BY_DATE = "d.published IS NULL, d.published DESC, d.ingested_at DESC, d.id"
BY_PRIORITY = "d.priority IS NULL, d.priority DESC, " + BY_DATE
# By relevance the rowid breaks ties (as unique as the id): words alone are then ranked by the
# full-text index without reading a row of `documents` per match (a quarter of the time).
BY_SCORE = "score DESC, hit"  # hit: the page's rowid column


@dataclass(frozen=True)
class CompiledSearch:
    # One page of (rowid, score or NULL), in order: small columns only, no stored record is read.
    page_sql: str
    page_params: list[Any]
    # Every matching document's rowid: the scope of the total and the facets.
    matching_sql: str
    matching_params: list[Any]
    # The FTS5 expression of the query words, for snippets; None without words.
    match: str | None


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
        where.append("(instr(b.title, ?) > 0 OR instr(b.text, ?) > 0)")
        params += [run, run]
    bodies = " JOIN bodies b ON b.rowid = d.rowid" if runs else ""
    column_params: list[Any] = []
    order = {"date": BY_DATE, "priority": BY_PRIORITY}.get(request.sort, BY_SCORE)
    match = None
    if not words.is_empty:
        match = fts_match_expression(words)
        conditions = " AND ".join(["documents_fts MATCH ?", *where])
        base = f"FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid{bodies} WHERE {conditions}"
        params = [match, *params]
        # bm25() is lower-is-better; negated so that a higher score is a better hit, as on the engine
        score = f"-bm25(documents_fts, {TITLE_WEIGHT}, {TEXT_WEIGHT})"
    else:
        base = f"FROM documents d{bodies}" + (" WHERE " + " AND ".join(where) if where else "")
        if runs:  # scored by how often the runs occur, title occurrences counting double
            score = " + ".join(_RUN_COUNT for _ in runs)
            column_params = [value for run in runs for value in (run, len(run), run, len(run))]
        else:
            order = BY_PRIORITY if request.sort == "priority" else BY_DATE
            score = "NULL"
    matching = f"SELECT d.rowid {base}"
    page = f"SELECT d.rowid AS hit, {score} AS score {base} ORDER BY {order} LIMIT ? OFFSET ?"
    if match and not where:  # words alone: the full-text index answers without a row of `documents` read
        fts_only = "FROM documents_fts WHERE documents_fts MATCH ?"
        matching = f"SELECT rowid {fts_only}"
        if order == BY_SCORE:
            page = f"SELECT rowid AS hit, {score} AS score {fts_only} ORDER BY {order} LIMIT ? OFFSET ?"
    return CompiledSearch(
        page_sql=page,
        page_params=[*column_params, *params, request.size, request.offset],
        matching_sql=matching,
        matching_params=params,
        match=match,
    )


# Occurrences of a run (parameters: run, its length, run, its length), in the title twice over.
_RUN_COUNT = (
    f"({TITLE_WEIGHT} * (length(b.title) - length(replace(b.title, ?, ''))) / ?"
    f" + {TEXT_WEIGHT} * (length(b.text) - length(replace(b.text, ?, ''))) / ?)"
)


def total_sql(matching_sql: str) -> str:
    """Parameters: the matching ones, then the most to count (request.TOTAL_HITS_CAP + 1)."""
    return f"SELECT COUNT(*) FROM ({matching_sql} LIMIT ?)"


def snippets_sql(rowids: int) -> str:
    """Parameters: the FTS5 expression, then `rowids` rowids: (rowid, marked fragment) of each."""
    marks = ", ".join("?" for _ in range(rowids))
    return (
        f"SELECT rowid, snippet(documents_fts, 1, '{MATCH_START}', '{MATCH_END}', '…', {SNIPPET_TOKENS})"
        f" FROM documents_fts WHERE documents_fts MATCH ? AND rowid IN ({marks})"
    )


def domain_bits(labels: Iterable[str]) -> int:
    """A set of domains as the bits of documents.domain_bits: testing it reads no other table."""
    return sum(1 << DOMAIN_LABELS.index(label) for label in set(labels))


def domain_bits_sql(label_column: str) -> str:
    """SQL for the bit of the domain named in `label_column` (0 for an unknown name)."""
    cases = " ".join(f"WHEN '{label}' THEN {1 << i}" for i, label in enumerate(DOMAIN_LABELS))
    return f"CASE {label_column} {cases} ELSE 0 END"


def filter_clauses(request: SearchRequest) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if request.domains:
        where.append("(d.domain_bits & ?) != 0")
        params.append(domain_bits(request.domains))
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
