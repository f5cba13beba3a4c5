"""Domain errors: raised by ``check_*`` functions and importers, shown to people as one sentence."""

from __future__ import annotations


class DialogaError(Exception):
    """Base class of every error whose message is meant for the user.

    ``code`` (with ``values``) names the message in the translation catalog
    (``errors.<code>``) so pages can say it in the reader's language; the English
    message stays for logs, the CLI and the JSON API.
    """

    def __init__(self, message: str, *, code: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


class NotFoundError(DialogaError):
    """A named object (workspace, channel, conversation) does not exist."""


class ValidationError(DialogaError):
    """Input that breaks a rule; the message says which."""


class ImportFormatError(DialogaError):
    """A file is not in the format the importer was asked to read."""


class PermissionDeniedError(DialogaError):
    """The member exists but their role does not allow this."""
