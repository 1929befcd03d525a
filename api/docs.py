"""/docs (Swagger UI) and /redoc (ReDoc), offline: FastAPI's own pages load their scripts from a
CDN, so they stay blank where the internet is out of reach. Here the same pages load the copies the
installed fastapi-offline package ships (its static folder), served under /docs-assets; nothing is
committed and nothing leaves the service. Like /health and /openapi.json these stay open: no key.

create_app makes FastAPI with docs_url=None and redoc_url=None, then calls `install`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-assets"  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png
# The browser itself keeps the docs on this service: ReDoc's menu shows a logo from cdn.redoc.ly
# (hidden again when it does not load), which this refuses before any request is sent. Inline
# scripts and styles: the pages' start-up script, the styles Swagger UI and ReDoc inject.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self' 'unsafe-inline'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "worker-src 'self' blob:", "frame-ancestors 'none'",
))


def assets_dir() -> Path:
    """fastapi-offline's static folder, where the installed package put it."""
    folder = files("fastapi_offline") / "static"
    if not isinstance(folder, Path) or not (folder / "swagger-ui-bundle.js").is_file():
        raise RuntimeError(f"fastapi-offline's Swagger UI and ReDoc assets are missing ({folder}): run scripts/setup")
    return folder


def install(app: FastAPI) -> None:
    """Add /docs, its OAuth2 redirect page, /redoc and the assets they load."""
    assert app.openapi_url and app.swagger_ui_oauth2_redirect_url, "the docs need the OpenAPI schema's route"
    openapi_url, oauth2_redirect_url = app.openapi_url, app.swagger_ui_oauth2_redirect_url
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")

    def url(request: Request, path: str) -> str:  # behind a proxy's path prefix too
        return request.scope.get("root_path", "").rstrip("/") + path

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return _confined(get_swagger_ui_html(
            openapi_url=url(request, openapi_url),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=url(request, f"{ASSETS_URL}/swagger-ui-bundle.js"),
            swagger_css_url=url(request, f"{ASSETS_URL}/swagger-ui.css"),
            swagger_favicon_url=url(request, f"{ASSETS_URL}/favicon.png"),
            oauth2_redirect_url=url(request, oauth2_redirect_url),
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        ))

    @app.get(oauth2_redirect_url, include_in_schema=False)
    def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return _confined(get_swagger_ui_oauth2_redirect_html())

    @app.get(REDOC_URL, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return _confined(get_redoc_html(
            openapi_url=url(request, openapi_url),
            title=f"{app.title} - ReDoc",
            redoc_js_url=url(request, f"{ASSETS_URL}/redoc.standalone.js"),
            redoc_favicon_url=url(request, f"{ASSETS_URL}/favicon.png"),
            with_google_fonts=False,  # fonts.googleapis.com: out of reach offline
        ))


def _confined(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page
