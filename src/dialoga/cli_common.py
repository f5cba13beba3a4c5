"""What every ``dialoga`` command module shares: the console, the ready runtime, and how
a domain error ends a command."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from dialoga.core.errors import DialogaError
from dialoga.runtime import Runtime

console = Console(stderr=True)


def ready_runtime() -> Runtime:
    """The runtime from the environment, its database schema brought up to date."""
    runtime = Runtime.from_env()
    try:
        runtime.upgrade_database()
    except OperationalError as error:
        raise fail(
            DialogaError(f"cannot open the database {runtime.safe_database_url}: {error.orig}")
        ) from None
    return runtime


def fail(error: DialogaError) -> typer.Exit:
    """Print the error's sentence and end the command with status 2."""
    console.print(f"[bold red]Error:[/] {error}", highlight=False)
    return typer.Exit(code=2)
