"""The request body cap: a body over Settings.max_request_bytes is refused with 413 before it is
buffered (a 200 MB body used to be read whole: about 620 MB of memory).

Starlette's own RequestBodyLimitMiddleware answers "Content Too Large" in plain text, naming no
limit, and refuses a declared length only once a route reads the body; this one answers the
API's {"detail": ...} at once.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestTooLarge(HTTPException):
    """An HTTPException, so that a route reading the body answers it as any other (the app's
    handler writes {"detail": ...}); the middleware answers it when nothing has been sent yet."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f"{declared:,} bytes" if declared is not None else "more bytes than that"
        super().__init__(
            status_code=413,
            detail=f"request body too large: {size}, over the limit of {limit:,} bytes "
            "(KUNLUN_MAX_REQUEST_BYTES); send the documents in smaller batches",
        )


class RequestBodyLimit:
    """Pure ASGI: a request whose Content-Length is over `max_bytes` is answered 413 without
    reading it; one streamed without a length (chunked) as soon as what arrived passes the cap,
    so no more than `max_bytes` of it is ever held."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError(f"the request body cap must be a positive number of bytes, not {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(RequestTooLarge(self.max_bytes, declared), scope, receive, send)
            return

        received = 0
        response_started = False

        async def receive_within_cap() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(self.max_bytes)
            return message

        async def send_noting_start(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_within_cap, send_noting_start)
        except RequestTooLarge as exc:
            if response_started:  # too late to answer: the server closes the connection
                raise
            await _refuse(exc, scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isdigit() else None  # the server refuses a malformed one


async def _refuse(exc: RequestTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
    # The rest of the body stays unread: the connection cannot carry another request after it.
    response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers={"Connection": "close"})
    await response(scope, receive, send)
