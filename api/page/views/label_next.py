"""The label-next view: the documents most worth a trainer's label (service.label_next, as
GET /labels/next lists them), each with why, each opening the document view in its correcting
mode, which then offers the next one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.page.render import render, unavailable
from api.page.session import PageTrainer
from api.page.views.document import LABEL_NEXT
from api.routes.labels import MAX_NEXT
from kunlun_nlp.index import IndexUnavailableError

router = APIRouter(include_in_schema=False)
DEFAULT_SIZE = 20


@router.get("/ui/label-next")
def label_next_page(request: Request, caller: PageTrainer, size: str = "") -> Response:
    # an odd ?size= (typed into the address bar) gives the default list, not an error page
    size_wanted = min(int(size), MAX_NEXT) if size.strip().isdigit() and int(size) > 0 else DEFAULT_SIZE
    try:
        candidates = request.app.state.service.label_next(size_wanted)
    except IndexUnavailableError:
        return unavailable(request, caller, "Label next")
    return render(request, "label_next.html", caller, title="Label next", candidates=candidates, came_from=LABEL_NEXT,
                  size=size_wanted, max_size=MAX_NEXT)
