"""Language on intake: detected per document (py3langid), stored and filterable; a report in a
language the models do not read is indexed for its words, marked not tagged and named in the
ingest summary, with no domains, entities, cases or priority invented for it."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kunlun_nlp.config import Settings
from kunlun_nlp.document import Document, TaggedDocument, content_id
from kunlun_nlp.index.embedded import EmbeddedIndex
from kunlun_nlp.index.engine_query import build_search_body
from kunlun_nlp.models import find_model, shipped_models_dir
from kunlun_nlp.not_tagged import NotTaggedReports
from kunlun_nlp.pipeline import Pipeline, PipelineConfig
from kunlun_nlp.pipeline.config import PIPELINE_FILE, TRAINED_CONFIG, ZERO_SHOT_CONFIG
from kunlun_nlp.readers import read_file
from kunlun_nlp.records import tag_summary
from kunlun_nlp.search.parse import QUEUE_PARAMS, parse_search_params
from kunlun_nlp.search.request import InvalidSearchRequest, SearchRequest, parse_query_text
from tests.test_index_contract import write_layout_1
from kunlun_nlp.service import KunlunService
from tests.conftest import SAMPLE_REPORTS, SEED_PATH, SHARED_DATA
from tests.test_cli import run_cli
from tests.keys import authorize

CHINESE_TITLE = "驻马店警方破获“瘦肉精”生猪案 14人被抓"
CHINESE = (
    "河南省驻马店市公安局4月17日通报，警方会同市场监管部门捣毁一个使用“瘦肉精”喂养生猪的犯罪团伙，"
    "抓获犯罪嫌疑人14名，现场查获盐酸克伦特罗粉末3.2公斤、生猪186头。\n\n"
    "经查，该团伙自2023年以来将问题猪肉销往遂平、西平两县农贸市场，涉案金额达460余万元。"
    "目前，案件正在进一步侦办中。"
)
SPANISH_TITLE = "Intervenidos en Jaén 12.000 litros de aceite de oliva adulterado"
SPANISH = (
    "La Guardia Civil ha intervenido en Jaén más de 12.000 litros de aceite de oliva adulterado que se "
    "vendía como virgen extra. La operación, desarrollada junto a la Agencia de Información y Control "
    "Alimentarios, se ha saldado con cuatro detenidos, entre ellos el gerente de una almazara de Martos.\n\n"
    "Los agentes comprobaron que el aceite se mezclaba con aceite de girasol y clorofila antes de "
    "envasarse con etiquetas de una cooperativa de Úbeda."
)
# Short or mixed English that a detector could be tempted to call something else.
HARD_ENGLISH = [
    "Police seized fake honey.",
    "FDA warning letter: Kratom",
    "Guo Jianmin and Ren Xiaofeng of Zhumadian, Henan, were detained.",
    "Suspects: Juan García, José Pérez, María López (Jaén, Andalucía). Seized: 12,000 L olive oil.",
    "Brunello di Montalcino's trade council tipped off the Carabinieri about fake bottles.",
    "The Zhumadian Municipal Public Security Bureau (驻马店市公安局) said 14 suspects were detained after "
    "officers seized 3.2 kilograms of clenbuterol (瘦肉精) hidden in feed sacks in Suiping county.",
    "A survey conducted by the Administración Nacional de Medicamentos, Alimentos y Tecnología Médica "
    "found that a third of the honey sold in Buenos Aires was diluted with syrup.",
]
FOREIGN = {
    "zh": CHINESE,
    "es": SPANISH,
    "fr": "La gendarmerie a saisi 3 tonnes de viande avariée dans un entrepôt de Marseille. Le gérant a été placé en garde à vue.",
    "pt": "A Polícia Federal apreendeu 2 toneladas de medicamentos falsificados em um galpão em Campinas. Três pessoas foram presas.",
    "de": "Der Zoll hat am Hamburger Hafen gefälschte Markenuhren im Wert von zwei Millionen Euro sichergestellt.",
    "it": "I carabinieri del Nas hanno sequestrato 5 tonnellate di mozzarella contraffatta in un caseificio di Caserta.",
    "ru": "Сотрудники полиции изъяли более тонны фальсифицированного сливочного масла на складе в Подмосковье.",
    "ar": "ضبطت السلطات المختصة أكثر من طنين من الأغذية الفاسدة في مستودع بمدينة جدة، وتمت إحالة المتورطين إلى النيابة العامة.",
    "ja": "警察は大阪市内の倉庫で偽造されたブランド品約3000点を押収し、男2人を商標法違反の疑いで逮捕した。",
    "vi": "Cơ quan chức năng đã thu giữ hơn 2 tấn thực phẩm không rõ nguồn gốc tại một kho hàng ở Hà Nội.",
}


def foreign_reports() -> list[Document]:
    return [
        Document.create(CHINESE, title=CHINESE_TITLE, id="report-zh", source="henan-police"),
        Document.create(SPANISH, title=SPANISH_TITLE, id="report-es", source="guardia-civil"),
    ]


@pytest.fixture(scope="module")
def detect() -> Pipeline:
    """The language stage alone, as the shipped pipelines declare it."""
    (declared,) = [s for s in PipelineConfig.read(ZERO_SHOT_CONFIG).stages if s.stage == "language"]
    return Pipeline(PipelineConfig((declared,)))


@pytest.fixture(scope="module")
def shipped() -> Pipeline:
    return Pipeline.load(find_model(None, [shipped_models_dir()]))


def languages(pipeline: Pipeline, documents: list[Document]) -> dict[str, tuple[str, str | None]]:
    return {t.id: (t.document.language, t.not_tagged) for t in pipeline.tag(documents)}


def english_reports() -> list[Document]:
    """Real English reports, their given language taken away so that it is detected."""
    documents = [replace(d, language="") for d in read_file(SAMPLE_REPORTS)] + list(read_file(SEED_PATH))
    for name in ("realdev/realdev.jsonl", "realtrain/realtrain.jsonl", "realtrain2/realtrain2.jsonl"):
        if (SHARED_DATA / name).exists():
            documents += [replace(d, language="") for d in read_file(SHARED_DATA / name)]
    assert all(isinstance(d, Document) for d in documents)
    return documents


# -- the language stage -------------------------------------------------------------------------


def test_every_pipeline_declares_the_same_language_stage_before_the_models_read():
    shipped_config = find_model(None, [shipped_models_dir()]).path / PIPELINE_FILE
    declared = []
    for path in (ZERO_SHOT_CONFIG, TRAINED_CONFIG, shipped_config):
        names = [s.stage for s in PipelineConfig.read(path).stages]
        assert names.index("language") < names.index("report_text") < names.index("spacy_ner"), path
        declared += [s for s in PipelineConfig.read(path).stages if s.stage == "language"]
    assert len(declared) == 3 and declared[0] == declared[1] == declared[2]
    assert declared[0].settings["supported"] == ["en"]


def test_real_english_reports_stay_english(detect):
    documents = english_reports()
    assert len(documents) >= 35
    found = languages(detect, documents)
    assert {doc_id for doc_id, (language, _) in found.items() if language != "en"} == set()
    assert all(reason is None for _, reason in found.values())


def test_short_and_mixed_english_is_never_marked_foreign(detect):
    documents = [Document.create(text, id=f"hard-{i}") for i, text in enumerate(HARD_ENGLISH)]
    for doc_id, (language, reason) in languages(detect, documents).items():
        assert language in ("en", "") and reason is None, doc_id


@pytest.mark.parametrize("code", sorted(FOREIGN))
def test_other_languages_are_detected_and_not_tagged(detect, code):
    (tagged,) = detect.tag([Document.create(FOREIGN[code], id=code)])
    assert tagged.document.language == code
    assert tagged.not_tagged == f"language {code} is not supported by the models"


def test_a_language_given_on_intake_is_kept(detect):
    given = [
        Document.create(SPANISH, id="said-en", language="en"),  # the caller knows best
        Document.create(CHINESE, id="said-zh-hans", language="zh-Hans"),
        Document.create(HARD_ENGLISH[0], id="said-EN-gb", language="EN-gb"),
    ]
    assert languages(detect, given) == {
        "said-en": ("en", None),
        "said-zh-hans": ("zh", "language zh is not supported by the models"),
        "said-EN-gb": ("en", None),
    }


def test_too_little_text_is_of_unknown_language_and_tagged(detect):
    assert languages(detect, [Document.create("Aceite adulterado.", id="short")]) == {"short": ("", None)}


# -- through the real pipelines -----------------------------------------------------------------


def _assert_untagged(tagged: TaggedDocument, code: str) -> None:
    assert tagged.document.language == code
    assert tagged.not_tagged == f"language {code} is not supported by the models"
    assert tagged.domains == [] and tagged.domain_scores == [] and tagged.subtypes == [] and tagged.evidence == {}
    assert tagged.entities == [] and tagged.cases == [] and tagged.priority is None
    assert tagged.embedding == []
    summary = tag_summary(tagged)
    assert summary["language"] == code and summary["not_tagged"] == tagged.not_tagged
    assert summary["domains"] == [] and summary["entities"] == [] and summary["priority"] is None


@pytest.mark.parametrize("which", ["zero-shot", "shipped"])
def test_chinese_and_spanish_reports_get_nothing_invented(request, pipeline, which, seed_document):
    chosen = pipeline if which == "zero-shot" else request.getfixturevalue("shipped")
    zh, es, seed = chosen.tag([*foreign_reports(), seed_document])
    _assert_untagged(zh, "zh")
    _assert_untagged(es, "es")  # "Jaén" is no PERSON: nothing is read from it at all
    assert es.document.title == SPANISH_TITLE and es.document.source == "guardia-civil"
    assert seed.document.language == "en" and seed.not_tagged is None
    assert seed.entities and seed.embedding and seed.priority is not None  # tagged as before, beside them


def test_sample_reports_are_english_and_tagged(tagged_corpus):
    assert {t.document.language for t in tagged_corpus} == {"en"}
    assert all(t.not_tagged is None and t.embedding and t.priority is not None for t in tagged_corpus)


# -- stored and searched ------------------------------------------------------------------------


@pytest.fixture(params=["embedded", pytest.param("engine", marks=pytest.mark.engine)])
def index(request):
    return request.getfixturevalue(f"{request.param}_index")


def test_untagged_reports_are_indexed_and_found_by_their_words(index, pipeline, tagged_corpus):
    english = tagged_corpus[:3]
    foreign = pipeline.tag(foreign_reports())
    report = index.put([*english, *foreign])
    assert report.indexed == 5 and report.failed == {}
    stored = index.get("report-zh")
    assert stored.not_tagged and stored.document.language == "zh" and stored.entities == []

    def found(**filters) -> list[str]:
        return [h.id for h in index.search(SearchRequest(size=20, **filters)).hits]

    assert found(text="瘦肉精") == ["report-zh"]
    assert found(text="驻马店 生猪") == ["report-zh"]
    assert found(text="Jaén aceite") == ["report-es"]
    assert found(text="almazara", languages=("es",)) == ["report-es"]
    assert found(text="almazara", languages=("en",)) == []
    assert set(found(languages=("zh", "es"))) == {"report-zh", "report-es"}
    assert set(found(languages=("en",))) == {t.id for t in english}
    facet = {f.value: f.count for f in index.search(SearchRequest(size=1, facets=True)).facets.languages}
    assert facet == {"en": 3, "zh": 1, "es": 1}
    assert index.similar("report-es") == []


def test_embedded_index_made_before_languages_gains_the_column(tmp_path, tagged_corpus, pipeline):
    path = tmp_path / "old.sqlite3"
    write_layout_1(path, [tagged_corpus[0]], languages=False)  # an index file from before the language column
    upgraded = EmbeddedIndex(path)
    try:
        assert [h.id for h in upgraded.search(SearchRequest(languages=("en",))).hits] == [tagged_corpus[0].id]
        upgraded.put(pipeline.tag(foreign_reports()[:1]))
        assert [h.id for h in upgraded.search(SearchRequest(languages=("zh",))).hits] == ["report-zh"]
    finally:
        upgraded.close()


def test_ideographic_query_words_match_as_runs_of_characters():
    query = parse_query_text('驻马店 honey "瘦肉精 生猪" "fake oil"')
    parts = [part for group in query.groups for clause in group for part in clause.parts()]
    assert [p.words[0] for p in parts if p.is_run] == ["驻马店", "瘦肉精", "生猪"]
    assert [p.words for p in parts if not p.is_run] == [("honey",), ("fake", "oil")]
    clauses = build_search_body(SearchRequest(text="驻马店 honey"))["query"]["bool"]["must"]
    assert {"multi_match": {"query": "驻马店", "fields": ["title^2", "text"], "type": "phrase"}} in clauses
    assert not any(part.is_run for group in parse_query_text("Jaén aceite").groups for clause in group for part in clause.parts())


def test_language_filter_parameters():
    assert parse_search_params({"language": ["ZH", " en "]}).languages == ("zh", "en")
    assert parse_search_params({"language": "es"}, queue=True).languages == ("es",)
    assert "language" in QUEUE_PARAMS
    for bad in ("english", "e", "zh-CN", "12"):
        with pytest.raises(InvalidSearchRequest, match="not a language code"):
            parse_search_params({"language": [bad]})


# -- the API and the CLI --------------------------------------------------------------------------


@pytest.fixture
def client(pipeline, embedded_index):
    data_dir = Path(tempfile.mkdtemp(prefix="kunlun-api-"))
    service = KunlunService(Settings(data_dir=data_dir), pipeline_factory=lambda: pipeline, index=embedded_index)
    from api.app import create_app

    with authorize(TestClient(create_app(service), base_url="http://localhost"), "intake") as test_client:
        yield test_client


def test_api_detects_stores_and_filters_languages(client):
    from tests.test_api import ingest

    job = ingest(client, "/documents", {"text": CHINESE, "title": CHINESE_TITLE})
    assert job["not_tagged"] == [
        {"id": content_id(CHINESE), "title": CHINESE_TITLE, "source": "", "reason": "language zh is not supported by the models"}
    ]
    body = client.get(f"/documents/{content_id(CHINESE)}").json()
    assert body["language"] == "zh" and body["not_tagged"] == "language zh is not supported by the models"
    assert body["domains"] == [] and body["entities"] == [] and body["priority"] is None
    ingest(client, "/documents", {"text": SPANISH, "title": SPANISH_TITLE, "language": "en"})
    said = client.get(f"/documents/{content_id(SPANISH)}").json()
    assert said["language"] == "en" and said["not_tagged"] is None  # the caller's language is kept

    tagged = client.post("/tag", json={"text": SPANISH, "title": SPANISH_TITLE}).json()
    assert tagged["language"] == "es" and tagged["not_tagged"] and tagged["entities"] == []

    found = client.get("/search", params={"language": "zh"}).json()
    assert [h["id"] for h in found["hits"]] == [body["id"]]
    assert found["hits"][0]["not_tagged"] and found["hits"][0]["language"] == "zh"
    assert {f["value"] for f in client.get("/search", params={"facets": "true"}).json()["facets"]["languages"]} == {"zh", "en"}
    assert [h["id"] for h in client.get("/search", params={"q": "瘦肉精"}).json()["hits"]] == [body["id"]]
    assert client.get(f"/documents/{body['id']}").json()["language"] == "zh"
    assert client.get(f"/documents/{body['id']}/similar").json()["hits"] == []
    bad = client.get("/search", params={"language": "chinese"})
    assert bad.status_code == 422 and "not a language code" in bad.json()["detail"]
    documented = client.get("/openapi.json").json()["paths"]["/search"]["get"]["parameters"]
    assert any(p["name"] == "language" and "ISO 639-1" in p["description"] for p in documented)


def test_not_tagged_reports_are_named_for_the_summary(pipeline):
    reports = NotTaggedReports()
    batch = pipeline.tag(foreign_reports())
    assert reports.add(batch) is batch
    lines = reports.summary_lines()
    assert lines[0].startswith("not tagged: 2 document(s)")
    assert any("report-zh" in line and "language zh is not supported by the models" in line for line in lines)
    assert any(SPANISH_TITLE in line and "(guardia-civil)" in line for line in lines)
    assert NotTaggedReports().summary_lines() == []
    many = NotTaggedReports()
    many.add(batch * 15)
    assert len(many.summary_lines(limit=20)) == 22 and "10 more" in many.summary_lines(limit=20)[-1]


def test_cli_ingest_names_untagged_reports_and_search_filters_by_language(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "zhumadian.txt").write_text(f"{CHINESE_TITLE}\n\n{CHINESE}\n", encoding="utf-8")
    (inbox / "jaen.txt").write_text(f"{SPANISH_TITLE}\n\n{SPANISH}\n", encoding="utf-8")
    (inbox / "seed.txt").write_text(SEED_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    data_dir = tmp_path / "data"
    result = run_cli(["ingest", "-q", str(inbox)], data_dir)
    assert result.returncode == 0, result.stderr
    assert "not tagged: 2 document(s)" in result.stdout
    assert "language zh is not supported by the models" in result.stdout
    assert "language es is not supported by the models" in result.stdout

    found = run_cli(["search", "--language", "zh", "--json"], data_dir)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert len(hits) == 1 and hits[0]["language"] == "zh" and hits[0]["not_tagged"]
    listed = run_cli(["triage", "--language", "es"], data_dir)
    assert "1 report(s) waiting for review" in listed.stdout and "not tagged: es" in listed.stdout
    assert run_cli(["search", "--language", "spanish"], data_dir).returncode == 2
