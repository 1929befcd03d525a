"""FastAPI application: routes stay thin (api/routes/, one router per area); kunlun_nlp does the work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api import docs, page
from api.limits import RequestBodyLimit
from api.routes import ROUTERS
from kunlun_nlp.config import Settings
from kunlun_nlp.errors import QueueUnavailableError
from kunlun_nlp.index import IndexUnavailableError
from kunlun_nlp.search.request import InvalidSearchRequest
from kunlun_nlp.service import KunlunService


log = logging.getLogger("kunlun_nlp.api")


def create_app(service: KunlunService | None = None) -> FastAPI:
    service = service or KunlunService(Settings.from_env())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="Kunlun NLP",
        version=version("kunlun-nlp"),
        description="Tag, index and search enforcement reports on food, medicine, environment and IP crime.",
        lifespan=lifespan,
        docs_url=None,  # api.docs serves /docs and /redoc from installed assets, not a CDN
        redoc_url=None,
    )
    app.state.service = service
    # innermost: pages, JSON and exports go out compressed to clients that ask (HTML and JSON shrink ~5x)
    app.add_middleware(GZipMiddleware, minimum_size=1_000)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(service.settings.allowed_hosts))
    app.add_middleware(RequestBodyLimit, max_bytes=service.settings.max_request_bytes)  # outermost: refused before anything reads

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _describe_validation_errors(exc)})

    @app.exception_handler(InvalidSearchRequest)
    async def invalid_search(_: Request, exc: InvalidSearchRequest) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(IndexUnavailableError)
    async def index_unavailable(_: Request, exc: IndexUnavailableError) -> JSONResponse:
        # the cause names the engine's URL or the data path: the log keeps it, callers do not see it
        log.warning("index unavailable: %s", exc)
        backend = service.settings.backend
        return JSONResponse(status_code=503, content={"detail": f"index unavailable: the {backend} index does not answer"})

    @app.exception_handler(QueueUnavailableError)
    async def queue_unavailable(_: Request, exc: QueueUnavailableError) -> JSONResponse:
        log.warning("queue unavailable: %s", exc)
        return JSONResponse(status_code=503, content={"detail": "queue unavailable, nothing was accepted: try again later"})

    for router in ROUTERS:
        app.include_router(router)
    docs.install(app)
    page.install(app)
    return app


def _describe_validation_errors(exc: RequestValidationError) -> str:
    """One readable line per problem, e.g. "body.text: String should have at most 200000 characters"."""
    messages = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()))
        message = error.get("msg", "invalid")
        if error.get("type") == "json_invalid":
            message = f"invalid JSON: {error.get('ctx', {}).get('error', message)}"
        messages.append(f"{where}: {message}" if where else message)
    return "; ".join(messages)
