"""Training data: the team's corpus plus the real sets in ../shared/data, each as LabeledExample.

Real text is worth more than written text, so each source carries a weight used by the loss.
realdev is never loaded here: it is for evaluation only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kunlun_nlp.vocabulary import DOMAIN_LABELS
from training.corpus import CORPUS_DIR, compute_spans

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CACHE_DIR = Path.home() / ".cache" / "kunlun-nlp" / "data"

# Sources and their weight in the loss: real labeled text counts most.
WEIGHTS = {"realtrain": 3.0, "realtrain2": 3.0, "corpus": 1.0, "prosecutor": 1.0, "ema": 0.5}
# The real labeled sets, in the realtrain format (../shared/data/<name>/<name>.jsonl).
REAL_SETS = ("realtrain", "realtrain2")

# A release mentioning any of these may be in-domain; such releases are left out of the
# "none" pool instead of being trusted as negatives (the set's README warns about them).
_IN_DOMAIN_HINT = re.compile(
    r"counterfeit|knock-?off|trademark|pirat|copyright|trade secret|wildlife|poach|lobster|abalone|"
    r"endangered|ivory|dump|hazardous|pollut|spill|toxic|contaminat|adulterat|misbrand|food|meat|"
    r"seafood|restaurant|formula|pharmac|prescription|medical device|supplement|vaccine|\bFDA\b|"
    r"fish and game|environment",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LabeledExample:
    id: str
    title: str
    text: str
    domains: frozenset[str]
    subtypes: frozenset[str] = frozenset()
    spans: tuple[tuple[int, int, str], ...] = ()  # entity spans into `text`, when the source has them
    source: str = ""
    weight: float = 1.0
    extra: dict = field(default_factory=dict, compare=False)


def is_test_record(record_id: str) -> bool:
    """A fixed tenth of the corpus, chosen by id hash, is held out: never trained or calibrated on."""
    return int(hashlib.sha1(record_id.encode("utf-8")).hexdigest(), 16) % 10 == 0


def is_held_back_record(set_name: str, record_id: str) -> bool:
    """A fixed fifth of each real labeled set, chosen by id hash, is held back for the evaluation
    set that decides promotions: never trained or calibrated on."""
    return int(hashlib.sha1(f"evaluation:{set_name}:{record_id}".encode("utf-8")).hexdigest(), 16) % 5 == 0


def load_corpus(directory: Path = CORPUS_DIR, *, split: str = "train") -> list[LabeledExample]:
    """split: "train" (everything but the held-out tenth), "test" (that tenth) or "all"."""
    examples = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if split != "all" and is_test_record(r["id"]) != (split == "test"):
                continue
            spans = r.get("spans") or compute_spans(r)
            examples.append(
                LabeledExample(
                    id=r["id"],
                    title=r.get("title", ""),
                    text=r["text"],
                    domains=frozenset(r["domains"]),
                    subtypes=frozenset(r.get("subtypes", [])),
                    spans=tuple(tuple(s) for s in spans),
                    source="corpus",
                    weight=WEIGHTS["corpus"],
                    extra={"genre": r.get("genre"), "region": r.get("region")},
                )
            )
    return examples


def load_realtrain(path: Path | None = None, *, name: str = "realtrain", split: str = "train") -> list[LabeledExample]:
    """A real labeled set; split "train" leaves out its held-back fifth (training/evaluation_set.py),
    "test" is that fifth, "all" both."""
    path = path or SHARED_DATA / name / f"{name}.jsonl"
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if split != "all" and is_held_back_record(name, r["id"]) != (split == "test"):
            continue
        domains = frozenset(r["domains"]) & set(DOMAIN_LABELS)
        entities = {label: mentions for label, mentions in r.get("entities", {}).items()}
        examples.append(
            LabeledExample(
                id=f"{name}-{r['id']}",
                title=r.get("title", ""),
                text=r["text"],
                domains=domains,
                spans=tuple(tuple(s) for s in compute_spans({"text": r["text"], "entities": entities})),
                source=name,
                weight=WEIGHTS[name],
            )
        )
    return examples


_EMA_SUBTYPE = {
    "Dilution": "FOOD.ADULTERATION",
    "Dilution with a non-food-grade substance": "FOOD.ADULTERATION",
    "Artificial Enhancement": "FOOD.ADULTERATION",
    "Substitution": "FOOD.ADULTERATION",
    "Substitution with a non-food-grade substance": "FOOD.ADULTERATION",
    "Mislabeling": "FOOD.COUNTERFEIT",
    "Counterfeit": "FOOD.COUNTERFEIT",
    "Transshipment/Origin Masking": "FOOD.COUNTERFEIT",
    "Intentional Distribution of Contaminated Product": "FOOD.UNSAFE",
}


def load_ema(limit: int = 200, seed: int = 13) -> list[LabeledExample]:
    """Food-fraud incident summaries: FOOD positives (curated summaries, not news: low weight)."""
    path = SHARED_DATA / "ema_food_fraud" / "ema_incidents.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [r for r in records if len((r.get("Incident_Summary") or "").split()) >= 20]
    random.Random(seed).shuffle(records)
    examples = []
    for r in records[:limit]:
        subtype = _EMA_SUBTYPE.get(r.get("Primary_Method_of_Adulteration", ""))
        examples.append(
            LabeledExample(
                id=f"ema-{r['ema_id']}",
                title="",
                text=r["Incident_Summary"],
                domains=frozenset({"FOOD"}),
                subtypes=frozenset({subtype} if subtype else ()),
                source="ema",
                weight=WEIGHTS["ema"],
            )
        )
    return examples


def prosecutor_texts() -> Iterator[tuple[str, str]]:
    """(name, text) of every release, unpacked once into the cache (never into the project)."""
    archive = SHARED_DATA / "prosecutor_press_releases" / "text.tar.gz"
    target = CACHE_DIR / "prosecutor_press_releases"
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        (target / ".complete").touch()
    for path in sorted((target / "text").rglob("*.txt")):
        yield f"{path.parent.name}/{path.name}", path.read_text(encoding="utf-8", errors="replace")


def load_prosecutor_negatives(limit: int = 300, seed: int = 13, max_chars: int = 3000) -> list[LabeledExample]:
    """Real "none of these" releases: violence, fraud, narcotics, office news; in-domain-looking ones left out."""
    labels = {}
    with (SHARED_DATA / "prosecutor_press_releases" / "classifications_local.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labels[row["filename"]] = row["crime_type"]
    pool = [
        (name, text)
        for name, text in prosecutor_texts()
        if len(text.split()) >= 60 and not _IN_DOMAIN_HINT.search(text)
    ]
    rng = random.Random(seed)
    rng.shuffle(pool)
    # Prefer releases from several counties: orange_ca alone is three quarters of the archive.
    by_county: dict[str, list] = {}
    for name, text in pool:
        by_county.setdefault(name.split("/")[0], []).append((name, text))
    chosen: list[tuple[str, str]] = []
    while len(chosen) < limit and any(by_county.values()):
        for county in sorted(by_county):
            if by_county[county] and len(chosen) < limit:
                chosen.append(by_county[county].pop())
    return [
        LabeledExample(
            id=f"prosecutor-{name}",
            title="",
            text=text[:max_chars],
            domains=frozenset(),
            source="prosecutor",
            weight=WEIGHTS["prosecutor"],
            extra={"crime_type": labels.get(name.split("/")[1], "")},
        )
        for name, text in chosen
    ]


def load_training_sets(*, with_shared: bool = True) -> dict[str, list[LabeledExample]]:
    """Every training source present: the corpus always, the shared sets when ../shared/data exists."""
    sets = {"corpus": load_corpus()}
    if with_shared and SHARED_DATA.exists():
        for name in REAL_SETS:
            if (SHARED_DATA / name / f"{name}.jsonl").exists():
                sets[name] = load_realtrain(name=name)
        sets["ema"] = load_ema()
        sets["prosecutor"] = load_prosecutor_negatives()
    return sets


def split_train_dev(examples: list[LabeledExample], dev_share: float = 0.2, seed: int = 13):
    """A stratified, seeded, stable split: within each (source, label combination) group the members
    with the lowest hash of seed and id go to dev. A document keeps its side as other sources grow,
    so figures on one source's dev part stay comparable between model versions."""
    groups: dict[tuple, list[LabeledExample]] = {}
    for example in examples:
        groups.setdefault((example.source, tuple(sorted(example.domains))), []).append(example)
    train, dev = [], []
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda e: hashlib.sha1(f"{seed}:{e.id}".encode("utf-8")).hexdigest())
        cut = round(len(members) * dev_share)
        dev += members[:cut]
        train += members[cut:]
    return train, dev
