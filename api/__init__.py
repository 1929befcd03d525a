"""The HTTP API: FastAPI routes, thin over kunlun_nlp."""
