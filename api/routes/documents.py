from fastapi import APIRouter, HTTPException

from api.convert import document_out, to_document
from api.dependencies import Service
from api.routes.errors import INVALID_OR_UNAVAILABLE, NOT_FOUND
from api.schemas import BulkIngestOut, BulkIn, DocumentIn, DocumentOut

router = APIRouter(prefix="/documents", tags=["documents"])


@router.post("", response_model=DocumentOut, status_code=201, responses=INVALID_OR_UNAVAILABLE)
def ingest(document: DocumentIn, service: Service) -> DocumentOut:
    """Tag and index one document."""
    return document_out(service.ingest([to_document(document)])[0])


@router.post("/bulk", response_model=BulkIngestOut, status_code=201, responses=INVALID_OR_UNAVAILABLE)
def ingest_bulk(batch: BulkIn, service: Service) -> BulkIngestOut:
    tagged = service.ingest([to_document(d) for d in batch.documents])
    ids = list(dict.fromkeys(t.id for t in tagged))
    return BulkIngestOut(indexed=len(ids), ids=ids)


@router.get("/{doc_id}", response_model=DocumentOut, responses=NOT_FOUND)
def get_document(doc_id: str, service: Service) -> DocumentOut:
    tagged = service.index.get(doc_id)
    if tagged is None:
        raise HTTPException(404, f"no document with id {doc_id!r}")
    return document_out(tagged)
