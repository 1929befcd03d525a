"""Train the domain entity model: a spaCy NER on en_core_web_sm's tok2vec plus a gazetteer ruler.

    python -m training.train_ner OUT_DIR [--max-epochs N] [--limit N] [--no-gazetteer]

The NER is trained with spaCy's own loop (training/configs/ner.cfg, fixed seeds) on DocBins built
in a temporary directory from the examples that carry entity spans. After training, an
`entity_ruler` is added behind the NER (it never overwrites the NER's entities) with the terms of
corpora/gazetteers/*.txt and, optionally, PRODUCT/SUBSTANCE terms mined from the TRAINING
annotations (never from realdev). The report scores the dev examples through the entity stages a
model version declares (both NERs, gazetteer labels, goods names, amounts, joined places), so its
figures describe the system that ships.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from kunlun_nlp.entities import GAZETTEER_LABELS_FILE, split_qualified_places
from training.datasets import LabeledExample
from training.drug_gazetteer import drug_terms
from training.entity_metrics import entity_metrics, format_metrics, gold_texts, span_metrics

ROOT = Path(__file__).resolve().parents[1]
NER_DIR = "ner"  # the domain NER's folder in a model version (pipeline.toml names it)
CONFIG_PATH = Path(__file__).resolve().parent / "configs" / "ner.cfg"
GAZETTEER_DIR = ROOT / "corpora" / "gazetteers"
# Which label each gazetteer file's terms get; a file not listed here is not read.
GAZETTEER_LABELS: dict[str, str] = {
    "drugs.txt": "SUBSTANCE",
    "chemicals.txt": "SUBSTANCE",
    "wildlife.txt": "SUBSTANCE",
    "food_products.txt": "PRODUCT",
    "products.txt": "PRODUCT",
    "brands.txt": "PRODUCT",
    "firms.txt": "ORG",
}
# Firm names are matched as written ("Apple" the firm, not "apple juice"); the rest ignore case.
CASE_SENSITIVE_FILES: frozenset[str] = frozenset({"firms.txt"})
# Proper names whose label the dictionary knows better than the NER: an entity whose text is one
# of them gets the dictionary's label (the NER calls unfamiliar brands places or people: on the
# realtrain part of the dev split this took ORG recall by text from 0.74 to 0.81).
RELABELING_FILES: frozenset[str] = frozenset({"firms.txt", "brands.txt"})
TRAINED_LABELS: tuple[str, ...] = ("ORG", "LOC", "PERSON", "PRODUCT", "SUBSTANCE")
MINED_LABELS: tuple[str, ...] = ("PRODUCT", "SUBSTANCE")
# Training-time budget: epochs x training words stays under this (about 6 minutes on 2 CPU cores,
# measured: 4 epochs of 286k words took 233-289 s), so ~450k words get 3 epochs, not ner.cfg's 4.
WORD_PASSES_BUDGET = 1_500_000


def _terms(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [term for term in (line.split("#", 1)[0].strip() for line in lines) if term]


def load_gazetteer(directory: Path = GAZETTEER_DIR) -> list[tuple[str, str]]:
    """(term, label) for every line of the gazetteer files; '#' starts a comment. Terms of
    case-insensitive files come lowercased."""
    return [
        (term if name in CASE_SENSITIVE_FILES else term.lower(), label)
        for name, label in GAZETTEER_LABELS.items()
        for term in _terms(directory / name)
    ]


def gazetteer_label_fixes(directory: Path = GAZETTEER_DIR, goods: Iterable[tuple[str, str]] = ()) -> dict[str, dict[str, str]]:
    """The relabeling table a domain model carries (kunlun_nlp.entities.GazetteerLabels)."""
    fixes: dict[str, dict[str, str]] = {"exact": {}, "lowercase": {}, "goods": dict(goods)}
    for name in sorted(RELABELING_FILES):
        table = fixes["exact"] if name in CASE_SENSITIVE_FILES else fixes["lowercase"]
        for term in _terms(directory / name):
            table[term if name in CASE_SENSITIVE_FILES else term.lower()] = GAZETTEER_LABELS[name]
    return fixes


def _usable(examples: Iterable[LabeledExample]) -> list[LabeledExample]:
    return [e for e in examples if e.spans]


def _weighted(examples: Iterable[LabeledExample]) -> list[LabeledExample]:
    """Each example repeated as often as its source's loss weight says (at least once): spaCy's
    loop has no per-example weights, and real text (realtrain, weight 3) should count more."""
    return [e for e in examples for _ in range(max(1, round(e.weight)))]


def _to_doc(nlp, example: LabeledExample, labels: Sequence[str]):
    from spacy.util import filter_spans

    doc = nlp.make_doc(example.text)
    spans = []
    for start, end, label in split_qualified_places(example.text, list(example.spans)):
        if label not in labels:
            continue
        span = doc.char_span(start, end, label=label, alignment_mode="contract")
        if span is not None and len(span):
            spans.append(span)
    doc.ents = filter_spans(spans)
    return doc


def mine_terms(
    nlp, examples: Sequence[LabeledExample], labels: Sequence[str] = MINED_LABELS, *, min_docs: int = 1, min_share: float = 0.5
) -> list[tuple[str, str]]:
    """PRODUCT/SUBSTANCE strings of the training annotations that are reliable as dictionary terms.

    A term is kept when it is labeled in at least `min_docs` documents, with one dominant label,
    and is labeled in at least `min_share` of the training documents where it occurs at all.
    """
    from spacy.matcher import PhraseMatcher

    labeled: dict[str, Counter] = defaultdict(Counter)
    for e in examples:
        for term, label in {(e.text[s:t].lower(), lab) for s, t, lab in e.spans if lab in labels}:
            labeled[term][label] += 1
    candidates = {t: c for t, c in labeled.items() if sum(c.values()) >= min_docs and len(t) >= 3}
    if not candidates:
        return []
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    keys = {}
    for i, term in enumerate(sorted(candidates)):
        keys[nlp.vocab.strings.add(f"T{i}")] = term
        matcher.add(f"T{i}", [nlp.make_doc(term)])
    seen: Counter = Counter()
    for doc in nlp.pipe((e.text for e in examples), batch_size=64):
        seen.update({keys[m] for m, _, _ in matcher(doc)})
    out = []
    for term, counts in sorted(candidates.items()):
        label, n = counts.most_common(1)[0]
        if n / sum(counts.values()) >= 0.8 and n / max(seen[term], 1) >= min_share:
            out.append((term, label))
    return out


def add_ruler(nlp, terms: Sequence[tuple[str, str]], *, first: bool = False) -> None:
    """The gazetteer as entity rulers: behind the NER (they fill gaps) or, with `first`, before it
    (their matches are fixed and the NER labels around them). Lowercase terms match any case
    ("gazetteer"); terms with capitals match only as written ("gazetteer_cased", after it, so a
    brand's product line such as "Nintendo Switch" wins over the firm's name inside it). Both are
    phrase matchers: token patterns for the ~500 firm names made the domain pass a third slower."""
    placement = {"before": "ner"} if first else {"after": "ner"}
    unique = sorted(set(terms))
    for name, attr, chosen in (
        ("gazetteer", "LOWER", [(t, label) for t, label in unique if t == t.lower()]),
        ("gazetteer_cased", "ORTH", [(t, label) for t, label in unique if t != t.lower()]),
    ):
        if not chosen:
            continue
        ruler = nlp.add_pipe(
            "entity_ruler",
            name=name,
            **(placement if "ner" in nlp.pipe_names else {}),
            config={"overwrite_ents": False, "phrase_matcher_attr": attr, "validate": False},
        )
        ruler.add_patterns([{"label": label, "pattern": term} for term, label in chosen])
        if "ner" in nlp.pipe_names and not first:
            placement = {"after": name}  # keep the order: any-case terms first, then cased ones


def entity_pipeline(ner_dir: Path):
    """The entity stages a model version declares (kunlun_nlp/pipeline/trained.toml: both NERs,
    gazetteer labels, goods names, merging, amounts, joined places), with `ner_dir` as the
    version's domain NER: what ships, not the bare spaCy model."""
    from kunlun_nlp.pipeline import Pipeline, PipelineConfig
    from kunlun_nlp.pipeline.config import TRAINED_CONFIG

    config = PipelineConfig.read(TRAINED_CONFIG).up_to("entities")
    ner_dir = Path(ner_dir).resolve()
    if ner_dir.name == NER_DIR:
        return Pipeline(config, base_dir=ner_dir.parent)
    with tempfile.TemporaryDirectory(prefix="kunlun-ner-version-") as tmp:  # the layout the config names
        (Path(tmp) / NER_DIR).symlink_to(ner_dir, target_is_directory=True)
        return Pipeline(config, base_dir=Path(tmp))  # every stage has loaded its files by now


def evaluate(ner_dir: Path, examples: Sequence[LabeledExample], labels: Sequence[str]) -> dict:
    """Entity scores of the shipped entity stages with this NER, by text and by exact span."""
    from kunlun_nlp.document import Document

    tagged = entity_pipeline(ner_dir).tag([Document.create(e.text, id=f"dev-{i}") for i, e in enumerate(examples)])
    predicted = [t.entities for t in tagged]
    gold = [gold_texts(e.text, [s for s in e.spans if s[2] in labels]) for e in examples]
    spans = [[tuple(s) for s in e.spans if s[2] in labels] for e in examples]
    return {"by_text": entity_metrics(gold, predicted, labels), "by_span": span_metrics(spans, predicted, labels)}


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def train_ner(
    train: list[LabeledExample],
    dev: list[LabeledExample],
    out_dir: Path,
    *,
    seed: int = 13,
    log: Callable[[str], object] = print,
    labels: Sequence[str] = TRAINED_LABELS,
    max_epochs: int | None = None,
    limit: int | None = None,
    gazetteer: bool = True,
    mine_gazetteer: bool = True,
    drug_dictionary: bool = True,
    gazetteer_first: bool = False,
    config_path: Path = CONFIG_PATH,
    overrides: dict | None = None,
) -> dict:
    """Train the domain NER on `train` (examples with spans), score it on `dev`, write it to out_dir."""
    import spacy
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import DocBin

    started = time.perf_counter()
    out_dir = Path(out_dir)
    train, dev = _usable(train), _usable(dev)
    if limit is not None:
        train, dev = train[:limit], dev[: max(1, limit // 4)]
    if not train or not dev:
        raise ValueError("train_ner needs train and dev examples with entity spans")
    blank = spacy.blank("en")
    with tempfile.TemporaryDirectory(prefix="kunlun-ner-") as tmp:
        tmp_path = Path(tmp)
        weighted_train = _weighted(train)
        for name, examples in (("train", weighted_train), ("dev", dev)):
            DocBin(docs=(_to_doc(blank, e, labels) for e in examples)).to_disk(tmp_path / f"{name}.spacy")
        settings = {
            "paths.train": str(tmp_path / "train.spacy"),
            "paths.dev": str(tmp_path / "dev.spacy"),
            "system.seed": seed,
            "training.seed": seed,
        }
        train_words = sum(len(e.text.split()) for e in weighted_train)
        if max_epochs is None:
            configured = spacy.util.load_config(config_path)["training"]["max_epochs"]
            max_epochs = max(1, min(configured, WORD_PASSES_BUDGET // max(train_words, 1)))
        settings["training.max_epochs"] = max_epochs
        settings.update(overrides or {})
        log(f"train_ner: {len(train)} train / {len(dev)} dev documents ({train_words} words), {max_epochs} epochs, labels {', '.join(labels)}")
        t0 = time.perf_counter()
        spacy_train(config_path, tmp_path / "model", use_gpu=-1, overrides=settings)
        train_seconds = time.perf_counter() - t0
        # A fixed number of epochs: the last model is the one kept (reproducible, no dev selection).
        nlp = spacy.load(tmp_path / "model" / "model-last")

    terms: list[tuple[str, str]] = []
    drugs: list[tuple[str, str]] = []
    if gazetteer:
        terms = load_gazetteer()
        mined = mine_terms(blank, train) if mine_gazetteer else []
        terms += mined
        add_ruler(nlp, terms, first=gazetteer_first)
        if drug_dictionary:
            # Not in the ruler (43k names load in 17 s there): the extractor looks them up in the
            # relabeling table. The project's lists and the training annotations know a name better.
            known = {term.lower() for term, _ in terms}
            drugs = [(term, label) for term, label in drug_terms() if term not in known]
        log(f"train_ner: gazetteer of {len(terms)} terms ({len(mined)} mined from the training annotations), {len(drugs)} drug names")
    nlp.meta["name"] = "kunlun_domain_ner"
    nlp.meta["labels_trained"] = list(labels)
    if out_dir.exists():
        import shutil

        shutil.rmtree(out_dir)
    nlp.to_disk(out_dir)
    if gazetteer:
        fixes = gazetteer_label_fixes(goods=drugs)
        (out_dir / GAZETTEER_LABELS_FILE).write_text(json.dumps(fixes, indent=0, ensure_ascii=False), encoding="utf-8")

    report = {
        "labels": list(labels),
        "train_docs": len(train),
        "dev_docs": len(dev),
        "train_words": train_words,
        "epochs": max_epochs,
        "train_seconds": round(train_seconds, 1),
        "gazetteer_terms": len(terms),
        "dev": evaluate(out_dir, dev, labels),
    }
    report["model_bytes"] = _dir_size(out_dir)
    report["seconds"] = round(time.perf_counter() - started, 1)
    log("train_ner: dev by text, through the shipped entity stages\n" + format_metrics(report["dev"]["by_text"]))
    log(f"train_ner: {report['train_seconds']} s training, model {report['model_bytes'] / 1e6:.1f} MB in {out_dir}")
    (out_dir / "train_report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    from training.datasets import load_training_sets, split_train_dev

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--max-epochs", type=int)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--no-gazetteer", action="store_true")
    parser.add_argument("--labels", default=",".join(TRAINED_LABELS))
    args = parser.parse_args(argv)
    examples = [e for s in load_training_sets().values() for e in s if e.spans]
    train, dev = split_train_dev(examples)
    train_ner(
        train,
        dev,
        args.out_dir,
        max_epochs=args.max_epochs,
        limit=args.limit,
        gazetteer=not args.no_gazetteer,
        labels=tuple(args.labels.split(",")),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
