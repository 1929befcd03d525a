"""A feedback round: the active model version continued on the human labels, in minutes.

    run_feedback_round(settings)        # the labels in <data>/labels.sqlite3, the plan below

What it does, stage by stage (the progress callback gets (stage, epoch, percent of the round)):

- preparing: the human labels (LabelStore.training_samples()) minus the evaluation set's texts,
  plus a seeded replay sample of what the active version was trained on (stratified by source and
  label set, evaluation texts left out), so the round learns the new labels without forgetting the
  rest; split into train and dev (stratified, seeded) like the full recipe.
- classifier: the active version's tuned branch (its branch.pt) trained a few epochs more. Its
  lower tuned layer stays as it is and is cached with MiniLM's frozen layers, so each epoch runs one
  transformer layer and the heads (half the work of the full branch). A version without branch.pt
  starts from MiniLM's top layers and fresh heads (the card says so).
- export: one int8 ONNX graph, as the full recipe exports it; branch.pt for the next round.
- ner: the active version's spaCy NER resumed (nlp.resume_training) and updated on the labels'
  spans plus the replay's; its gazetteer rulers and relabeling table are kept; the weights saved
  are the updates' averages, as spaCy's own loop saves them (they drift less from what the active
  version knew: on the evaluation set SUBSTANCE F1 fell 0.023 with them, 0.056 without).
- calibrating: domain and sub-type thresholds chosen on the dev split as the int8 graph scores it
  (training/train.py's calibration); a label with too few dev positives keeps the active's.
- evaluating, deciding: training/gate.py measures the candidate and the active version on the
  fixed evaluation set, records the decision, and promotes when the rule (or force) allows.

The version goes to the run-time models folder (<data>/models), never into git's models/.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kunlun_nlp.config import Settings
from kunlun_nlp.document import content_id
from kunlun_nlp.model_registry import ModelRegistry, active_model
from kunlun_nlp.models import MANIFEST_FILE, ModelVersion
from kunlun_nlp.pipeline.config import PIPELINE_FILE
from kunlun_nlp.vocabulary import DOMAIN_LABELS, SUBTYPE_LABELS
from training.datasets import LabeledExample, load_training_sets, split_train_dev

STAGES = ("preparing", "classifier", "export", "ner", "calibrating", "evaluating", "deciding")
# Each stage's share of the round's percent, roughly its share of the time on 2 cores.
_SPAN = {"preparing": (0, 8), "classifier": (8, 50), "export": (50, 56), "ner": (56, 74), "calibrating": (74, 78),
         "evaluating": (78, 98), "deciding": (98, 100)}
LABEL_SOURCE = "feedback"  # the source name human labels carry in the round's data
STATED_ALL = frozenset({"domains", "subtypes", "spans"})

Progress = Callable[[str, "int | None", float], object]


class FeedbackError(ValueError):
    """A round that cannot run: no labels to learn from, or no trained version to continue."""


@dataclass(frozen=True)
class FeedbackPlan:
    epochs: int = 2
    learning_rate: float = 1e-4  # half the full recipe's: the branch is trained already
    fresh_learning_rate: float = 2e-4  # when there is no branch.pt to continue from
    weight_decay: float = 0.01
    batch_documents: int = 16
    max_chunks_per_document: int = 1  # the first window (title and lead) of each document: the epochs' cost
    frozen_tuned_layers: int = 1  # the lower tuned layers kept as they are (and cached): epochs run the rest
    replay: int = 300  # documents of the active version's training data
    label_weight: float = 3.0  # a human label on real text weighs as realtrain does
    ner_epochs: int = 1
    ner_learning_rate: float = 5e-4  # half the NER config's: the NER is trained already
    # Add the PRODUCT/SUBSTANCE terms the labels use reliably to the ruler, as the full recipe mines
    # its training set. Off: mined from a few hundred labels they cost SUBSTANCE F1 on the
    # evaluation set (0.690 against 0.707 without, 300 corpus labels, the same updates otherwise).
    mine_terms: bool = False
    ner_dropout: float = 0.15
    ner_batch: int = 8
    dev_share: float = 0.2
    min_dev_positives: int = 3  # fewer dev documents of a label than this: its threshold stays the active's
    seed: int = 13
    with_shared: bool = True  # replay from ../shared/data too (tests: the corpus only)


DEFAULT = FeedbackPlan()
# Seconds, for tests and demos: a few dozen documents, one short pass each.
TINY = FeedbackPlan(epochs=2, max_chunks_per_document=1, replay=24, ner_epochs=1, with_shared=False, min_dev_positives=2)


@dataclass
class RoundResult:
    version: str
    path: Path
    decision: Any | None  # training.gate.Decision; None when the gate was not run
    seconds: dict[str, float] = field(default_factory=dict)  # per stage, and "total"
    counts: dict[str, int] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {"version": self.version, "path": str(self.path), "seconds": self.seconds, "counts": self.counts,
                "decision": self.decision.to_record() if self.decision is not None else None}


class _Stages:
    """Stage bookkeeping: the progress callback and each stage's seconds."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = self._start = time.monotonic()

    def enter(self, stage: str) -> None:
        self._close()
        self._stage, self._since = stage, time.monotonic()
        self.report(None, 0.0)

    def report(self, epoch: int | None, fraction: float) -> None:
        """`fraction` of the current stage done."""
        low, high = _SPAN[self._stage]
        if self.progress is not None:
            self.progress(self._stage, epoch, round(low + (high - low) * min(max(fraction, 0.0), 1.0), 1))

    def _close(self) -> None:
        if self._stage is not None:
            self.seconds[self._stage] = round(time.monotonic() - self._since, 1)

    def finish(self) -> dict[str, float]:
        self._close()
        self._stage = None
        self.seconds["total"] = round(time.monotonic() - self._start, 1)
        return self.seconds


def run_feedback_round(
    settings: Settings,
    samples: Sequence[Any] | None = None,
    *,
    plan: FeedbackPlan = DEFAULT,
    force: bool = False,
    by: str = "",
    evaluation: Sequence[LabeledExample] | None = None,
    gate: bool = True,
    version: str | None = None,
    progress: Progress | None = None,
    log: Callable[[str], object] = print,
) -> RoundResult:
    """One round: a new version in the run-time models folder, judged by the gate (promoted when
    it passes, or with `force`). `samples`: LabeledSample (kunlun_nlp.labels) or LabeledExample;
    default, every label in the data folder's label store. `evaluation`: the set the gate measures
    on (default: the fixed evaluation set)."""
    _passive_threads()
    stages = _Stages(progress)
    stages.enter("preparing")
    active = active_model(settings)
    if active is None:
        raise FeedbackError("a feedback round continues from a trained version, and the active one is the zero-shot "
                            "baseline: train one with the full recipe first (kunlun-nlp train)")
    if samples is None:
        samples = _stored_labels(settings)
    evaluation = list(evaluation) if evaluation is not None else None
    held_back = _held_back(evaluation)
    labels, ner_only, skipped = _label_examples(samples, plan, held_back)
    if not labels and not ner_only:
        why = f" ({skipped} held back: they are evaluation texts)" if skipped else ""
        raise FeedbackError(f"no human labels to learn from{why}: correct documents or import labeled samples first")
    stages.report(None, 0.2)
    replay = replay_sample(active, plan.replay, seed=plan.seed, with_shared=plan.with_shared,
                           exclude=held_back | {content_id(e.text) for e in (*labels, *ner_only)})
    train, dev = split_train_dev(labels + replay, plan.dev_share, plan.seed)
    # the NER has no use for a dev split (the gate measures it): it learns from every document with spans
    train_ner_set = [e for e in (*train, *dev) if e.spans or _stated_spans(e)] + ner_only
    counts = {"labels": len(labels) + len(ner_only), "labels_with_domains": len(labels), "labels_spans_only": len(ner_only),
              "held_back_labels": skipped, "replay": len(replay), "train": len(train), "dev": len(dev),
              "ner_train": len(train_ner_set)}
    log(f"feedback round from {active.version}: {counts['labels']} labels ({skipped} held back), "
        f"{len(replay)} replayed; {len(train)} train / {len(dev)} dev")

    name = version or _free_name(ModelRegistry(settings).directory)
    if (ModelRegistry(settings).directory / name).exists():
        raise FileExistsError(f"model version {name} exists already")
    work = settings.data_dir / "training" / "work" / name  # outside the models folder until whole
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        stages.enter("classifier")
        model, classifier_report = train_branch(active, train, plan, report=stages.report, log=log)

        stages.enter("export")
        from training.branch_model import BRANCH_FILE, save_branch_weights
        from training.train_classifier import export_onnx

        export_onnx(model, work / active.manifest["encoder"])
        save_branch_weights(model, work / BRANCH_FILE)
        shutil.copy(active.tokenizer_path, work / active.manifest["tokenizer"])
        shutil.copy(active.path / PIPELINE_FILE, work / PIPELINE_FILE)  # the version runs what the active one declares
        del model

        stages.enter("ner")
        ner_report = continue_ner(active, train_ner_set, [e for e in (*labels, *ner_only) if _stated_spans(e)],
                                  work / active.manifest["ner"], plan, report=stages.report, log=log)

        stages.enter("calibrating")
        thresholds = calibrate(work, active, dev, plan)
        log(f"thresholds on the int8 graph: {thresholds['domain_thresholds']}")

        manifest = _manifest(active, name, thresholds, plan, labels, ner_only, replay, train, dev, classifier_report)
        metrics = {"classifier": {**classifier_report, **thresholds}, "ner": ner_report, "counts": counts}
        (work / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _write_metrics(work, metrics, stages)
        (work / "MODEL_CARD.md").write_text(model_card(manifest, metrics), encoding="utf-8")
        target = ModelRegistry(settings).directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work), str(target))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {target}")

    decision = None
    if gate:
        from training.gate import conclude, measure

        stages.enter("evaluating")
        candidate_figures, active_figures = measure(settings, name, examples=evaluation, log=log)
        stages.enter("deciding")
        decision = conclude(settings, candidate_figures, active_figures, force=force, by=by or "feedback round", log=log)
    seconds = stages.finish()
    _write_metrics(target, None, stages)
    if progress is not None:
        progress("deciding" if gate else "calibrating", None, 100.0)
    log(f"feedback round: {seconds['total']:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in seconds.items() if k != 'total')})")
    return RoundResult(version=name, path=target, decision=decision, seconds=seconds, counts=counts)


def _passive_threads() -> None:
    """OpenMP threads that sleep, not spin, while they wait: on 2 cores shared with other work,
    torch's spinning threads took the cores from each other (a training epoch ran at 7 documents a
    second with them spinning, 13 with them passive, in the same run at load 3; the choice the
    encoder's ONNX sessions make too). It only counts before torch is first imported."""
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# -- data ----------------------------------------------------------------------------------------------


def _stored_labels(settings: Settings) -> list[Any]:
    from kunlun_nlp.labels import LabelStore

    if not settings.labels_path.exists():
        return []
    store = LabelStore(settings.labels_path)
    try:
        return store.training_samples()
    finally:
        store.close()


def _held_back(evaluation: list[LabeledExample] | None) -> set[str]:
    """Content ids of the texts no training may see: the fixed evaluation set's, and the given set's."""
    from training.evaluation_set import evaluation_set

    return {content_id(e.text) for e in evaluation_set()} | {content_id(e.text) for e in evaluation or ()}


def _label_examples(samples: Sequence[Any], plan: FeedbackPlan, held_back: set[str]):
    """Human labels as training examples: (with domains stated, with only spans stated, held back).
    A part a human did not state (a correction of the entities only keeps the model's domains) is
    not taught: that would teach the model its own guesses."""
    latest: dict[str, LabeledExample] = {}
    skipped = 0
    for sample in samples:
        key = content_id(sample.text)
        if key in held_back:
            skipped += 1
            continue
        stated = frozenset(getattr(sample, "stated", STATED_ALL))
        latest[key] = LabeledExample(
            id=f"label-{sample.id}", title=sample.title or "", text=sample.text, domains=frozenset(sample.domains),
            subtypes=frozenset(sample.subtypes) if "subtypes" in stated else frozenset(),
            spans=tuple(tuple(s) for s in sample.spans) if "spans" in stated else (),
            source=LABEL_SOURCE, weight=plan.label_weight, extra={"stated": sorted(stated)},
        )
    with_domains = [e for e in latest.values() if "domains" in e.extra["stated"]]
    spans_only = [e for e in latest.values() if "domains" not in e.extra["stated"] and "spans" in e.extra["stated"]]
    return with_domains, spans_only, skipped


def _stated_spans(example: LabeledExample) -> bool:
    return "spans" in example.extra.get("stated", ())


def replay_sample(active: ModelVersion, size: int, *, seed: int, with_shared: bool, exclude: set[str]) -> list[LabeledExample]:
    """`size` documents of the sources the active version was trained on, chosen by a seeded hash
    within each (source, label set) group, in proportion to the group's size."""
    if size <= 0:
        return []
    sources = set(active.manifest.get("feedback", {}).get("replay_sources") or active.manifest.get("training_data", {}).get("sources", {}))
    sets = load_training_sets(with_shared=with_shared)
    pool = [e for name in sorted(sets) if not sources or name in sources for e in sets[name] if content_id(e.text) not in exclude]
    groups: dict[tuple, list[LabeledExample]] = {}
    for example in pool:
        groups.setdefault((example.source, tuple(sorted(example.domains))), []).append(example)
    size = min(size, len(pool))
    quotas = {key: size * len(members) / len(pool) for key, members in groups.items()}
    taken = {key: math.floor(q) for key, q in quotas.items()}
    for key in sorted(quotas, key=lambda k: (taken[k] - quotas[k], k))[: size - sum(taken.values())]:
        taken[key] += 1  # largest remainders first
    chosen = []
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda e: hashlib.sha1(f"replay:{seed}:{e.id}".encode("utf-8")).hexdigest())
        chosen += members[: taken[key]]
    return chosen


def _free_name(directory: Path) -> str:
    from training.train import new_version_name

    base = new_version_name()
    name, n = base, 1
    while (directory / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


# -- classifier ------------------------------------------------------------------------------------------


def branch_start(active: ModelVersion) -> tuple[Path | None, int]:
    """(the branch.pt to continue from or None, its tuned layers)."""
    import torch

    from training.branch_model import BRANCH_FILE

    path = active.path / active.manifest.get("branch", BRANCH_FILE)
    if path.exists():
        return path, int(torch.load(path, map_location="cpu", weights_only=True)["tuned_layers"])
    return None, int(active.manifest.get("plan", {}).get("classifier", {}).get("tuned_layers", 2))


def train_branch(active: ModelVersion, train: list[LabeledExample], plan: FeedbackPlan, *, report, log) -> tuple[Any, dict[str, Any]]:
    """The active version's branch, trained `plan.epochs` more on `train`; (model, report)."""
    import numpy as np
    import torch
    from torch import nn

    from kunlun_nlp.chunking import Chunker
    from training.branch_model import BranchedEncoder, additive_mask, load_branch_weights
    from training.train_classifier import _Prepared, training_step, warmup_schedule

    started = time.monotonic()
    random.seed(plan.seed)
    np.random.seed(plan.seed)
    torch.manual_seed(plan.seed)
    branch, tuned_layers = branch_start(active)
    model = BranchedEncoder(len(DOMAIN_LABELS), len(SUBTYPE_LABELS), tuned_layers=tuned_layers).eval()
    if branch is not None:
        load_branch_weights(model, branch)
        start = f"{active.version}'s tuned branch ({branch.name})"
    else:
        start = f"MiniLM's top {tuned_layers} layer(s) and new heads ({active.version} has no branch.pt)"
    log(f"classifier: continuing from {start}")

    # The lower tuned layers stay as they are: they run once, with the shared layers, while the
    # states are cached; the epochs run only the layers above them and the heads.
    frozen = max(0, min(plan.frozen_tuned_layers, tuned_layers - 1))
    whole_top = model.tuned_top
    prefix = nn.ModuleList(whole_top[:frozen]).requires_grad_(False)

    class _UpToTrained:
        def shared_states(self, input_ids, attention_mask):
            hidden = model.shared_states(input_ids, attention_mask)
            mask = additive_mask(attention_mask, hidden.dtype)
            for layer in prefix:
                hidden = layer(hidden, mask)
            return hidden

    chunker = Chunker(active.tokenizer_path, max_tokens=256)
    data = _Prepared(_UpToTrained(), chunker, train, plan.max_chunks_per_document)
    for row, example in enumerate(train):  # a human's sub-types are taught under the domains they gave
        if example.source == LABEL_SOURCE and "subtypes" in example.extra.get("stated", ()):
            data.subtype_mask[row] = torch.tensor([float(s.split(".")[0] in example.domains) for s in SUBTYPE_LABELS])
    cached = round(time.monotonic() - started, 1)
    log(f"classifier: cached states of {len(data.chunks)} chunks in {cached:.0f} s")
    report(None, 0.25)

    model.tuned_top = nn.ModuleList(whole_top[frozen:])  # what branch() runs during the epochs
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=plan.learning_rate if branch is not None else plan.fresh_learning_rate,
                                  weight_decay=plan.weight_decay)
    batches = math.ceil(len(train) / plan.batch_documents)
    steps = plan.epochs * batches
    schedule = warmup_schedule(optimiser, steps)
    order = list(range(len(train)))
    rng = random.Random(plan.seed)
    history = []
    try:
        for epoch in range(1, plan.epochs + 1):
            model.train()
            model.embeddings.eval()
            rng.shuffle(order)
            total = 0.0
            for number, first in enumerate(range(0, len(order), plan.batch_documents)):
                docs = order[first : first + plan.batch_documents]
                total += training_step(model, data, docs, optimiser, schedule, parameters) * len(docs)
                report(epoch, 0.25 + 0.75 * ((epoch - 1) * batches + number + 1) / steps)
            history.append({"epoch": epoch, "train_loss": round(total / len(order), 4)})
            log(f"classifier: epoch {epoch}: loss {total / len(order):.4f} ({time.monotonic() - started:.0f} s)")
    finally:
        model.tuned_top = whole_top
    model.eval()
    return model, {
        "started_from": start,
        "config": {k: v for k, v in asdict(plan).items() if k in ("epochs", "learning_rate", "batch_documents",
                                                                  "max_chunks_per_document", "frozen_tuned_layers", "seed")}
        | {"tuned_layers": tuned_layers, "trained_layers": tuned_layers - frozen},
        "history": history,
        "train_documents": len(train),
        "train_chunks": len(data.chunks),
        "caching_seconds": cached,
        "seconds": round(time.monotonic() - started, 1),
    }


# -- entities --------------------------------------------------------------------------------------------


def continue_ner(
    active: ModelVersion, train: list[LabeledExample], labeled: list[LabeledExample], out_dir: Path, plan: FeedbackPlan,
    *, report, log,
) -> dict[str, Any]:
    """The active version's NER updated on `train` (examples with spans); written to `out_dir`
    with its rulers, plus the PRODUCT/SUBSTANCE terms `labeled` (the human labels) use reliably."""
    import spacy
    from spacy.training import Example
    from spacy.util import minibatch

    from kunlun_nlp.entities import GAZETTEER_LABELS_FILE
    from training.train_ner import TRAINED_LABELS, _to_doc, mine_terms

    started = time.monotonic()
    source = active.ner_path
    nlp = spacy.load(source)
    examples = [Example(nlp.make_doc(e.text), _to_doc(nlp, e, TRAINED_LABELS)) for e in train]
    words = sum(len(e.text.split()) for e in train)
    rng = random.Random(plan.seed)
    spacy.util.fix_random_seed(plan.seed)  # dropout draws from it
    losses_by_epoch = []
    optimizer = None
    if examples and plan.ner_epochs > 0:
        batches = math.ceil(len(examples) / plan.ner_batch)
        with nlp.select_pipes(enable=["ner"]):
            optimizer = nlp.resume_training()
            optimizer.learn_rate = plan.ner_learning_rate
            for epoch in range(1, plan.ner_epochs + 1):
                rng.shuffle(examples)
                losses: dict[str, float] = {}
                for number, batch in enumerate(minibatch(examples, size=plan.ner_batch)):
                    nlp.update(batch, drop=plan.ner_dropout, sgd=optimizer, losses=losses)
                    report(epoch, ((epoch - 1) * batches + number + 1) / (plan.ner_epochs * batches) * 0.9)
                losses_by_epoch.append(round(float(losses.get("ner", 0.0)), 2))
                log(f"ner: epoch {epoch}: loss {losses.get('ner', 0.0):.1f} ({time.monotonic() - started:.0f} s)")
    mined: list[tuple[str, str]] = []
    if plan.mine_terms and "gazetteer" in nlp.pipe_names and labeled:
        ruler = nlp.get_pipe("gazetteer")
        known = {str(p["pattern"]).lower() for p in ruler.patterns}
        mined = [(t, label) for t, label in mine_terms(spacy.blank("en"), labeled) if t not in known]
        if mined:
            ruler.add_patterns([{"label": label, "pattern": term} for term, label in mined])
    if out_dir.exists():
        shutil.rmtree(out_dir)
    if optimizer is not None:
        # the weights averaged over the updates (see the module's docstring)
        with nlp.use_params(optimizer.averages):
            nlp.to_disk(out_dir)
    else:
        nlp.to_disk(out_dir)
    if (source / GAZETTEER_LABELS_FILE).exists():
        shutil.copy(source / GAZETTEER_LABELS_FILE, out_dir / GAZETTEER_LABELS_FILE)
    result = {"continued_from": active.version, "train_docs": len(train), "train_words": words, "epochs": plan.ner_epochs,
              "losses": losses_by_epoch, "mined_terms": len(mined), "seconds": round(time.monotonic() - started, 1)}
    (out_dir / "train_report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


# -- thresholds ----------------------------------------------------------------------------------------------


def calibrate(work: Path, active: ModelVersion, dev: list[LabeledExample], plan: FeedbackPlan) -> dict[str, Any]:
    """Thresholds chosen on the dev split as the new int8 graph scores it, over every window (as
    training/train.py calibrates). Of the thresholds with the best F1 the one nearest the active
    version's is kept (the full recipe takes the one nearest 0.5): a round's dev split is small, its
    F1 is flat over wide ranges, and a threshold should not move on a tie. A label with fewer than
    plan.min_dev_positives dev documents keeps the active version's threshold."""
    import numpy as np

    from kunlun_nlp.classifier import pooled_probabilities
    from kunlun_nlp.onnx_encoder import BranchEncoder
    from kunlun_nlp.report_text import classified_text
    from training.train_classifier import macro_f1

    everything = list(DOMAIN_LABELS) + list(SUBTYPE_LABELS)
    if not dev:
        return {"domain_thresholds": dict(active.domain_thresholds), "subtype_thresholds": dict(active.subtype_thresholds),
                "dev_macro_f1_calibrated": None, "calibrated_on": "no dev documents: the active version's thresholds",
                "kept_from_active": everything}
    encoded = BranchEncoder(work / active.manifest["encoder"], work / active.manifest["tokenizer"]).encode([classified_text(e) for e in dev])
    weights = np.array([e.weight for e in dev])
    chosen: dict[str, Any] = {"calibrated_on": "int8 graph, every window; ties: nearest the active version's", "kept_from_active": []}
    for kind, labels, previous, logits, weighted in (
        ("domain_thresholds", DOMAIN_LABELS, active.domain_thresholds, [e.domain_logits for e in encoded], True),
        ("subtype_thresholds", SUBTYPE_LABELS, active.subtype_thresholds, [e.subtype_logits for e in encoded], False),
    ):
        probabilities = np.stack([pooled_probabilities(x) for x in logits])
        chosen[kind] = {}
        for column, label in enumerate(labels):
            gold = np.array([label in e.domains or label in e.subtypes for e in dev])
            if gold.sum() < plan.min_dev_positives:
                chosen[kind][label] = previous[label]
                chosen["kept_from_active"].append(label)
            else:
                chosen[kind][label] = _best_threshold(probabilities[:, column], gold, weights if weighted else None, previous[label])
        if kind == "domain_thresholds":
            limits = np.array([chosen[kind][d] for d in DOMAIN_LABELS])
            gold_domains = np.array([[d in e.domains for d in DOMAIN_LABELS] for e in dev])
            chosen["dev_macro_f1_calibrated"] = macro_f1(probabilities >= limits, gold_domains)
    return chosen


def _best_threshold(probabilities, gold, weights, previous: float) -> float:
    """The threshold in 0.05..0.95 with the best (weighted) F1; of equals, the one nearest `previous`."""
    import numpy as np

    weights = np.ones(len(gold)) if weights is None else weights
    best, best_key = previous, (-1.0, 0.0)
    for candidate in np.round(np.arange(5, 96) / 100, 2):
        predicted = probabilities >= candidate
        tp = float(weights[predicted & gold].sum())
        denominator = float(weights[predicted].sum() + weights[gold].sum())
        key = (round(2 * tp / denominator if denominator else 0.0, 6), -abs(float(candidate) - previous))
        if key > best_key:
            best, best_key = float(candidate), key
    return best


# -- the version's files -----------------------------------------------------------------------------------


def _manifest(active: ModelVersion, name: str, thresholds: dict[str, Any], plan: FeedbackPlan, labels, ner_only, replay,
              train, dev, classifier_report: dict[str, Any]) -> dict[str, Any]:
    earlier = active.manifest.get("feedback") or {}
    replay_sources = earlier.get("replay_sources") or sorted(active.manifest.get("training_data", {}).get("sources", {}))
    sources: dict[str, dict[str, Any]] = {}
    for example in (*labels, *ner_only, *replay):
        entry = sources.setdefault(example.source, {"documents": 0, "weight": example.weight, "domains": Counter()})
        entry["documents"] += 1
        entry["domains"].update(example.domains or {"none"})
    return {
        **active.manifest,
        "version": name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "branch": "branch.pt",
        "domain_thresholds": thresholds["domain_thresholds"],
        "subtype_thresholds": thresholds["subtype_thresholds"],
        "training_data": {"sources": {k: {**v, "domains": dict(v["domains"])} for k, v in sorted(sources.items())},
                          "train_documents": len(train), "dev_documents": len(dev)},
        "plan": {**active.manifest.get("plan", {}), "quick": False, "feedback": asdict(plan)},
        "feedback": {
            "continued_from": active.version,
            "base_version": earlier.get("base_version", active.version),
            "round": int(earlier.get("round", 0)) + 1,
            "classifier_started_from": classifier_report["started_from"],
            "labels": len(labels) + len(ner_only),
            "replay": len(replay),
            "replay_sources": replay_sources,
        },
    }


def _write_metrics(directory: Path, metrics: dict[str, Any] | None, stages: _Stages) -> None:
    """metrics.json, with the seconds each stage took so far (the gate adds its figures later)."""
    from kunlun_nlp.model_registry import write_atomic

    path = directory / "metrics.json"
    current = metrics if metrics is not None else json.loads(path.read_text(encoding="utf-8"))
    seconds = dict(stages.seconds)
    current["stage_seconds"] = seconds
    current["training_seconds"] = seconds.get("total") or round(sum(seconds.values()), 1)
    write_atomic(path, json.dumps(current, indent=2, default=float) + "\n")


def model_card(manifest: dict[str, Any], metrics: dict[str, Any]) -> str:
    feedback = manifest["feedback"]
    classifier, ner, counts = metrics["classifier"], metrics["ner"], metrics["counts"]
    rows = "\n".join(
        f"| {name} | {info['documents']} | {info['weight']} | {', '.join(f'{k} {v}' for k, v in sorted(info['domains'].items()))} |"
        for name, info in manifest["training_data"]["sources"].items()
    )
    history = ", ".join(f"{h['train_loss']:.3f}" for h in classifier["history"]) or "none"
    dev_f1 = classifier.get("dev_macro_f1_calibrated")
    kept = ", ".join(classifier.get("kept_from_active", [])) or "none"
    return f"""# Kunlun NLP model {manifest['version']} (feedback round {feedback['round']})

Created {manifest['created']} by a feedback round (`kunlun-nlp train --feedback`), continued from
**{feedback['continued_from']}** (first full-recipe version in the line: {feedback['base_version']}).

## What it continued from
- **Classifier**: {classifier['started_from']}; {classifier['config']['trained_layers']} of its
  {classifier['config']['tuned_layers']} tuned layer(s) and the heads trained {classifier['config']['epochs']} epoch(s)
  (learning rate {classifier['config']['learning_rate']}, at most {classifier['config']['max_chunks_per_document']}
  window(s) a document; training loss by epoch: {history}). Exported as one int8 ONNX graph; `branch.pt`
  holds the branch for the next round. The embedding stays all-MiniLM-L6-v2's.
- **Entities**: {feedback['continued_from']}'s spaCy NER resumed and updated {ner['epochs']} epoch(s) on
  {ner['train_docs']} documents with spans ({ner['train_words']} words); its gazetteer rulers and relabeling table
  kept, {ner['mined_terms']} PRODUCT/SUBSTANCE term(s) the labels use reliably added to the ruler; the weights
  saved are the updates' averages.

## Data
{counts['labels']} human label(s) ({counts['held_back_labels']} more left out: they are evaluation texts),
{counts['replay']} documents replayed from {', '.join(feedback['replay_sources']) or 'none'} (seeded, stratified by
source and label set); split {counts['train']} train / {counts['dev']} dev.

| source | documents | loss weight | labels |
| --- | --- | --- | --- |
{rows}

realdev was not used, nor the fixed evaluation set (training/evaluation_set.py).

## Thresholds
Calibrated on the dev split as the int8 graph scores it: {', '.join(f'{k} {v}' for k, v in manifest['domain_thresholds'].items())}
(dev macro-F1 {f'{dev_f1:.3f}' if dev_f1 is not None else 'n/a'}). Kept from {feedback['continued_from']} for too few dev
documents: {kept}.
"""
