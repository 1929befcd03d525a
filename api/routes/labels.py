"""Human labels: corrections of indexed documents, labeled samples in and out, what to label next."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.auth import AUTH_ERRORS, READ_ERRORS, Reader, Trainer
from api.convert import document_out
from api.dependencies import Service
from api.routes.errors import NOT_FOUND
from api.schemas import (
    CandidateOut,
    CorrectedOut,
    CorrectionIn,
    ErrorOut,
    LabelHistoryOut,
    LabelImportErrorOut,
    LabelImportIn,
    LabelImportOut,
    LabelNextOut,
)
from kunlun_nlp.labels import LabelImportError
from kunlun_nlp.labels.imports import format_of

router = APIRouter(tags=["labels"])

INVALID = {422: {"model": ErrorOut, "description": "The correction does not fit the document; the message says why."}}
MAX_NEXT = 100


@router.post("/documents/{doc_id}/corrections", response_model=CorrectedOut, status_code=201,
             responses={**NOT_FOUND, **INVALID, **AUTH_ERRORS})
def correct(doc_id: str, body: CorrectionIn, service: Service, caller: Trainer) -> CorrectedOut:
    """Correct a document's domains, sub-types and entities. The correction is stored (who: the API
    key's name; when; the model version it corrects) before the index is changed, and the corrected
    tags are searchable when this answers; on every later re-tag the human label is applied again.
    Offsets are characters of the stored text. Role: trainer."""
    try:
        corrected = service.correct(
            doc_id,
            by=caller.name,
            domains=body.domains,
            subtypes=body.subtypes,
            add=[span.model_dump() for span in body.add],
            remove=[span.model_dump() for span in body.remove],
            relabel=[span.model_dump() for span in body.relabel],
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if corrected is None:
        raise HTTPException(404, f"no document with id {doc_id!r}")
    return CorrectedOut(id=doc_id, correction=corrected.correction, document=document_out(corrected))


@router.get("/documents/{doc_id}/corrections", response_model=LabelHistoryOut, responses={**NOT_FOUND, **READ_ERRORS})
def corrections(doc_id: str, service: Service, _: Reader) -> LabelHistoryOut:
    """Every label given to the document, oldest first (corrections, and rows imported under its id),
    and the merged label now applied."""
    history = service.labels.history(doc_id)
    if not history and service.index.get(doc_id) is None:
        raise HTTPException(404, f"no document with id {doc_id!r}")
    return LabelHistoryOut(id=doc_id, history=history, correction=service.labels.merged(doc_id))


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LabelImportIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "A .jsonl or .csv file."},
                        "format": {"type": "string", "enum": ["jsonl", "csv"], "description": "Default: by the file's suffix."},
                    },
                }
            },
        },
    }
}


@router.post("/labels/import", response_model=LabelImportOut, openapi_extra=_IMPORT_BODY,
             responses={422: {"model": LabelImportErrorOut, "description": "Bad rows, each with its line; nothing imported."},
                        **AUTH_ERRORS})
async def import_labels(request: Request, service: Service, caller: Trainer) -> LabelImportOut | JSONResponse:
    """Import labeled samples: JSONL in the corpus format (corpora/labeled; realtrain's too, OTHER or
    NONE meaning none of the four) or CSV with `text,domains` (and optionally title, id, subtypes;
    `;` or `|` between several). As JSON `{"format", "content"}` or a multipart upload `file`. Every
    row is checked: one bad row and nothing is imported, with every problem and its line. Role: trainer."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "multipart upload needs a `file`")
        name = upload.filename or "upload"
        try:
            content = (await upload.read()).decode("utf-8-sig")
            format = str(form.get("format") or format_of(name))
        except UnicodeDecodeError as exc:
            raise HTTPException(422, f"{name} is not UTF-8 text: {exc}") from exc
        except LabelImportError as exc:
            return _refused(exc)
    else:
        try:
            body = LabelImportIn.model_validate_json(await request.body())
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
            raise HTTPException(422, problems) from exc
        content, format, name = body.content, body.format, body.name or "upload"
    try:
        report = await run_in_threadpool(service.import_labels, content, by=caller.name, format=format, name=name)
    except LabelImportError as exc:
        return _refused(exc)
    return LabelImportOut(**asdict(report))


def _refused(exc: LabelImportError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": f"{len(exc.errors)} problem(s); nothing imported", "errors": exc.errors})


@router.get("/labels/export", response_class=StreamingResponse, responses={
    200: {"content": {"application/x-ndjson": {}}, "description": "One labeled sample a line, in the corpus format."},
    **AUTH_ERRORS,
})
def export_labels(service: Service, _: Trainer) -> StreamingResponse:
    """Every labeled text, one JSON line each in the corpus format (id, title, text, domains, subtypes,
    entities and spans where stated), with who labeled it, when and how; importing it gives the same
    labels. A corrected document appears as its latest correction left it. Role: trainer."""
    return StreamingResponse(service.export_labels(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="labels.jsonl"'})


@router.get("/labels/next", response_model=LabelNextOut, responses=AUTH_ERRORS)
def label_next(service: Service, _: Trainer,
               size: Annotated[int, Query(ge=1, le=MAX_NEXT, description="How many documents.")] = 20) -> LabelNextOut:
    """The indexed documents most worth labeling: those whose domain scores lie nearest the model's
    thresholds, taken in turn from each domain, never one already corrected or one the models did
    not tag. Role: trainer."""
    return LabelNextOut(candidates=[CandidateOut(**asdict(c)) for c in service.label_next(size)])
