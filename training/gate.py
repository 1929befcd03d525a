"""The promotion gate: a new version replaces the active one only if it is not worse on data no
training saw.

Both are measured on the fixed evaluation set (training/evaluation_set.py) through the full
tagging pipeline each declares, with the metrics of `kunlun-nlp evaluate` (training/evaluate.py):
per-domain F1 and macro-F1, and entity F1 by text for ORG, LOC, PERSON, PRODUCT and SUBSTANCE.
The rule: macro-F1 not lower than the active version's, and no domain and no entity label more
than 0.03 lower, unless forced. Every decision, with all its figures, is appended to
<models folder>/decisions.jsonl and written into the candidate's metrics.json and model card.

A version's figures are cached per evaluation-set fingerprint (<models folder>/evaluations/), so
the active version is measured once, not on every round, and a manual promotion after a round
needs no new measurement.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kunlun_nlp.config import Settings
from kunlun_nlp.model_registry import EVALUATIONS_DIR, ModelRegistry, active_version_name, write_atomic
from kunlun_nlp.models import ModelVersion, find_model
from kunlun_nlp.vocabulary import DOMAIN_LABELS
from training.datasets import LabeledExample
from training.evaluate import EVALUATED_ENTITY_LABELS, domain_metrics
from training.entity_metrics import entity_metrics

MAX_DROP = 0.03  # the most a domain's or an entity label's F1 may fall
_TOLERANCE = 1e-9  # float noise: equal figures are "not lower"


@dataclass(frozen=True)
class Decision:
    candidate: str
    active: str
    promote: bool  # what happens: the rule's verdict, or forced
    passed: bool  # the rule's verdict alone
    forced: bool
    failures: list[str]  # each part of the rule the candidate failed, with its figures
    evaluation_set: str  # fingerprint
    documents: int
    candidate_figures: dict[str, Any]
    active_figures: dict[str, Any]
    deltas: dict[str, Any]
    at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    by: str = ""
    rule: str = f"macro-F1 not lower than the active version's; no domain and no entity label F1 more than {MAX_DROP} lower"

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        c, a = self.candidate_figures["macro_f1"], self.active_figures["macro_f1"]
        head = f"{self.candidate} against {self.active} on {self.documents} documents: macro-F1 {c:.3f} vs {a:.3f}"
        if self.passed:
            return f"{head}; promoted" if self.promote else f"{head}; passes the gate"
        why = "; ".join(self.failures)
        return f"{head}; {'promoted by force despite: ' if self.forced else 'refused: '}{why}"


# -- measuring -------------------------------------------------------------------------------------


def evaluate_version(
    model: ModelVersion, examples: Sequence[LabeledExample], *, fingerprint: str, log: Callable[[str], object] = print
) -> dict[str, Any]:
    """A version's figures on `examples`, tagged through the pipeline it declares."""
    from kunlun_nlp.pipeline import Pipeline
    from training.labeled import labeled_from_example

    started = time.monotonic()
    labeled = [labeled_from_example(e) for e in examples]
    pipeline = Pipeline.load(model)
    tagged = pipeline.tag([d.document for d in labeled])
    domains = domain_metrics([d.domains for d in labeled], [frozenset(x.label for x in t.domains) for t in tagged])
    entities = entity_metrics([d.entities for d in labeled], [t.entities for t in tagged], labels=EVALUATED_ENTITY_LABELS)
    figures = {
        "version": model.version,
        "fingerprint": fingerprint,
        "documents": len(labeled),
        "macro_f1": round(domains["macro_f1"], 4),
        "domains_f1": {d: round(domains["per_domain"][d]["f1"], 4) for d in DOMAIN_LABELS},
        "entities_f1": {label: round(entities[label]["f1"], 4) for label in EVALUATED_ENTITY_LABELS},
        "domains": domains,
        "entities_by_text": entities,
        "seconds": round(time.monotonic() - started, 1),
        "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    log(f"gate: {model.version} on {len(labeled)} documents: macro-F1 {figures['macro_f1']:.3f} ({figures['seconds']:.0f} s)")
    return figures


def figures_of(
    registry: ModelRegistry,
    model: ModelVersion,
    examples: Sequence[LabeledExample],
    fingerprint: str,
    *,
    log: Callable[[str], object] = print,
) -> dict[str, Any]:
    """The version's figures on the set `fingerprint` names: cached in the models folder, or shipped
    in the version's own folder (evaluations/<fingerprint>.json: `python -m training.gate`), or
    measured and cached."""
    cached = registry.read_evaluation(model.version, fingerprint)
    if cached is not None:
        return cached
    shipped = model.path / EVALUATIONS_DIR / f"{fingerprint}.json"
    if shipped.exists():
        return json.loads(shipped.read_text(encoding="utf-8"))
    figures = evaluate_version(model, examples, fingerprint=fingerprint, log=log)
    registry.write_evaluation(model.version, fingerprint, figures)
    return figures


# -- deciding --------------------------------------------------------------------------------------


def decide(candidate: dict[str, Any], active: dict[str, Any], *, force: bool = False, by: str = "") -> Decision:
    """The rule on two versions' figures (evaluate_version's, on the same set)."""
    if candidate["fingerprint"] != active["fingerprint"]:
        raise ValueError(f"figures on different evaluation sets: {candidate['fingerprint']} and {active['fingerprint']}")
    failures = []
    macro = candidate["macro_f1"] - active["macro_f1"]
    if macro < -_TOLERANCE:
        failures.append(f"macro-F1 {candidate['macro_f1']:.3f} is lower than {active['macro_f1']:.3f}")
    deltas: dict[str, Any] = {"macro_f1": round(macro, 4), "domains_f1": {}, "entities_f1": {}}
    for kind, what in (("domains_f1", "domain"), ("entities_f1", "entity label")):
        for label, before in active[kind].items():
            after = candidate[kind].get(label, 0.0)
            deltas[kind][label] = round(after - before, 4)
            if after - before < -MAX_DROP - _TOLERANCE:
                failures.append(f"{what} {label} F1 {after:.3f} is {before - after:.3f} below {before:.3f} (at most {MAX_DROP})")
    passed = not failures
    return Decision(
        candidate=candidate["version"], active=active["version"], promote=passed or force, passed=passed,
        forced=force and not passed, failures=failures, evaluation_set=candidate["fingerprint"],
        documents=candidate["documents"], candidate_figures=_brief(candidate), active_figures=_brief(active),
        deltas=deltas, by=by,
    )


def _brief(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures a decision keeps (the full confusion tables stay in the evaluation cache)."""
    return {k: figures[k] for k in ("version", "fingerprint", "documents", "macro_f1", "domains_f1", "entities_f1")}


def judge(
    settings: Settings,
    candidate: str,
    *,
    force: bool = False,
    by: str = "",
    reason: str = "",
    examples: Sequence[LabeledExample] | None = None,
    log: Callable[[str], object] = print,
) -> Decision:
    """Measure `candidate` against the active version, record the decision, and promote it when
    the rule (or `force`) allows: `decision.promote` says whether it did. `examples`: the
    evaluation set (default: the fixed one). ValueError for the active version itself."""
    candidate_figures, active_figures = measure(settings, candidate, examples=examples, log=log)
    return conclude(settings, candidate_figures, active_figures, force=force, by=by, reason=reason, log=log)


def measure(
    settings: Settings,
    candidate: str,
    *,
    examples: Sequence[LabeledExample] | None = None,
    log: Callable[[str], object] = print,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figures of `candidate` and of the active version on the evaluation set (cached ones
    reused): what `conclude` decides on."""
    from training.evaluation_set import evaluation_set, fingerprint

    registry = ModelRegistry(settings)
    examples = list(examples) if examples is not None else evaluation_set()
    set_fingerprint = fingerprint(examples)
    active_name = active_version_name(settings)
    if candidate == active_name:
        raise ValueError(f"{candidate} is the active version already")
    candidate_model = find_model(candidate, settings.model_dirs)
    if candidate_model is None:
        raise ValueError("the zero-shot baseline is not a version to promote")
    candidate_figures = figures_of(registry, candidate_model, examples, set_fingerprint, log=log)
    active_model = find_model(active_name, settings.model_dirs)
    if active_model is None:  # nothing trained is active: a trained version is measured against nothing
        zero = {kind: dict.fromkeys(candidate_figures[kind], 0.0) for kind in ("domains_f1", "entities_f1")}
        return candidate_figures, {**candidate_figures, **zero, "version": active_name, "macro_f1": 0.0}
    return candidate_figures, figures_of(registry, active_model, examples, set_fingerprint, log=log)


def conclude(
    settings: Settings,
    candidate_figures: dict[str, Any],
    active_figures: dict[str, Any],
    *,
    force: bool = False,
    by: str = "",
    reason: str = "",
    log: Callable[[str], object] = print,
) -> Decision:
    """Decide, record the decision, and promote when it says so."""
    registry = ModelRegistry(settings)
    decision = decide(candidate_figures, active_figures, force=force, by=by)
    record(settings, decision, registry.path_of(decision.candidate), candidate_figures)
    log(f"gate: {decision.summary()}")
    if decision.promote:
        why = reason or ("forced past the gate: " + "; ".join(decision.failures) if decision.forced else decision.summary())
        registry.promote(decision.candidate, by=by or "gate", reason=why)
    return decision


def record(settings: Settings, decision: Decision, candidate_path: Path, figures: dict[str, Any]) -> None:
    """The decision in decisions.jsonl, and in the candidate's metrics.json and model card."""
    ModelRegistry(settings).record_decision(decision.to_record())
    if candidate_path.resolve().is_relative_to(ModelRegistry(settings).directory.resolve()):
        # shipped versions are read-only in an installed package: their record is decisions.jsonl
        metrics_path = candidate_path / "metrics.json"
        metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else {}
        metrics["evaluation"] = _brief(figures)
        metrics["decision"] = decision.to_record()
        write_atomic(metrics_path, json.dumps(metrics, indent=2, default=float) + "\n")
        card_path = candidate_path / "MODEL_CARD.md"
        if card_path.exists():
            card = card_path.read_text(encoding="utf-8").split(_CARD_MARK)[0].rstrip("\n")
            write_atomic(card_path, card + "\n\n" + card_section(decision) + "\n")


_CARD_MARK = "\n## The gate's decision"


def card_section(decision: Decision) -> str:
    c, a = decision.candidate_figures, decision.active_figures
    rows = [f"| macro-F1 | {c['macro_f1']:.3f} | {a['macro_f1']:.3f} | {decision.deltas['macro_f1']:+.3f} |"]
    for kind, prefix in (("domains_f1", "domain"), ("entities_f1", "entity")):
        rows += [f"| {prefix} {label} | {c[kind].get(label, 0.0):.3f} | {value:.3f} | {decision.deltas[kind][label]:+.3f} |"
                 for label, value in a[kind].items()]
    verdict = ("promoted" if decision.passed else "promoted by force") if decision.promote else "refused"
    failures = "".join(f"\n- {f}" for f in decision.failures) or "\n- none"
    return f"""{_CARD_MARK.strip()}
{decision.at}: **{verdict}** against the active version {decision.active}, on the fixed evaluation set
{decision.evaluation_set} ({decision.documents} documents no training saw; F1 of entities by text).
Rule: {decision.rule}.

| figure | {decision.candidate} | {decision.active} (active) | change |
| --- | --- | --- | --- |
{chr(10).join(rows)}

Parts of the rule not met:{failures}"""


def main(argv: list[str] | None = None) -> int:
    """Measure a version on the fixed evaluation set and keep the figures in its own folder, so a
    data folder's first feedback round need not measure the version it continues from."""
    import argparse

    from training.evaluation_set import evaluation_set, fingerprint

    parser = argparse.ArgumentParser(prog="python -m training.gate", description=main.__doc__.split("\n\n")[0])
    parser.add_argument("version", type=Path, help="a version folder, e.g. models/v20261129-1812")
    args = parser.parse_args(argv)
    model = ModelVersion.read(args.version.resolve())
    examples = evaluation_set()
    set_fingerprint = fingerprint(examples)
    figures = evaluate_version(model, examples, fingerprint=set_fingerprint)
    target = model.path / EVALUATIONS_DIR / f"{set_fingerprint}.json"
    write_atomic(target, json.dumps(figures, indent=2) + "\n")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
