"""A SearchRequest compiled to SQLite SQL for the embedded index (kunlun_nlp.index.embedded).

Query words only ever reach FTS5 as quoted string literals (joined by the AND, OR, NOT and prefix
`*` this module writes), and every value is a bound parameter: no user input becomes SQL or FTS5
syntax. A word in an ideographic script is matched by instr() instead (FTS5's tokenizer keeps a
run of ideographs as one token), so a query with one becomes SQL conditions beside the match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.request import Clause, QueryText, SearchRequest
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
    # Every match as (rowid, score or NULL), in the page's order: an export's walk.
    ordered_sql: str
    ordered_params: list[Any]
    # Every matching document's rowid: the scope of the total and the facets.
    matching_sql: str
    matching_params: list[Any]
    # The FTS5 expression that marks matches in snippets: every wanted word, phrase and prefix;
    # None without any.
    match: str | None


@dataclass(frozen=True)
class TextQuery:
    """Query text as the embedded index matches it."""

    # What every hit matches in full-text terms (bm25 ranks by it); None when nothing does.
    match: str | None
    # SQL conditions FTS5 cannot express with it: runs of ideographs, exclusions with no match.
    where: list[str]
    params: list[Any]
    runs: tuple[str, ...]  # the wanted runs of ideographs (they score a query with no match)
    highlight: str | None  # snippets' marks (CompiledSearch.match)
    reads_bodies: bool  # the conditions read the title and text (`bodies b`)


def fts_match_expression(query: QueryText) -> str:
    """The FTS5 expression of a query without words in an ideographic script (those are SQL
    conditions: text_query); "" for none."""
    return text_query(query).match or ""


def text_query(query: QueryText) -> TextQuery:
    """Each group of alternatives becomes an FTS5 OR of them within one expression ANDed, and the
    exclusions its NOT; a group with a run of ideographs among its alternatives, and exclusions
    without any wanted words to subtract from, become SQL conditions instead."""
    matched: list[str] = []
    where: list[str] = []
    params: list[Any] = []
    runs: list[str] = []
    marked: list[str] = []
    for group in query.groups:
        alternatives = [clause.parts() for clause in group]
        parts = [part for alternative in alternatives for part in alternative]
        marked += [_fts_clause(part) for part in parts if not part.is_run]
        runs += [part.words[0] for part in parts if part.is_run]
        if len(alternatives) == 1:  # its words in the match, its runs in SQL
            matched += [_fts_clause(part) for part in parts if not part.is_run]
            for part in parts:
                if part.is_run:
                    where.append(_RUN_IN)
                    params += [part.words[0], part.words[0]]
        elif not any(part.is_run for part in parts):
            matched.append(_fts_any([_fts_all(map(_fts_clause, alternative)) for alternative in alternatives]))
        else:
            sql, values = _sql_any(alternatives)
            where.append(sql)
            params += values
    negated = [clause.parts() for clause in query.excluded]
    words_only = [parts for parts in negated if not any(part.is_run for part in parts)]
    excluded = _fts_any([_fts_all(map(_fts_clause, parts)) for parts in words_only]) if words_only else None
    match = _fts_all(matched) if matched else None
    if match and excluded:
        match = f"({match}) NOT {excluded}"
    elif excluded:  # nothing to subtract from in FTS5 (its NOT needs a left side): every other row
        where.append(f"d.rowid NOT IN ({_FTS_ROWIDS})")
        params.append(excluded)
    for parts in negated:
        if parts not in words_only:
            sql, values = _sql_all(parts)
            where.append(f"NOT {sql}")
            params += values
    return TextQuery(
        match=match,
        where=where,
        params=params,
        runs=tuple(dict.fromkeys(runs)),
        highlight=_fts_any(list(dict.fromkeys(marked))) if marked else None,
        reads_bodies=bool(runs) or any(part.is_run for parts in negated for part in parts),
    )


def _fts_clause(clause: Clause) -> str:
    """A word, phrase or prefix as an FTS5 string literal: FTS5 reads nothing inside it."""
    return _fts_string(" ".join(clause.words)) + (" *" if clause.prefix else "")


def _fts_all(expressions: Iterable[str]) -> str:
    parts = list(expressions)
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def _fts_any(expressions: list[str]) -> str:
    return expressions[0] if len(expressions) == 1 else "(" + " OR ".join(expressions) + ")"


def _sql_all(parts: tuple[Clause, ...]) -> tuple[str, list[Any]]:
    """A clause's parts as one SQL condition (the words through a full-text subquery)."""
    conditions, params = [], []
    words = [part for part in parts if not part.is_run]
    if words:
        conditions.append(f"d.rowid IN ({_FTS_ROWIDS})")
        params.append(_fts_all(map(_fts_clause, words)))
    for part in parts:
        if part.is_run:
            conditions.append(_RUN_IN)
            params += [part.words[0], part.words[0]]
    return "(" + " AND ".join(conditions) + ")", params


def _sql_any(alternatives: list[tuple[Clause, ...]]) -> tuple[str, list[Any]]:
    conditions, params = [], []
    for parts in alternatives:
        sql, values = _sql_all(parts)
        conditions.append(sql)
        params += values
    return "(" + " OR ".join(conditions) + ")", params


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def compile_search(request: SearchRequest) -> CompiledSearch:
    text = text_query(request.query)
    filters, filter_params = filter_clauses(request)
    where, params = [*text.where, *filters], [*text.params, *filter_params]
    bodies = " JOIN bodies b ON b.rowid = d.rowid" if text.reads_bodies else ""
    column_params: list[Any] = []
    order = {"date": BY_DATE, "priority": BY_PRIORITY}.get(request.sort, BY_SCORE)
    match = text.match
    if match:
        conditions = " AND ".join(["documents_fts MATCH ?", *where])
        base = f"FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid{bodies} WHERE {conditions}"
        params = [match, *params]
        # bm25() is lower-is-better; negated so that a higher score is a better hit, as on the engine
        score = f"-bm25(documents_fts, {TITLE_WEIGHT}, {TEXT_WEIGHT})"
    else:
        base = f"FROM documents d{bodies}" + (" WHERE " + " AND ".join(where) if where else "")
        if text.runs:  # scored by how often the runs occur, title occurrences counting double
            score = " + ".join(_RUN_COUNT for _ in text.runs)
            column_params = [value for run in text.runs for value in (run, len(run), run, len(run))]
        else:  # no text, or exclusions only: a filter, in date (or priority) order
            order = BY_PRIORITY if request.sort == "priority" else BY_DATE
            score = "NULL"
    matching = f"SELECT d.rowid {base}"
    ordered = f"SELECT d.rowid AS hit, {score} AS score {base} ORDER BY {order}"
    if match and not where:  # words alone: the full-text index answers without a row of `documents` read
        fts_only = "FROM documents_fts WHERE documents_fts MATCH ?"
        matching = f"SELECT rowid {fts_only}"
        if order == BY_SCORE:
            ordered = f"SELECT rowid AS hit, {score} AS score {fts_only} ORDER BY {order}"
    return CompiledSearch(
        page_sql=f"{ordered} LIMIT ? OFFSET ?",
        page_params=[*column_params, *params, request.size, request.offset],
        ordered_sql=ordered,
        ordered_params=[*column_params, *params],
        matching_sql=matching,
        matching_params=params,
        match=text.highlight,
    )


_FTS_ROWIDS = "SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?"
# A run of ideographs in the title or the text (parameters: the run, twice).
_RUN_IN = "(instr(b.title, ?) > 0 OR instr(b.text, ?) > 0)"
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
    if request.subtypes:
        where.append(f"d.rowid IN (SELECT doc_rowid FROM doc_subtypes WHERE label IN ({', '.join('?' for _ in request.subtypes)}))")
        params += list(request.subtypes)
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
