"""The API's routes, one router per area."""

from api.routes import documents, jobs, search, service, tagging, triage

ROUTERS = (service.router, tagging.router, documents.router, jobs.router, search.router, triage.router)

from api.routes import keys  # noqa: E402
ROUTERS += (keys.router,)
from api.routes import labels  # noqa: E402
ROUTERS += (labels.router,)
from api.routes import models, training  # noqa: E402
ROUTERS += (training.router, models.router)
from api.routes import export  # noqa: E402
ROUTERS += (export.router,)
