"""Search request parsing and validation, the FTS5 match expression, and entity normalisation."""

from __future__ import annotations

import re
import sqlite3
from datetime import date

import pytest

from kunlun_nlp.index.embedded import fts_match_expression
from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.request import (
    MAX_QUERY_CHARS,
    EntityFilter,
    InvalidSearchRequest,
    QueryText,
    SearchRequest,
    parse_query_text,
)

NASTY = 'food* OR title:"x" -y NEAR(a b) ) ( AND'
_PLAIN_WORD = re.compile(r"^\w+$")


# -- parse_query_text -------------------------------------------------------------------------------


def test_plain_terms():
    q = parse_query_text("counterfeit  infant formula")
    assert q.terms == ("counterfeit", "infant", "formula")
    assert q.phrases == ()
    assert not q.is_empty


def test_quoted_phrases_are_split_into_words():
    q = parse_query_text('seized "waste cooking oil" in "Luoyang, Henan"')
    assert q.terms == ("seized", "in")
    assert q.phrases == (("waste", "cooking", "oil"), ("Luoyang", "Henan"))


def test_operators_and_punctuation_dropped():
    q = parse_query_text(NASTY)
    # Only the words are left; operator keywords survive only as plain words, to be quoted later.
    assert q.terms == ("food", "OR", "title", "y", "NEAR", "a", "b", "AND")
    assert q.phrases == (("x",),)
    for word in q.terms + tuple(w for p in q.phrases for w in p):
        assert _PLAIN_WORD.match(word), word


def test_empty_and_punctuation_only_queries():
    assert parse_query_text("").is_empty
    assert parse_query_text('*** () "" - : ^').is_empty
    assert parse_query_text('""').phrases == ()


def test_unclosed_quote_and_unicode_words():
    q = parse_query_text('"unclosed phrase Müller 假酒')
    assert q.phrases == ()
    assert q.terms == ("unclosed", "phrase", "Müller", "假酒")


# -- fts_match_expression ---------------------------------------------------------------------------


def test_fts_expression_quotes_every_term_exactly():
    assert fts_match_expression(parse_query_text(NASTY)) == '"food" "OR" "title" "y" "NEAR" "a" "b" "AND" "x"'


def test_fts_expression_phrase_is_one_string():
    assert fts_match_expression(parse_query_text('fake "branded liquor" sold')) == '"fake" "sold" "branded liquor"'


def test_fts_expression_escapes_double_quotes():
    query = QueryText(terms=('a"b', 'OR"'), phrases=(("x", 'y"'),))
    assert fts_match_expression(query) == '"a""b" "OR""" "x y"""'


def test_fts_expression_empty():
    assert fts_match_expression(QueryText()) == ""


@pytest.mark.parametrize(
    "query",
    [
        parse_query_text(NASTY),
        parse_query_text('NOT AND OR * ^ : "NEAR(" {col1 col2}: +-'),
        QueryText(terms=('a"b', ")", "NEAR(a", "*"), phrases=(('"', "OR"),)),
    ],
)
def test_fts_expression_is_valid_fts5_and_matches_literally(query):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(title, body)")
    db.execute("INSERT INTO t VALUES ('x', 'food or title y near a b and x')")
    # Must not raise an FTS5 syntax error whatever the user typed.
    rows = db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (fts_match_expression(query),)).fetchone()
    assert rows[0] in (0, 1)
    db.close()


def test_fts_expression_keyword_terms_are_literals():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    db.execute("INSERT INTO t VALUES ('pork seized')")
    db.execute("INSERT INTO t VALUES ('pork or beef')")
    expr = fts_match_expression(parse_query_text("pork OR beef"))
    # As an FTS5 operator, OR would match both rows; as a quoted literal every word must be present.
    rows = db.execute("SELECT body FROM t WHERE t MATCH ?", (expr,)).fetchall()
    assert rows == [("pork or beef",)]
    db.close()


# -- SearchRequest validation --------------------------------------------------------------------------


def test_valid_request_parses_query_and_offset():
    req = SearchRequest(text='fake "baby formula"', domains=("FOOD",), page=3, size=20)
    assert req.query == QueryText(terms=("fake",), phrases=(("baby", "formula"),))
    assert req.offset == 40


def test_largest_window_allowed():
    assert SearchRequest(page=100, size=100).offset == 9_900
    SearchRequest(text="x" * MAX_QUERY_CHARS)
    SearchRequest(published_from=date(2024, 1, 1), published_to=date(2024, 1, 1))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"domains": ("FOOD", "NARCOTICS")}, "NARCOTICS"),
        ({"domains": ("food",)}, "unknown domain"),
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"size": 0}, "size"),
        ({"size": 101}, "size"),
        ({"page": 101, "size": 100}, "10000"),
        ({"page": 1001, "size": 10}, "10000"),
        ({"published_from": date(2024, 5, 2), "published_to": date(2024, 5, 1)}, "published_from"),
        ({"text": "x" * (MAX_QUERY_CHARS + 1)}, "1000"),
        ({"sort": "newest"}, "sort"),
        ({"facet_size": 0}, "facet_size"),
    ],
)
def test_invalid_requests(kwargs, fragment):
    with pytest.raises(InvalidSearchRequest) as info:
        SearchRequest(**kwargs)
    message = str(info.value)
    assert message
    assert fragment in message


def test_invalid_search_request_is_value_error():
    with pytest.raises(ValueError):
        SearchRequest(size=0)


# -- EntityFilter.parse ----------------------------------------------------------------------------------


def test_entity_filter_ok():
    f = EntityFilter.parse("ORG:Ministry of Public Security")
    assert (f.label, f.value) == ("ORG", "Ministry of Public Security")


def test_entity_filter_label_case_and_value_whitespace():
    f = EntityFilter.parse(" loc :  Lagos  ")
    assert (f.label, f.value) == ("LOC", "Lagos")


def test_entity_filter_value_may_contain_colon():
    assert EntityFilter.parse("LAW:18 U.S.C.: 2320").value == "18 U.S.C.: 2320"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("ORG", "LABEL:value"),
        ("ORG:  ", "LABEL:value"),
        ("XX:y", "unknown entity label"),
    ],
)
def test_entity_filter_errors(spec, fragment):
    with pytest.raises(InvalidSearchRequest) as info:
        EntityFilter.parse(spec)
    assert fragment in str(info.value)


# -- normalize_entity / entity_key --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "text", "expected"),
    [
        ("ORG", "Shenzhen Huaxin Trading Co., Ltd.", "Shenzhen Huaxin Trading"),
        ("ORG", "Acme Inc.", "Acme"),
        ("ORG", "the Ministry of Public Security's", "Ministry of Public Security"),
        ("ORG", "Westgate Pacific Imports LLC", "Westgate Pacific Imports"),
        ("ORG", "Brennar Therapeutics India Pvt. Ltd.", "Brennar Therapeutics India"),
        ("ORG", "Jiangsu Ruitai Fine Chemical Co., Ltd.", "Jiangsu Ruitai Fine Chemical"),
        ("ORG", "  “Oduya   Agro Export Ltd.”  ", "Oduya Agro Export"),
        ("ORG", "Ltd.", "Ltd"),  # a bare suffix is not stripped to nothing
        ("LOC", "the Netherlands", "Netherlands"),
        ("MONEY", "the  $31.2 million", "the $31.2 million"),  # other labels: only tidied
    ],
)
def test_normalize_entity(label, text, expected):
    assert normalize_entity(label, text) == expected


def test_entity_key_folds_case_and_spaces():
    assert entity_key("Ministry of  Public Security") == entity_key("MINISTRY OF PUBLIC SECURITY")
    assert entity_key("Straße") == entity_key("STRASSE")
    assert entity_key(" Lagos ") == "lagos"
    assert entity_key("Lagos") != entity_key("Lagos State")
