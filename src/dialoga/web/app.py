"""``create_app()``: the FastAPI application, built from a runtime and nothing global."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import text
from starlette.middleware.sessions import SessionMiddleware

from dialoga import __version__
from dialoga.runtime import Runtime
from dialoga.web.routes import api, auth, home

SESSION_DAYS = 14


def create_app(runtime: Runtime) -> FastAPI:
    """The web application for ``runtime``'s database."""
    app = FastAPI(title="Dialoga", version=__version__)
    app.state.runtime = runtime
    app.add_middleware(
        SessionMiddleware,
        secret_key=runtime.session_secret(),
        session_cookie="dialoga_session",
        max_age=int(timedelta(days=SESSION_DAYS).total_seconds()),
        same_site="lax",
        https_only=runtime.settings.secure_cookies,
    )
    app.include_router(auth.router)
    app.include_router(home.router)
    app.include_router(api.router)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app


def create_app_from_env() -> FastAPI:
    """The application for the settings in the environment (uvicorn's factory)."""
    return create_app(Runtime.from_env())
