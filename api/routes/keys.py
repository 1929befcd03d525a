"""API keys, for admins: create one (its key shown once), list them (never a key or its hash),
revoke one. `kunlun-nlp keys` does the same on the server without a key."""

from fastapi import APIRouter, HTTPException

from api.auth import AUTH_ERRORS, Admin
from api.dependencies import Service
from api.schemas import ErrorOut, KeyCreatedOut, KeyIn, KeyOut, KeysOut
from kunlun_nlp.keys import KeyExistsError, KeyRecord, UnknownKeyError

router = APIRouter(prefix="/keys", tags=["keys"], responses=AUTH_ERRORS)


@router.post("", response_model=KeyCreatedOut, status_code=201, responses={409: {"model": ErrorOut, "description": "The name is taken."}})
def create_key(body: KeyIn, service: Service, caller: Admin) -> KeyCreatedOut:
    """A new key of a role; the key is in this answer only (it is stored hashed). Role: admin."""
    try:
        token = service.keys.create(body.name, body.role)
    except KeyExistsError as exc:
        raise HTTPException(409, str(exc)) from None
    return KeyCreatedOut(**_out(service.keys.get(body.name)).model_dump(), key=token)


@router.get("", response_model=KeysOut)
def list_keys(service: Service, caller: Admin) -> KeysOut:
    """Every key ever created, revoked ones included, oldest first. Role: admin."""
    return KeysOut(keys=[_out(record) for record in service.keys.list()])


@router.delete("/{name}", response_model=KeyOut, responses={404: {"model": ErrorOut, "description": "No key of that name."}})
def revoke_key(name: str, service: Service, caller: Admin) -> KeyOut:
    """Revoke a key: it is refused from the next request on. Its name is kept (writes record it) and
    never given to another key. Revoking a revoked key changes nothing. Role: admin."""
    try:
        return _out(service.keys.revoke(name))
    except UnknownKeyError as exc:
        raise HTTPException(404, str(exc)) from None


def _out(record: KeyRecord | None) -> KeyOut:
    assert record is not None  # just created
    return KeyOut(name=record.name, role=record.role, created_at=record.created_at, revoked=record.revoked, revoked_at=record.revoked_at)
