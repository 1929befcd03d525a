from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Request, UploadFile

from api.auth import AUTH_ERRORS, READ_ERRORS, Intake, Reader
from api.convert import document_out, to_document
from api.dependencies import Service
from api.routes.errors import NOT_FOUND, QUEUED_OR_UNAVAILABLE
from api.schemas import BulkIn, DocumentIn, DocumentOut, JobAcceptedOut
from kunlun_nlp.readers import Blob, ReadFailure, read_blob

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post("", response_model=JobAcceptedOut, status_code=202, responses={**QUEUED_OR_UNAVAILABLE, **AUTH_ERRORS})
def ingest(document: DocumentIn, service: Service, request: Request, caller: Intake) -> JobAcceptedOut:
    """Queue one document for tagging and indexing; follow it at `status_url`. Role: intake."""
    return _accepted(service.submit([to_document(document)], submitted_by=caller.name), 1, request)


@router.post("/bulk", response_model=JobAcceptedOut, status_code=202, responses={**QUEUED_OR_UNAVAILABLE, **AUTH_ERRORS})
def ingest_bulk(batch: BulkIn, service: Service, request: Request, caller: Intake) -> JobAcceptedOut:
    """Queue up to 1,000 documents in one job. Role: intake."""
    documents = [to_document(d) for d in batch.documents]
    return _accepted(service.submit(documents, submitted_by=caller.name), len(documents), request)


@router.post("/files", response_model=JobAcceptedOut, status_code=202, responses={**QUEUED_OR_UNAVAILABLE, **AUTH_ERRORS})
def ingest_files(files: Annotated[list[UploadFile], File(description="Report files: .txt .md .html .jsonl .pdf .docx .eml")],
                 service: Service, request: Request, caller: Intake) -> JobAcceptedOut:
    """Read uploaded files as `kunlun-nlp ingest` reads them, and queue their documents. Files that
    cannot be read are named in `refused`; with none readable, nothing is queued (422). Role: intake."""
    documents, refused = [], {}
    for upload in files:
        name = upload.filename or "upload"
        for item in read_blob(Blob.from_bytes(name, name, upload.file.read())):
            if isinstance(item, ReadFailure):
                refused[item.path] = item.reason
            else:
                documents.append(item)
    if not documents:
        reasons = "; ".join(f"{where}: {why}" for where, why in refused.items())
        raise HTTPException(422, f"no document could be read from the files ({reasons})")
    return _accepted(service.submit(documents, submitted_by=caller.name), len(documents), request, refused)


@router.get("/{doc_id}", response_model=DocumentOut, responses={**NOT_FOUND, **READ_ERRORS})
def get_document(doc_id: str, service: Service, _: Reader) -> DocumentOut:
    tagged = service.index.get(doc_id)
    if tagged is None:
        raise HTTPException(404, f"no document with id {doc_id!r}")
    return document_out(tagged)


def _accepted(job: str, documents: int, request: Request, refused: dict[str, str] | None = None) -> JobAcceptedOut:
    return JobAcceptedOut(job=job, documents=documents, status_url=str(request.url_for("job_status", job_id=job).path), refused=refused or {})
