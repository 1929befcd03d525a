"""The API's routes, one router per area."""

from api.routes import documents, jobs, search, service, tagging, triage

ROUTERS = (service.router, tagging.router, documents.router, jobs.router, search.router, triage.router)
