"""Error responses routes declare for the OpenAPI docs."""

from api.schemas import ErrorOut

INVALID_OR_UNAVAILABLE = {
    422: {"model": ErrorOut, "description": "Invalid input; the message says what is wrong."},
    503: {"model": ErrorOut, "description": "The index is unreachable; nothing was stored."},
}
NOT_FOUND = {404: {"model": ErrorOut, "description": "No document with that id."}}
