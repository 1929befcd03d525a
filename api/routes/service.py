from dataclasses import asdict

from fastapi import APIRouter

from api.dependencies import Service
from api.schemas import HealthOut

router = APIRouter(tags=["service"])


@router.get("/health", response_model=HealthOut)
def health(service: Service) -> HealthOut:
    state = service.index.health()
    return HealthOut(status="ok" if state.reachable else "unavailable", **asdict(state))
