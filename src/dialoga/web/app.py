"""``create_app()``: the FastAPI application, built from a runtime and nothing global."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from dialoga import __version__
from dialoga.core.clock import utcnow
from dialoga.inbox.housekeeping import run_housekeeping
from dialoga.jobs.queue import EmbeddedConsumer, consumer_options
from dialoga.jobs.tasks import Jobs, build_jobs
from dialoga.runtime import Runtime
from dialoga.web.deps import SignInRequired, signin_location
from dialoga.web.routes import (
    api,
    api_actions,
    api_audience,
    api_rules,
    audience,
    auth,
    channels,
    channels_connect,
    home,
    hooks,
    inbox,
    inbox_actions,
    invitations,
    live,
    rules,
    saved_replies,
    settings,
)
from dialoga.web.security import signed_in_user
from dialoga.web.templating import page

SESSION_DAYS = 14
logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(runtime: Runtime) -> FastAPI:
    """The web application for ``runtime``'s database."""
    jobs = build_jobs(runtime)
    app = FastAPI(title="Dialoga", version=__version__, lifespan=_clockwork(runtime, jobs))
    app.state.runtime = runtime
    app.state.jobs = jobs
    app.add_middleware(
        SessionMiddleware,
        secret_key=runtime.session_secret(),
        session_cookie="dialoga_session",
        max_age=int(timedelta(days=SESSION_DAYS).total_seconds()),
        same_site="lax",
        https_only=runtime.settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    pages = (
        auth,
        home,
        inbox,
        inbox_actions,
        live,
        saved_replies,
        settings,
        invitations,
        rules,
        audience,
        channels,
        channels_connect,
    )
    for module in (*pages, api, api_actions, api_rules, api_audience, hooks):
        app.include_router(module.router)
    _answer_errors(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app


def _clockwork(
    runtime: Runtime, jobs: Jobs
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """While the app serves, run the inbox's housekeeping every so often (SLA breaches,
    snoozes that end); ``DIALOGA_HOUSEKEEPING_SECONDS=0`` leaves it to ``dialoga sla
    check`` or a worker. Without Redis, the job consumer runs here too, in threads
    (``DIALOGA_EMBEDDED_WORKER=false`` leaves it to ``dialoga worker``)."""
    every = runtime.settings.housekeeping_seconds

    async def tick() -> None:
        while True:
            try:
                await run_in_threadpool(run_housekeeping, runtime.sessions, utcnow())
            except SQLAlchemyError:
                logger.exception("inbox housekeeping failed; trying again later")
            await asyncio.sleep(every)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(tick()) if every > 0 else None
        consumer = _embedded_consumer(runtime, jobs)
        yield
        if task is not None:
            task.cancel()
        if consumer is not None:
            await run_in_threadpool(consumer.stop, graceful=True)

    return lifespan


def _embedded_consumer(runtime: Runtime, jobs: Jobs) -> EmbeddedConsumer | None:
    settings = runtime.settings
    if settings.redis_url or not settings.embedded_worker:
        return None
    consumer = EmbeddedConsumer(jobs.huey, **consumer_options(settings.worker_threads))
    jobs.catch_up()
    consumer.start()
    return consumer


def _answer_errors(app: FastAPI) -> None:
    """Pages answer errors with a page in the reader's language; the API keeps JSON."""

    @app.exception_handler(SignInRequired)
    async def to_signin(request: Request, error: SignInRequired) -> Response:
        return RedirectResponse(signin_location(error.next_path), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith(("/api/", "/hooks/", "/static/")) or error.status_code < 400:
            return await http_exception_handler(request, error)
        user = signed_in_user(request, app.state.runtime)
        context = {"status": error.status_code, "detail": error.detail}
        return page(request, "error.html", context, user, status_code=error.status_code)


def create_app_from_env() -> FastAPI:
    """The application for the settings in the environment (uvicorn's factory)."""
    return create_app(Runtime.from_env())
