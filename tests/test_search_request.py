"""Search request parsing and validation (the typed request, and the raw parameters the API and
the CLI share), the FTS5 match expression, and entity normalisation."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date

import pytest

from kunlun_nlp.index.embedded_query import fts_match_expression
from kunlun_nlp.index.engine_query import build_search_body
from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.search.parse import QUEUE_PARAMS, SEARCH_PARAMS, parse_search_params
from tests.keys import authorize
from kunlun_nlp.search.request import (
    MAX_QUERY_CHARS,
    TOTAL_HITS_CAP,
    Clause,
    EntityFilter,
    InvalidSearchRequest,
    QueryText,
    SearchRequest,
    parse_query_text,
)

NASTY = 'food* OR title:"x" -y NEAR(a b) ) ( AND'
_PLAIN_WORD = re.compile(r"^\w+$")


# -- parse_query_text -------------------------------------------------------------------------------


def w(*words: str) -> Clause:
    """A word, or a phrase of several."""
    return Clause(words)


def prefix(word: str) -> Clause:
    return Clause((word,), prefix=True)


def test_plain_words_must_all_match():
    q = parse_query_text("counterfeit  infant formula")
    assert q == QueryText(groups=((w("counterfeit"),), (w("infant"),), (w("formula"),)))
    assert q.positive and not q.is_empty


def test_quoted_phrases_keep_their_words_in_order():
    q = parse_query_text('seized "waste cooking oil" in "Luoyang, Henan"')
    assert q.groups == ((w("seized"),), (w("waste", "cooking", "oil"),), (w("in"),), (w("Luoyang", "Henan"),))


def test_or_joins_its_neighbours_and_binds_before_the_other_words():
    assert parse_query_text("heroin OR cocaine port").groups == ((w("heroin"), w("cocaine")), (w("port"),))
    assert parse_query_text('port heroin OR "crystal meth" OR ice*').groups == (
        (w("port"),), (w("heroin"), w("crystal", "meth"), prefix("ice")),
    )
    assert parse_query_text("a OR b c OR d").groups == ((w("a"), w("b")), (w("c"), w("d")))


def test_lower_case_or_is_a_plain_word():
    assert parse_query_text("heroin or cocaine").groups == ((w("heroin"),), (w("or"),), (w("cocaine"),))
    assert parse_query_text("heroin Or cocaine").groups == ((w("heroin"),), (w("Or"),), (w("cocaine"),))


def test_exclusions_of_words_phrases_and_prefixes():
    q = parse_query_text('honey -fake -"rice syrup" -adulter*')
    assert q.groups == ((w("honey"),),)
    assert q.excluded == (w("fake"), w("rice", "syrup"), prefix("adulter"))


def test_exclusions_alone_are_a_filter_not_an_empty_query():
    q = parse_query_text("-fake -honey")
    assert q == QueryText(excluded=(w("fake"), w("honey"))) and not q.is_empty and not q.positive


def test_a_prefix_needs_two_characters_before_the_star():
    assert parse_query_text("counterf* ab** p*").groups == ((prefix("counterf"),), (prefix("ab"),), (w("p"),))


def test_a_run_of_characters_with_several_words_is_a_phrase_of_them():
    assert parse_query_text("covid-19 OR e-mail").groups == ((w("covid", "19"), w("e", "mail")),)
    assert parse_query_text("-covid-19 foo*bar").excluded == (w("covid", "19"),)
    assert parse_query_text("-covid-19 foo*bar").groups == ((w("foo", "bar"),),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OR", QueryText()),
        ("-", QueryText()),
        ("*", QueryText()),
        ('""', QueryText()),
        ('-""', QueryText()),
        ("- * OR --", QueryText()),
        ('"unclosed phrase', QueryText(groups=((w("unclosed"),), (w("phrase"),)))),
        ('-"unclosed', QueryText(groups=((w("unclosed"),),))),
        ("--x", QueryText(groups=((w("x"),),))),
        ("a OR", QueryText(groups=((w("a"),),))),
        ("OR a", QueryText(groups=((w("a"),),))),
        ("a OR OR b", QueryText(groups=((w("a"), w("b")),))),
        ("a OR * b", QueryText(groups=((w("a"), w("b")),))),
        ("a OR -b c", QueryText(groups=((w("a"),), (w("c"),)), excluded=(w("b"),))),
        ("-a OR b", QueryText(groups=((w("b"),),), excluded=(w("a"),))),
        ("a OR a", QueryText(groups=((w("a"),),))),
        ("a a", QueryText(groups=((w("a"),),))),
        ('a"b', QueryText(groups=((w("a"),), (w("b"),)))),  # a lone quote is dropped
    ],
)
def test_odd_input_degrades_to_its_plain_words(text, expected):
    assert parse_query_text(text) == expected


def test_no_backend_syntax_survives():
    q = parse_query_text(NASTY)
    assert q.groups == (
        (prefix("food"), w("title")), (w("x"),), (w("NEAR", "a"),), (w("b"),), (w("AND"),),
    )
    assert q.excluded == (w("y"),)
    for clause in (*[c for group in q.groups for c in group], *q.excluded):
        for word in clause.words:
            assert _PLAIN_WORD.match(word), word


def test_words_in_an_ideographic_script_are_matched_as_runs():
    assert Clause(("驻马店",)).is_run and not Clause(("honey",)).is_run
    assert Clause(("驻马店",), prefix=True).parts() == (Clause(("驻马店",)),)  # a run matches anywhere: no prefix
    assert Clause(("瘦肉精", "生猪", "fake")).parts() == (w("瘦肉精"), w("生猪"), w("fake"))  # each word, all required
    assert Clause(("fake", "oil")).parts() == (w("fake", "oil"),)


# -- the FTS5 expression (embedded index) -------------------------------------------------------------


def test_fts_expression_of_each_construct():
    assert fts_match_expression(parse_query_text('fake "branded liquor" sold')) == '("fake" AND "branded liquor" AND "sold")'
    assert fts_match_expression(parse_query_text("heroin OR cocaine port")) == '(("heroin" OR "cocaine") AND "port")'
    assert fts_match_expression(parse_query_text('honey -fake -"rice syrup" adulter*')) == (
        '(("honey" AND "adulter" *)) NOT ("fake" OR "rice syrup")'
    )


def test_fts_expression_escapes_double_quotes():
    query = QueryText(groups=((w('a"b'), w('OR"')),), excluded=(w("x", 'y"'),))
    assert fts_match_expression(query) == '(("a""b" OR "OR""")) NOT "x y"""'


def test_fts_expression_empty():
    assert fts_match_expression(QueryText()) == ""
    assert fts_match_expression(parse_query_text("-fake")) == ""  # exclusions alone: SQL around FTS5 (its NOT needs a left side)


@pytest.mark.parametrize(
    "query",
    [
        parse_query_text(NASTY),
        parse_query_text('NOT AND OR * ^ : "NEAR(" {col1 col2}: +- x* -y* "a b"*'),
        QueryText(groups=((w('a"b'), w(")")), (w("NEAR(a"),), (prefix("*"),)), excluded=(w('"', "OR"), prefix(")"))),
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


def test_fts_expression_does_what_the_syntax_says():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    for body in ("pork seized", "pork or beef", "beef stew", "porkchop sold", "fish"):
        db.execute("INSERT INTO t VALUES (?)", (body,))

    def found(text: str) -> set[str]:
        return {body for (body,) in db.execute("SELECT body FROM t WHERE t MATCH ?", (fts_match_expression(parse_query_text(text)),))}

    assert found("pork OR beef") == {"pork seized", "pork or beef", "beef stew"}
    assert found("pork or beef") == {"pork or beef"}  # lower-case or: a word like any other
    assert found("pork -beef") == {"pork seized"}
    assert found('beef -"beef stew"') == {"pork or beef"}
    assert found("pork*") == {"pork seized", "pork or beef", "porkchop sold"}
    assert found("pork* -seized -or") == {"porkchop sold"}
    assert found('"pork or"') == {"pork or beef"}
    db.close()


# -- the engine's query ---------------------------------------------------------------------------------


def test_engine_query_of_each_construct():
    def text_match(query: str, kind: str) -> dict:
        operator = {} if kind == "phrase" else {"operator": "and"}
        return {"multi_match": {"query": query, "fields": ["title^2", "text"], "type": kind, **operator}}

    plain = build_search_body(SearchRequest(text="fake honey"))
    assert plain["query"]["bool"]["must"] == [text_match("fake honey", "cross_fields")]  # plain words: one query, as before
    body = build_search_body(SearchRequest(text='heroin OR "crystal meth" port -fake -"rice syrup" adulter*'))
    query = body["query"]["bool"]
    assert query["must"] == [
        text_match("port", "cross_fields"),
        {"bool": {"should": [text_match("heroin", "cross_fields"), text_match("crystal meth", "phrase")], "minimum_should_match": 1}},
        text_match("adulter", "bool_prefix"),
    ]
    assert query["must_not"] == [text_match("fake", "cross_fields"), text_match("rice syrup", "phrase")]
    assert body["sort"][0] == "_score" and body["track_scores"] and "highlight" in body
    only_excluded = build_search_body(SearchRequest(text="-fake"))
    assert only_excluded["query"]["bool"]["must"] == [{"match_all": {}}]
    assert only_excluded["query"]["bool"]["must_not"] == [text_match("fake", "cross_fields")]
    assert only_excluded["sort"] == build_search_body(SearchRequest())["sort"]  # no score: by date, as without text
    assert "highlight" not in only_excluded and "track_scores" not in only_excluded
    assert "query_string" not in json.dumps(build_search_body(SearchRequest(text=NASTY)))


# -- SearchRequest validation --------------------------------------------------------------------------


def test_valid_request_parses_query_and_offset():
    req = SearchRequest(text='fake "baby formula"', domains=("FOOD",), page=3, size=20)
    assert req.query == QueryText(groups=((w("fake"),), (w("baby", "formula"),)))
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
        ({"interval": "day"}, "interval must be one of week, month"),
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


# -- parse_search_params: the raw parameters of the API and the CLI ------------------------------------


def test_no_parameters_is_the_default_request():
    assert parse_search_params({}) == SearchRequest()
    assert parse_search_params({}, queue=True) == SearchRequest(reviewed=False, sort="priority")


def test_every_parameter_parsed_and_tidied():
    request = parse_search_params(
        {
            "q": ['fake "baby formula"'],
            "domain": [" food", "medicine"],
            "subtype": ["food.adulteration "],
            "entity": ["org:Acme Inc.", "LOC: Lagos"],
            "source": ["wire", "ngo-watch"],
            "published_from": ["2024-01-01"],
            "published_to": ["2024-06-30"],
            "sort": ["date"],
            "page": ["3"],
            "size": ["20"],
            "facet_size": ["5"],
            "reviewed": ["false"],
            "reliability": ["a", " B "],
            "credibility": ["1", "2"],
            "facets": ["true"],
            "interval": [" Week"],
        }
    )
    assert request == SearchRequest(
        text='fake "baby formula"',
        domains=("FOOD", "MEDICINE"),
        subtypes=("FOOD.ADULTERATION",),
        entities=(EntityFilter("ORG", "Acme Inc."), EntityFilter("LOC", "Lagos")),
        sources=("wire", "ngo-watch"),
        published_from=date(2024, 1, 1),
        published_to=date(2024, 6, 30),
        sort="date",
        page=3,
        size=20,
        facet_size=5,
        reviewed=False,
        reliability=("A", "B"),
        credibility=(1, 2),
        facets=True,
        interval="week",
    )


def test_facets_only_when_asked_and_the_total_capped_on_the_engine():
    assert parse_search_params({}).facets is False and parse_search_params({"facets": "no"}).facets is False
    assert parse_search_params({"facets": "1"}, queue=True).facets is True  # the queue can ask too
    plain = build_search_body(parse_search_params({"q": "pork"}))
    assert "aggs" not in plain and plain["track_total_hits"] == TOTAL_HITS_CAP
    faceted = build_search_body(parse_search_params({"q": "pork", "facets": "true"}))
    nested = json.dumps(faceted["aggs"])
    assert set(faceted["aggs"]) == {
        "domains", "languages", "entities_ORG", "entities_LOC", "entities_PRODUCT", "subtypes", "sources", "published",
    }
    assert faceted["aggs"]["published"]["date_histogram"]["calendar_interval"] == "month"
    weekly = build_search_body(parse_search_params({"facets": "true", "interval": "week"}))
    assert weekly["aggs"]["published"]["date_histogram"]["calendar_interval"] == "week"
    assert '"nested"' not in nested and '"reverse_nested"' not in nested  # flat keyword fields only


def test_single_values_and_the_last_of_repeated_single_parameters():
    request = parse_search_params({"q": "pork", "domain": "FOOD", "page": ["1", "2"], "reviewed": "Yes"})
    assert (request.text, request.domains, request.page, request.reviewed) == ("pork", ("FOOD",), 2, True)


def test_unknown_parameters_are_named_with_the_known_ones():
    with pytest.raises(InvalidSearchRequest) as info:
        parse_search_params({"colour": ["red"], "q": ["x"], "Domain": ["FOOD"]})
    assert str(info.value) == f"unknown parameter(s) Domain, colour; known: {', '.join(sorted(SEARCH_PARAMS))}"


def test_queue_forces_unreviewed_by_priority_and_refuses_sort_and_reviewed():
    request = parse_search_params({"domain": ["FOOD"], "reliability": ["A"], "page": ["2"], "size": ["5"]}, queue=True)
    assert request == SearchRequest(domains=("FOOD",), reliability=("A",), page=2, size=5, reviewed=False, sort="priority")
    for name, value in (("sort", "date"), ("reviewed", "true")):
        with pytest.raises(InvalidSearchRequest) as info:
            parse_search_params({name: [value]}, queue=True)
        assert str(info.value).startswith(f"unknown parameter(s) {name}; known: ")
        assert ", ".join(sorted(QUEUE_PARAMS)) in str(info.value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": ["two"]}, "page: 'two' is not a whole number"),
        ({"page": ["0"]}, "page starts at 1"),
        ({"size": ["101"]}, "size must be between 1 and 100"),
        ({"size": ["1.5"]}, "size: '1.5' is not a whole number"),
        ({"facet_size": [""]}, "facet_size: '' is not a whole number"),
        ({"page": ["200"], "size": ["100"]}, "may not exceed 10000"),
        ({"published_from": ["2024-13-01"]}, "published_from: '2024-13-01' is not a date (YYYY-MM-DD)"),
        ({"published_to": ["yesterday"]}, "published_to: 'yesterday' is not a date"),
        ({"published_from": ["2024-05-01"], "published_to": ["2024-01-01"]}, "after published_to"),
        ({"reviewed": ["maybe"]}, "reviewed: 'maybe' is not true or false"),
        ({"facets": ["all"]}, "facets: 'all' is not true or false"),
        ({"sort": ["random"]}, "sort must be one of relevance, date, priority"),
        ({"interval": ["day"]}, "interval must be one of week, month"),
        ({"domain": ["WEAPONS"]}, "unknown domain 'WEAPONS'"),
        ({"subtype": ["FOOD.WEAPONS"]}, "unknown sub-type 'FOOD.WEAPONS'"),
        ({"entity": ["ORG"]}, "must look like LABEL:value"),
        ({"entity": ["SHIP:Ever Given"]}, "unknown entity label 'SHIP'"),
        ({"reliability": ["G"]}, "reliability 'G' is not a grade A-F"),
        ({"reliability": ["AB"]}, "reliability 'AB' is not a grade A-F"),
        ({"credibility": ["9"]}, "credibility 9 is not a grade 1-6"),
        ({"credibility": ["high"]}, "credibility: 'high' is not a whole number"),
        ({"q": ["x" * (MAX_QUERY_CHARS + 1)]}, "longer than 1000"),
    ],
)
def test_bad_values_are_refused_with_a_message(params, message):
    with pytest.raises(InvalidSearchRequest) as info:
        parse_search_params(params)
    assert message in str(info.value)


# -- the CLI and the API give the same answers ------------------------------------------------------------

# API query parameters → the same request through the CLI's options.
_SEARCHES = [
    {"q": "counterfeit", "size": "50"},
    {"domain": ["FOOD", "MEDICINE"], "sort": "date", "size": "50"},
    {"entity": "LOC:Lagos", "reliability": ["A", "B", "f"], "size": "50"},
    {"source": ["wire", "ministry"], "published_from": "2024-03-01", "published_to": "2024-09-30", "size": "50"},
    {"reviewed": "true"},
    {"reviewed": "false", "sort": "priority", "page": "2", "size": "5"},
    {"q": '"environmental protection"', "credibility": ["1", "6"], "facet_size": "2"},
]
_QUEUES = [
    {"size": "50"},
    {"domain": "ENVIRONMENT", "page": "2", "size": "3"},
    {"q": "seized", "credibility": ["2", "3", "6"], "source": ["wire", "customs-bulletin"], "published_from": "2024-02-01", "size": "20"},
]  # the CLI's queue shows 20 by default, the API's 10


def _cli_options(params: dict[str, str | list[str]]) -> list[str]:
    options: list[str] = []
    for name, values in params.items():
        for value in [values] if isinstance(values, str) else values:
            if name == "q":
                options.append(value)
            elif name == "reviewed":
                options.append("--reviewed" if value == "true" else "--unreviewed")
            elif name == "facets":
                options += ["--facets"] if value == "true" else []
            else:
                options += [f"--{name.replace('_', '-')}", value]
    return options


@pytest.fixture
def synthetic_data_dir(tmp_path, monkeypatch):
    """A data folder whose embedded index holds the synthetic corpus, two reports reviewed."""
    from datetime import datetime, timezone

    from kunlun_nlp.config import Settings
    from kunlun_nlp.index.embedded import EmbeddedIndex
    from kunlun_nlp.testing.synthetic import SEED_ID, synthetic_corpus

    for name in ("KUNLUN_ENGINE_URL", "KUNLUN_INDEX_NAME", "KUNLUN_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    index = EmbeddedIndex(Settings(data_dir=data_dir).embedded_index_path)
    corpus = synthetic_corpus()
    assert not index.put(corpus).failed
    for doc_id in (SEED_ID, corpus[4].id):
        index.mark_reviewed(doc_id, "ana", datetime(2026, 11, 29, tzinfo=timezone.utc))
    index.close()
    return data_dir


def test_cli_and_api_give_the_same_results(synthetic_data_dir, capsys):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from kunlun_cli.main import main
    from kunlun_nlp.config import Settings
    from kunlun_nlp.service import KunlunService

    def cli(command: str, params: dict) -> dict:
        assert main([command, "--json", *_cli_options(params), "--data-dir", str(synthetic_data_dir)]) == 0
        return json.loads(capsys.readouterr().out)

    app = create_app(KunlunService(Settings(data_dir=synthetic_data_dir)))
    with authorize(TestClient(app, base_url="http://localhost"), "reader") as client:
        for command, path, cases in (("search", "/search", _SEARCHES), ("triage", "/triage", _QUEUES)):
            for params in cases:
                response = client.get(path, params=params)
                assert response.status_code == 200, (path, params, response.text)
                api, by_cli = response.json(), cli(command, params)
                assert api["total"] > 0 and api["hits"], (path, params)
                assert [h["id"] for h in by_cli["hits"]] == [h["id"] for h in api["hits"]], (path, params)
                assert by_cli == api, (path, params)


def test_cli_and_api_refuse_the_same_bad_values(synthetic_data_dir, capsys):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from kunlun_cli.main import EXIT_USAGE, main
    from kunlun_nlp.config import Settings
    from kunlun_nlp.service import KunlunService

    app = create_app(KunlunService(Settings(data_dir=synthetic_data_dir)))
    with authorize(TestClient(app, base_url="http://localhost"), "reader") as client:
        for params, message in (
            ({"domain": "WEAPONS"}, "unknown domain 'WEAPONS'"),
            ({"entity": "SHIP:Ever Given"}, "unknown entity label 'SHIP'"),
            ({"reliability": "G"}, "reliability 'G' is not a grade A-F"),
            ({"page": "200", "size": "100"}, "may not exceed 10000"),
        ):
            response = client.get("/search", params=params)
            assert response.status_code == 422 and message in response.json()["detail"]
            assert main(["search", *_cli_options(params), "--data-dir", str(synthetic_data_dir)]) == EXIT_USAGE
            assert message in capsys.readouterr().err
        assert client.get("/triage", params={"sort": "date"}).status_code == 422
    with pytest.raises(SystemExit):  # the queue has no --sort, as /triage has no sort
        main(["triage", "--sort", "date", "--data-dir", str(synthetic_data_dir)])


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
