import logging

from fastapi import APIRouter, Response

from api.dependencies import Service
from api.schemas import HealthOut

router = APIRouter(tags=["service"])
log = logging.getLogger("kunlun_nlp.api")


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut, "description": "The index is unreachable."}})
def health(service: Service, response: Response) -> HealthOut:
    """503 while the index is down, so a load balancer or monitor sees it without reading the body."""
    state = service.index.health()
    if not state.reachable:
        log.warning("index unavailable: %s at %s: %s", state.backend, state.location, state.detail)
        response.status_code = 503
    return HealthOut(
        status="ok" if state.reachable else "unavailable", backend=state.backend, reachable=state.reachable, documents=state.documents
    )
