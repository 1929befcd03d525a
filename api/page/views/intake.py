"""The intake view: the latest intake jobs with their progress and failures, the queue's health
(batches waiting, workers seen), and for the intake role an upload form (intake.js posts the files
to POST /documents/files and follows the new job at GET /jobs/{id}, as it follows every unfinished
job in the list)."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.page.render import render
from api.page.session import PageReader
from kunlun_nlp.errors import QueueUnavailableError
from kunlun_nlp.readers.dispatch import SUPPORTED_SUFFIXES

router = APIRouter(include_in_schema=False)
PATH = "/ui/intake"
RECENT = 20
# What POST /documents/files reads: the file picker offers these (the API names any file it refuses).
ACCEPTED = ",".join(SUPPORTED_SUFFIXES)


@router.get(PATH)
def intake_page(request: Request, caller: PageReader) -> Response:
    queue = request.app.state.service.queue
    health = queue.health()
    jobs, problem = [], ""
    try:
        jobs = queue.recent(RECENT)
    except QueueUnavailableError:
        problem = "The intake queue does not answer just now, so its jobs cannot be listed; try again in a minute."
    return render(request, "intake.html", caller, title="Intake", health=health, jobs=jobs, problem=problem, accepted=ACCEPTED,
                  recent=RECENT, accepted_at=_moment)


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)
