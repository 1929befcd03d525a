"""Error responses routes declare for the OpenAPI docs."""

from api.schemas import ErrorOut

INVALID_OR_UNAVAILABLE = {
    422: {"model": ErrorOut, "description": "Invalid input; the message says what is wrong."},
    503: {"model": ErrorOut, "description": "The index is unreachable."},
}
NOT_FOUND = {404: {"model": ErrorOut, "description": "No document with that id."}}
QUEUED_OR_UNAVAILABLE = {
    422: {"model": ErrorOut, "description": "Invalid input; the message says what is wrong. Nothing was queued."},
    503: {"model": ErrorOut, "description": "The queue is unreachable; nothing was queued."},
}
