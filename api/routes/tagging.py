from fastapi import APIRouter

from api.convert import to_document
from api.dependencies import Service
from api.routes.errors import INVALID_OR_UNAVAILABLE
from api.schemas import DocumentIn, TagOut
from kunlun_nlp.records import tag_summary

router = APIRouter(tags=["tagging"])


@router.post("/tag", response_model=TagOut, responses=INVALID_OR_UNAVAILABLE)
def tag(document: DocumentIn, service: Service) -> dict:
    """Tag without indexing: the same shape as `kunlun-nlp tag`."""
    return tag_summary(service.tag([to_document(document)])[0])
