"""Domain errors: raised by ``check_*`` functions and importers, shown to people as one sentence."""

from __future__ import annotations


class DialogaError(Exception):
    """Base class of every error whose message is meant for the user."""


class NotFoundError(DialogaError):
    """A named object (workspace, channel, conversation) does not exist."""


class ValidationError(DialogaError):
    """Input that breaks a rule; the message says which."""


class ImportFormatError(DialogaError):
    """A file is not in the format the importer was asked to read."""


class PermissionDeniedError(DialogaError):
    """The member exists but their role does not allow this."""
