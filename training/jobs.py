"""Training in the background: one job at a time, in a process of its own, with progress anyone
can read while it runs.

    <data>/training/lock            held (flock) by the process that trains; free when none does
    <data>/training/jobs/<id>.json  the job: state (queued, running, done, failed), stage, epoch,
                                    percent, started, finished, version, decision, retag, error
    <data>/training/jobs/<id>.log   what it printed

A job is a feedback round (training/feedback.py), the full recipe (training/train.py) followed by
the gate, or a re-tag after a promotion or rollback made by hand. The API starts one with
`start_job` (a `python -m training.jobs run` process, so the API stays responsive); the CLI runs
one in its own process with `run_here`. Both take the lock first, so a second request meets
TrainingBusyError (the API answers 409, the CLI exits 3). The lock is an flock on an open file:
the kernel lets it go when the process holding it ends, however it ends, so a crashed job never
blocks the next; a reader that finds a job "running" with the lock free marks it failed.

After a promotion the job re-tags the index with the new version (kunlun_nlp.retag), as the stage
"retagging".
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kunlun_nlp.config import Settings
from kunlun_nlp.model_registry import write_atomic

MODES = ("feedback", "full", "retag")
STATES = ("queued", "running", "done", "failed")
_WRITE_EVERY = 0.5  # seconds between progress writes within one stage
_START_SECONDS = 120  # a job still queued, with no process, this long after it was started never began


class TrainingBusyError(RuntimeError):
    """A training job runs already; `job` is its state (None when it could not be read)."""

    def __init__(self, job: dict[str, Any] | None) -> None:
        running = f"job {job['job']} ({job['mode']}, {job['state']}, {job.get('stage') or 'starting'})" if job else "another job"
        super().__init__(f"a training job is running already: {running}; one at a time")
        self.job = job


def training_dir(settings: Settings) -> Path:
    return settings.data_dir / "training"


def _jobs_dir(settings: Settings) -> Path:
    return training_dir(settings) / "jobs"


# -- the lock ----------------------------------------------------------------------------------------


class TrainingLock:
    """The exclusive training lock; raises TrainingBusyError when another holds it."""

    def __init__(self, settings: Settings, *, fd: int | None = None) -> None:
        self.settings = settings
        if fd is not None:  # inherited from the process that took it
            self.fd = fd
            return
        training_dir(settings).mkdir(parents=True, exist_ok=True)
        self.fd = os.open(training_dir(settings) / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise TrainingBusyError(latest_job(settings, check=False)) from None

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # the last descriptor of the open file closes: the kernel drops the lock
            self.fd = -1

    def __enter__(self) -> TrainingLock:
        return self

    def __exit__(self, *_exc) -> None:
        self.release()


# -- job state ---------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_job(settings: Settings, mode: str, *, force: bool = False, replay: int | None = None, quick: bool = False,
            by: str = "", version: str | None = None) -> dict[str, Any]:
    if mode not in MODES:
        raise ValueError(f"unknown training mode {mode!r}: one of {', '.join(MODES)}")
    job_id = datetime.now(timezone.utc).strftime("train-%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    job = {
        "job": job_id, "mode": mode, "state": "queued", "stage": None, "epoch": None, "percent": 0.0,
        "started": _now(), "finished": None, "version": version if mode == "retag" else None, "decision": None,
        "retag": None, "error": None, "by": by, "force": force, "replay": replay, "quick": quick, "pid": None,
        "seconds": None, "log": str(_jobs_dir(settings) / f"{job_id}.log"),
    }
    _write(settings, job)
    return job


def _write(settings: Settings, job: dict[str, Any]) -> None:
    write_atomic(_jobs_dir(settings) / f"{job['job']}.json", json.dumps(job, indent=2, default=str) + "\n")


def read_job(settings: Settings, job_id: str, *, check: bool = True) -> dict[str, Any] | None:
    """A job's state; None when there is no such job. With `check`, a job that claims to run while
    no process holds the lock (killed, out of memory) is marked failed."""
    if not job_id or "/" in job_id or job_id.startswith("."):
        return None
    path = _jobs_dir(settings) / f"{job_id}.json"
    try:
        job = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if check and _vanished(job):
        job.update(state="failed", finished=_now(), error="the training process ended without finishing (killed?); see its log")
        _write(settings, job)
    return job


def _vanished(job: dict[str, Any]) -> bool:
    """A job that says it runs, but whose process is gone (or never came)."""
    if job["state"] == "running":
        return not _alive(job.get("pid"))
    if job["state"] == "queued" and not job.get("pid"):
        started = datetime.fromisoformat(job["started"])
        return (datetime.now(timezone.utc) - started).total_seconds() > _START_SECONDS
    return False


def latest_job(settings: Settings, *, check: bool = True) -> dict[str, Any] | None:
    """The job started last; None before any."""
    folder = _jobs_dir(settings)
    names = sorted(p.stem for p in folder.glob("train-*.json")) if folder.is_dir() else []
    return read_job(settings, names[-1], check=check) if names else None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Reporter:
    """Writes a job's progress: at once on a new stage, else at most every half second."""

    def __init__(self, settings: Settings, job: dict[str, Any]) -> None:
        self.settings, self.job = settings, job
        self._written = 0.0
        self.listeners: list[Callable[[dict[str, Any]], object]] = []

    def __call__(self, stage: str, epoch: int | None, percent: float) -> None:
        """`percent` of the training (or of the re-tag, stage "retagging"), as a share of the job:
        a training job that promotes spends its last tenth re-tagging."""
        changed = stage != self.job["stage"]
        if self.job["mode"] != "retag":
            percent = 90.0 + percent / 10.0 if stage == "retagging" else percent * 0.9
        self.job.update(stage=stage, epoch=epoch, percent=round(percent, 1))
        if changed or time.monotonic() - self._written >= _WRITE_EVERY:
            self.save()
        for listener in self.listeners:
            listener(self.job)

    def save(self) -> None:
        self._written = time.monotonic()
        _write(self.settings, self.job)


# -- starting and running -------------------------------------------------------------------------------


def start_job(settings: Settings, mode: str = "feedback", *, force: bool = False, replay: int | None = None,
              quick: bool = False, by: str = "", version: str | None = None) -> dict[str, Any]:
    """Start a job in a process of its own and return its state (queued). TrainingBusyError while
    another runs: the lock is taken here and handed to the process, which holds it to its end."""
    lock = TrainingLock(settings)
    try:
        job = new_job(settings, mode, force=force, replay=replay, quick=quick, by=by, version=version)
        command = [sys.executable, "-m", "training.jobs", "run", job["job"], "--lock-fd", str(lock.fd),
                   "--settings", json.dumps(_settings_json(settings))]
        # offline models; OpenMP threads that do not spin (training/feedback.py says why)
        env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false"}
        with open(job["log"], "ab") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       pass_fds=(lock.fd,), start_new_session=True, env=env,
                                       cwd=Path(__file__).resolve().parents[1])
        job["pid"] = process.pid  # the process writes it into the file itself, with its state
        threading.Thread(target=process.wait, name=f"reap-{job['job']}", daemon=True).start()  # no zombie left behind
    finally:
        lock.release()  # this process's descriptor only: the child's keeps the lock
    return job


def run_here(settings: Settings, mode: str = "feedback", *, force: bool = False, replay: int | None = None,
             quick: bool = False, by: str = "", version: str | None = None,
             progress: Callable[[dict[str, Any]], object] | None = None, log: Callable[[str], object] = print) -> dict[str, Any]:
    """Run a job in this process (the CLI), holding the lock; its final state. TrainingBusyError
    while another runs."""
    with TrainingLock(settings):
        job = new_job(settings, mode, force=force, replay=replay, quick=quick, by=by, version=version)
        return _run(settings, job, progress=progress, log=log)


def _run(settings: Settings, job: dict[str, Any], *, progress=None, log: Callable[[str], object] = print) -> dict[str, Any]:
    started = time.monotonic()
    reporter = _Reporter(settings, job)
    if progress is not None:
        reporter.listeners.append(progress)
    job.update(state="running", pid=os.getpid())
    reporter.save()
    try:
        if job["mode"] == "feedback":
            _feedback(settings, job, reporter, log)
        elif job["mode"] == "full":
            _full(settings, job, reporter, log)
        decision = job.get("decision") or {}
        if job["mode"] == "retag" or decision.get("promote"):
            _retag(settings, job, reporter, log)
        job.update(state="done", percent=100.0)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the job says so and the lock goes
        log(traceback.format_exc())
        job.update(state="failed", error=f"{type(exc).__name__}: {exc}")
    job.update(finished=_now(), seconds=round(time.monotonic() - started, 1))
    reporter.save()
    if progress is not None:
        progress(job)
    return job


def _feedback(settings: Settings, job: dict[str, Any], reporter: _Reporter, log) -> None:
    from training.feedback import DEFAULT, TINY, run_feedback_round

    plan = TINY if job.get("quick") else DEFAULT
    if job.get("replay") is not None:
        plan = dataclasses.replace(plan, replay=int(job["replay"]))
    evaluation = None
    if not plan.with_shared:
        from training.evaluation_set import evaluation_set

        evaluation = evaluation_set(with_shared=False)
    result = run_feedback_round(settings, plan=plan, force=bool(job.get("force")), by=job.get("by") or "",
                                evaluation=evaluation, progress=reporter, log=log)
    job.update(version=result.version, decision=result.decision.to_record() if result.decision else None,
               stage_seconds=result.seconds, counts=result.counts)


def _full(settings: Settings, job: dict[str, Any], reporter: _Reporter, log) -> None:
    """The full recipe into the run-time models folder, then the gate."""
    from kunlun_nlp.model_registry import ModelRegistry
    from training.gate import conclude, measure
    from training.train import FULL, QUICK, train_all

    epochs = {"n": 0}

    def follow(message: str) -> None:  # the recipe logs its stages; progress follows them
        log(message)
        if message.startswith("epoch "):
            epochs["n"] += 1
            reporter("classifier", epochs["n"], min(60.0, 5.0 + 12.0 * epochs["n"]))
        elif message.startswith("thresholds calibrated"):
            reporter("calibrating", None, 65.0)
        elif message.startswith("train_ner:") and job["stage"] != "ner":
            reporter("ner", None, 70.0)

    reporter("preparing", None, 0.0)
    plan = QUICK if job.get("quick") else FULL
    target = train_all(plan, out_dir=ModelRegistry(settings).directory, log=follow)
    job["version"] = target.name
    evaluation = None
    if not plan.with_shared:
        from training.evaluation_set import evaluation_set

        evaluation = evaluation_set(with_shared=False)
    reporter("evaluating", None, 85.0)
    candidate, active = measure(settings, target.name, examples=evaluation, log=log)
    reporter("deciding", None, 98.0)
    decision = conclude(settings, candidate, active, force=bool(job.get("force")), by=job.get("by") or "", log=log)
    job["decision"] = decision.to_record()


def _retag(settings: Settings, job: dict[str, Any], reporter: _Reporter, log) -> None:
    """Re-tag the index with the version now active (a re-tag job: the one it names)."""
    try:
        from kunlun_nlp.retag import retag_index
    except ImportError:  # a build without re-tagging: the new version tags new documents only
        job["retag"] = {"skipped": "re-tagging is not available"}
        return
    if not settings.engine_url and not settings.embedded_index_path.exists():
        job["retag"] = {"skipped": "no index to re-tag yet"}
        return
    reporter("retagging", None, 0.0)

    def progress(done: int, total: int) -> None:
        reporter("retagging", None, round(100.0 * done / total, 1) if total else 100.0)

    try:
        summary = retag_index(settings, job.get("version") if job["mode"] == "retag" else None, progress=progress)
    except Exception as exc:
        if job["mode"] == "retag":
            raise
        raise RuntimeError(f"{job['version']} was promoted, but re-tagging failed ({type(exc).__name__}: {exc}); "
                           "the index keeps its tags until `kunlun-nlp retag`") from exc
    job["retag"] = summary.to_record()
    log(summary.describe())


# -- the job process -------------------------------------------------------------------------------------


def _settings_json(settings: Settings) -> dict[str, Any]:
    values = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        values[f.name] = str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value
    return values


def _settings_from_json(values: dict[str, Any]) -> Settings:
    kinds = {f.name: f for f in dataclasses.fields(Settings)}
    return Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in kinds})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.jobs", description="run a training job started by start_job")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("job")
    run.add_argument("--lock-fd", type=int, required=True)
    run.add_argument("--settings", required=True, help="the service's settings, as JSON")
    args = parser.parse_args(argv)
    settings = _settings_from_json(json.loads(args.settings))
    lock = TrainingLock(settings, fd=args.lock_fd)
    try:
        job = read_job(settings, args.job, check=False)
        if job is None:
            print(f"no job {args.job}", file=sys.stderr)
            return 2
        job = _run(settings, job, log=lambda message: print(message, flush=True))
    finally:
        lock.release()
    return 0 if job["state"] == "done" else 1


if __name__ == "__main__":
    raise SystemExit(main())
