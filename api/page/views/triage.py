"""The triage view: the queue of unreviewed reports, highest priority first (the request GET /triage
builds), each with its priority and reasons, domains, case cards and a note box. A trainer marks
the current report reviewed with one keystroke (triage.js posts to /documents/{id}/review with the
note); a reader sees the same queue without the controls."""

from __future__ import annotations


from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.page.render import render, unavailable
from api.page.session import PageReader
from api.page.state import PageState, documents_of, last_page
from kunlun_nlp.index import IndexUnavailableError
from kunlun_nlp.limits import MAX_REVIEW_NOTE_CHARS
from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.search.request import InvalidSearchRequest
from kunlun_nlp.vocabulary import DOMAIN_LABELS

router = APIRouter(include_in_schema=False)
PATH = "/ui/triage"
HIGH, MID = 60, 40  # priority bands the page colours (priority.toml's points reach 100)


def priority_band(score: int | None) -> str:
    if score is None:
        return ""
    return "high" if score >= HIGH else "mid" if score >= MID else ""


@router.get(PATH)
def triage_page(request: Request, caller: PageReader) -> Response:
    state = PageState.of(request)
    context = {"state": state, "domains": DOMAIN_LABELS, "note_chars": MAX_REVIEW_NOTE_CHARS, "band": priority_band}
    try:
        queue = parse_search_params(state.lists(), queue=True)
    except InvalidSearchRequest as exc:
        return render(request, "triage.html", caller, title="Triage", problem=str(exc), result=None, **context)
    service = request.app.state.service
    try:
        result = service.index.search(queue)
        tagged = documents_of(service, result.hits)
    except IndexUnavailableError:
        return unavailable(request, caller, "Triage")
    return render(request, "triage.html", caller, title="Triage", problem="", result=result, queue=queue, tagged=tagged,
                  last_page=last_page(result.total, queue.size), chosen=set(queue.domains), **context)
