"""`kunlun-nlp train --feedback | models list | models promote VERSION | models rollback [VERSION]`.

A feedback round runs here, in this process, with a progress bar; like the API's, it takes the
training lock first (exit 3 while another training runs) and leaves its state where
`GET /training` reads it. Promotion goes through the gate (training/gate.py); rollback does not.
After either, the index is re-tagged with the new active version (--no-retag: not now;
`kunlun-nlp retag` does it later).

Exit codes: 0 done, 1 the gate refused the version or the training failed, 2 bad usage, 3 another
training runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from kunlun_cli.options import by_of, by_option, location_options, settings_of

if TYPE_CHECKING:
    from kunlun_nlp.config import Settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3


def add_commands(subparsers) -> None:
    common = _common()
    train = subparsers.choices.get("train")
    if train is not None:  # `train --feedback` beside the full recipe, which stays `kunlun-nlp train`
        full_recipe = train.get_default("run")
        feedback = train.add_argument_group("feedback round (--feedback)")
        feedback.add_argument("--feedback", action="store_true",
                              help="continue the active version on the human labels instead (minutes; the new version goes "
                              "to the data folder's models/, is measured by the gate and promoted if not worse)")
        feedback.add_argument("--force", action="store_true", help="promote even if the gate refuses (recorded as forced)")
        feedback.add_argument("--replay", type=int, metavar="N", help="documents of the active version's training data replayed (default 300)")
        feedback.add_argument("--data-dir", help="data folder (env KUNLUN_DATA_DIR; default ./kunlun-data)")
        feedback.add_argument("--engine-url", help="search engine URL, for the re-tag after a promotion (env KUNLUN_ENGINE_URL)")
        feedback.add_argument("--by", metavar="NAME", help="who trains, for the record (default: the operating-system user)")
        train.set_defaults(run=lambda args: run_feedback(args) if args.feedback else full_recipe(args))

    models = subparsers.add_parser("models", help="model versions: list, promote through the gate, roll back")
    commands = models.add_subparsers(dest="models_command", required=True)

    listed = commands.add_parser("list", parents=[common], help="every version, which is active, and its figures")
    listed.add_argument("--json", action="store_true", help="print JSON")
    listed.set_defaults(run=run_list)

    promote = commands.add_parser(
        "promote", parents=[common, _retag_option()], help="measure a version against the active one and promote it if not worse",
        description="Measure VERSION and the active version on the fixed evaluation set (cached figures reused) and make "
        "VERSION active if its macro-F1 is not lower and no domain or entity label F1 drops by more than 0.03; the "
        "decision is recorded either way (exit 1 when refused).",
    )
    promote.add_argument("version", metavar="VERSION")
    promote.add_argument("--force", action="store_true", help="promote even if the gate refuses (recorded as forced)")
    promote.add_argument("--reason", default="", help="why, for the record")
    promote.set_defaults(run=run_promote)

    rollback = commands.add_parser(
        "rollback", parents=[common, _retag_option()], help="make an earlier version active again (no gate)",
    )
    rollback.add_argument("version", nargs="?", metavar="VERSION", help="default: the one active before the current one was promoted")
    rollback.add_argument("--reason", default="", help="why, for the record")
    rollback.set_defaults(run=run_rollback)


def _common() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False, parents=[location_options(), by_option()])


def _retag_option() -> argparse.ArgumentParser:
    option = argparse.ArgumentParser(add_help=False)
    option.add_argument("--no-retag", action="store_true", help="do not re-tag the index now (kunlun-nlp retag does it later)")
    option.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return option


# -- train --feedback --------------------------------------------------------------------------------------


def run_feedback(args: argparse.Namespace) -> int:
    """`kunlun-nlp train --feedback`: a feedback round here, with a progress bar."""
    from tqdm import tqdm

    from training.jobs import TrainingBusyError, run_here

    settings = settings_of(args)
    quiet = getattr(args, "quiet_progress", False)
    with tqdm(total=100, desc="preparing", unit="%", bar_format="{desc:<26}{percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
              disable=quiet, file=sys.stderr) as bar:

        def progress(job: dict[str, Any]) -> None:
            epoch = f" epoch {job['epoch']}" if job.get("epoch") else ""
            bar.set_description_str(f"{job.get('stage') or 'starting'}{epoch}", refresh=False)
            bar.update(max(0.0, float(job.get("percent") or 0.0) - bar.n))

        try:
            job = run_here(settings, "feedback", force=args.force, replay=args.replay, quick=args.quick, by=by_of(args),
                           progress=progress, log=lambda message: bar.write(message, file=sys.stderr))
        except TrainingBusyError as exc:
            print(f"kunlun-nlp: {exc}", file=sys.stderr)
            return EXIT_BUSY
    return _report_job(job)


def _report_job(job: dict[str, Any]) -> int:
    if job["state"] == "failed":
        print(f"kunlun-nlp: training failed: {job['error']} (log: {job['log']})", file=sys.stderr)
        return EXIT_REFUSED
    decision = job.get("decision") or {}
    print(f"model {job['version']} written in {job.get('seconds') or 0:.0f} s")
    if decision:
        _print_decision(decision)
    if job.get("retag"):
        _print_retag(job["retag"])
    return EXIT_OK


def _print_decision(decision: dict[str, Any]) -> None:
    c, a = decision["candidate_figures"], decision["active_figures"]
    verdict = ("promoted" if decision["passed"] else "PROMOTED BY FORCE") if decision["promote"] else "REFUSED"
    print(f"gate: {verdict}: {decision['candidate']} against {decision['active']} on {decision['documents']} documents "
          f"(evaluation set {decision['evaluation_set']})")
    print(f"  {'':<28}{decision['candidate'][:18]:>18}{decision['active'][:18]:>18}{'change':>9}")
    print(f"  {'macro-F1':<28}{c['macro_f1']:>18.3f}{a['macro_f1']:>18.3f}{decision['deltas']['macro_f1']:>+9.3f}")
    for kind, prefix in (("domains_f1", "domain"), ("entities_f1", "entity")):
        for label, before in a[kind].items():
            print(f"  {prefix + ' ' + label:<28}{c[kind].get(label, 0.0):>18.3f}{before:>18.3f}{decision['deltas'][kind][label]:>+9.3f}")
    for failure in decision["failures"]:
        print(f"  not met: {failure}")


def _print_retag(retag: dict[str, Any]) -> None:
    if "skipped" in retag:
        print(f"re-tag: skipped: {retag['skipped']}")
    else:
        print(f"re-tag: {retag.get('documents', 0)} document(s) with {retag.get('version')} in {retag.get('seconds', 0):.1f} s")


# -- models --------------------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    from kunlun_nlp.model_registry import ModelRegistry

    registry = ModelRegistry(settings_of(args))
    versions = registry.versions()
    pointer = registry.active()
    if args.json:
        print(json.dumps({"active": registry.active_version_name(), "pointer": pointer.__dict__ if pointer else None,
                          "versions": [v.to_json() for v in versions]}, indent=2, default=str))
        return EXIT_OK
    print(f"{'':2}{'version':<22}{'origin':<9}{'created':<27}{'macro-F1 (docs)':>15}  continued from / gate")
    for v in versions:
        figure = v.figures.get("macro_f1", v.figures.get("dev_macro_f1"))
        shown = f"{figure:.3f}" + (f" ({v.figures.get('documents')})" if "macro_f1" in v.figures else "*") if figure is not None else "-"
        gate = ""
        if v.decision:
            gate = "promoted" if v.decision.get("promote") else "refused"
            gate += " (forced)" if v.decision.get("forced") else ""
        lineage = f"{v.continued_from or ''}{' / ' if v.continued_from and gate else ''}{gate}"
        print(f"{'* ' if v.active else '  '}{v.version:<22}{'shipped' if v.shipped else 'trained':<9}{(v.created or '-'):<27}{shown:>15}  {lineage}")
    print("\n* active" + (f" since {pointer.since} by {pointer.by}: {pointer.reason}" if pointer else " (the newest shipped version; nothing promoted yet)"))
    print("macro-F1 on the evaluation set measured last (the fixed one, unless a test chose another); * the dev split's,\n"
          "for a version never measured on an evaluation set")
    return EXIT_OK


def run_promote(args: argparse.Namespace) -> int:
    from kunlun_nlp.model_registry import ModelRegistry, RegistryError
    from training.gate import judge

    settings = settings_of(args)
    try:
        ModelRegistry(settings).path_of(args.version)
        decision = judge(settings, args.version, force=args.force, by=by_of(args), reason=args.reason,
                         log=lambda message: print(message, file=sys.stderr))
    except (RegistryError, ValueError) as exc:
        print(f"kunlun-nlp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _print_decision(decision.to_record())
    if not decision.promote:
        return EXIT_REFUSED
    return _retag_after(args, settings, decision.candidate)


def run_rollback(args: argparse.Namespace) -> int:
    from kunlun_nlp.model_registry import ModelRegistry, RegistryError

    settings = settings_of(args)
    registry = ModelRegistry(settings)
    before = registry.active_version_name()
    try:
        pointer = registry.rollback(args.version, by=by_of(args), reason=args.reason)
    except RegistryError as exc:
        print(f"kunlun-nlp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"active: {pointer.version} (was {before})")
    return _retag_after(args, settings, pointer.version)


def _retag_after(args: argparse.Namespace, settings: Settings, version: str) -> int:
    if args.no_retag:
        print("the index keeps its tags until `kunlun-nlp retag`")
        return EXIT_OK
    from tqdm import tqdm

    from training.jobs import TrainingBusyError, run_here

    with tqdm(total=100, desc="re-tag", unit="%", disable=args.quiet, file=sys.stderr) as bar:
        try:
            job = run_here(settings, "retag", version=version, by=by_of(args),
                           progress=lambda job: bar.update(max(0.0, float(job.get("percent") or 0.0) - bar.n)),
                           log=lambda message: bar.write(message, file=sys.stderr))
        except TrainingBusyError as exc:
            print(f"kunlun-nlp: not re-tagged now: {exc}; run `kunlun-nlp retag` after it", file=sys.stderr)
            return EXIT_BUSY
    if job["state"] == "failed":
        print(f"kunlun-nlp: re-tag failed: {job['error']}", file=sys.stderr)
        return EXIT_REFUSED
    _print_retag(job.get("retag") or {})
    return EXIT_OK
