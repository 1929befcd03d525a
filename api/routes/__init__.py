"""The API's routes, one router per area."""

from api.routes import documents, search, service, tagging, triage

ROUTERS = (service.router, tagging.router, documents.router, search.router, triage.router)
