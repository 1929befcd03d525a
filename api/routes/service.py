import logging

from fastapi import APIRouter, Response

from api.dependencies import Service
from api.schemas import HealthOut, QueueHealthOut

router = APIRouter(tags=["service"])
log = logging.getLogger("kunlun_nlp.api")


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut, "description": "The index or the queue is unreachable."}})
def health(service: Service, response: Response) -> HealthOut:
    """503 while the index or the queue is down, so a load balancer or monitor sees it without
    reading the body; the queue's depth and the workers reporting in, for whoever watches intake."""
    state, queue = service.index.health(), service.queue.health()
    if not state.reachable:
        log.warning("index unavailable: %s at %s: %s", state.backend, state.location, state.detail)
    if not (state.reachable and queue.reachable):
        response.status_code = 503
    return HealthOut(
        status="ok" if state.reachable and queue.reachable else "unavailable",
        backend=state.backend,
        reachable=state.reachable,
        documents=state.documents,
        queue=QueueHealthOut(backend=queue.backend, reachable=queue.reachable, depth=queue.depth, workers=queue.workers),
    )
