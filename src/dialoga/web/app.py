"""``create_app()``: the FastAPI application, built from a runtime and nothing global."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from dialoga import __version__
from dialoga.inbox.queries import overdue_conversations, workspace_overview
from dialoga.runtime import Runtime

TEMPLATES = Path(__file__).parent / "templates"


def create_app(runtime: Runtime) -> FastAPI:
    """The web application for ``runtime``'s database."""
    app = FastAPI(title="Dialoga", version=__version__)
    templates = Jinja2Templates(directory=TEMPLATES)
    app.state.runtime = runtime

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        """The workspaces with their conversations awaiting a reply."""
        with runtime.sessions() as session:
            overview = workspace_overview(session)
            overdue = overdue_conversations(session)
        return templates.TemplateResponse(
            request, "home.html", {"overview": overview, "overdue": overdue}
        )

    return app


def create_app_from_env() -> FastAPI:
    """The application for the settings in the environment (uvicorn's factory)."""
    return create_app(Runtime.from_env())
