"""How long a feedback round takes on this machine, stage by stage, against the full recipe.

    .venv/bin/python benchmarks/feedback_training.py [--labels 300] [--replay N] [--warm] [--keep]

The "new labels" are labeled texts of the corpus's training part (so it runs anywhere, with no
label store): a seeded choice of --labels of them, none of the evaluation set's. The round runs
exactly as `kunlun-nlp train --feedback` runs it (training/feedback.py, the default plan), from the
active version (KUNLUN_MODEL, else the newest shipped one), in a temporary data folder, so nothing
is promoted anywhere; the gate measures on the fixed evaluation set. With --warm, the active
version's figures on that set are measured first (not timed), as they are cached after the first
round in a data folder; without it, the round measures them itself, as a data folder's first does.
The full recipe's time is the one recorded in the active version's metrics.json (training_seconds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as a round sets it before torch loads (training/feedback.py)

from kunlun_nlp.config import Settings  # noqa: E402
from kunlun_nlp.model_registry import active_model  # noqa: E402
from training.datasets import load_corpus  # noqa: E402
from training.evaluation_set import is_held_back  # noqa: E402
from training.feedback import DEFAULT, STAGES, run_feedback_round  # noqa: E402

BUDGET_SECONDS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=300, help="new labels (default 300)")
    parser.add_argument("--replay", type=int, default=DEFAULT.replay, help=f"replayed documents (default {DEFAULT.replay})")
    parser.add_argument("--warm", action="store_true", help="measure the active version's figures first, untimed (as a data folder caches them)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder and print where it is")
    parser.add_argument("--verbose", action="store_true", help="print the round's log too")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="kunlun-feedback-bench-"))
    settings = replace(Settings.from_env(data_dir=str(data_dir)), models_dir=None)
    active = active_model(settings)
    if active is None:
        print("the active version is the zero-shot baseline: a feedback round needs a trained one", file=sys.stderr)
        return 2
    pool = [e for e in load_corpus() if not is_held_back(e.text)]
    labels = sorted(pool, key=lambda e: hashlib.sha1(f"bench:{e.id}".encode("utf-8")).hexdigest())[: args.labels]
    print(f"feedback round from {active.version}: {len(labels)} new labels (corpus training texts), replay {args.replay}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.warm:
        from training.gate import figures_of
        from kunlun_nlp.model_registry import ModelRegistry
        from training.evaluation_set import evaluation_set, fingerprint

        examples = evaluation_set()
        started = time.monotonic()
        figures_of(ModelRegistry(settings), active, examples, fingerprint(examples), log=lambda _: None)
        print(f"(untimed) the active version's figures on the evaluation set measured in {time.monotonic() - started:.0f} s")

    last = {"stage": None}

    def progress(stage: str, epoch: int | None, percent: float) -> None:
        if (stage, epoch) != last["stage"]:
            last["stage"] = (stage, epoch)
            print(f"  {time.monotonic() - started:6.0f} s  {stage}{f' epoch {epoch}' if epoch else ''}", flush=True)

    started = time.monotonic()
    try:
        result = run_feedback_round(settings, labels, plan=replace(DEFAULT, replay=args.replay), by="benchmark",
                                    progress=progress, log=(lambda m: print(f"    {m}", flush=True)) if args.verbose else (lambda _: None))
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    total = result.seconds["total"]
    recorded = json.loads((active.path / "metrics.json").read_text(encoding="utf-8")).get("training_seconds")

    print(f"\n{'stage':<14}{'seconds':>9}{'share':>8}")
    for stage in STAGES:
        seconds = result.seconds.get(stage, 0.0)
        print(f"{stage:<14}{seconds:>9.1f}{seconds / total:>8.0%}")
    print(f"{'total':<14}{total:>9.1f}   ({'within' if total <= BUDGET_SECONDS else 'OVER'} the {BUDGET_SECONDS} s budget; "
          f"load average {os.getloadavg()[1]:.1f} over the last 5 minutes)")
    counts = result.counts
    print(f"\ndata: {counts['labels']} labels + {counts['replay']} replayed = {counts['train']} train / {counts['dev']} dev; "
          f"NER on {counts['ner_train']} documents")
    if recorded:
        print(f"full recipe ({active.version}, recorded in its metrics.json): {recorded:.0f} s; "
              f"the feedback round took {total / recorded:.0%} of it ({recorded / total:.1f}x faster)")
    decision = result.decision
    print(f"gate: {decision.summary()}" + (" [active's figures measured in the round]" if not args.warm else " [active's figures cached]"))
    if args.keep:
        print(f"data folder kept: {data_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
