"""What every page route needs: the signed-in member of a workspace, and CSRF on writes.

Page routes declare ``MemberDep`` (any member) or ``WriterDep`` (owner, admin, agent);
both go through ``accounts.access``, so a workspace the user does not belong to is "not
found" and a role too low is "forbidden". Routers of pages carry ``require_csrf``: every
POST, from any form, must send the session's token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from dialoga.accounts.access import MANAGERS, WRITERS, access_workspace
from dialoga.accounts.actions import ROLES
from dialoga.accounts.models import Member, User, Workspace
from dialoga.core.errors import NotFoundError, PermissionDeniedError
from dialoga.jobs.tasks import Jobs
from dialoga.runtime import Runtime
from dialoga.web.security import CSRF_FIELD, check_csrf, signed_in_user

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):  # noqa: N818 - it is a redirect, not an error
    """Raised by page dependencies when nobody is signed in; answered with a redirect."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def runtime_of(request: Request) -> Runtime:
    """The runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def jobs_of(request: Request) -> Jobs:
    """The job queue the app enqueues on (sends after a reply, polls after a connect)."""
    jobs: Jobs = request.app.state.jobs
    return jobs


async def require_csrf(request: Request) -> None:
    """Refuse a state-changing request without this session's token (form field or header)."""
    if request.method not in UNSAFE_METHODS:
        return
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted)


def current_user(request: Request) -> User:
    """The signed-in user; anyone else is sent to the sign-in page (and back afterwards)."""
    user = signed_in_user(request, runtime_of(request))
    if user is None:
        target = request.url.path if request.method == "GET" else "/"
        raise SignInRequired(target)
    return user


UserDep = Annotated[User, Depends(current_user)]


@dataclass(frozen=True, slots=True)
class MemberContext:
    """The signed-in user, the workspace of the URL and their membership of it."""

    user: User
    workspace: Workspace
    member: Member

    @property
    def can_write(self) -> bool:
        return self.member.role in WRITERS


def member_access(session: Session, user: User, slug: str, roles: tuple[str, ...]) -> MemberContext:
    """The member context, or 404 (not a member) / 403 (role too low)."""
    try:
        workspace, member = access_workspace(session, user.id, slug, roles)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    except PermissionDeniedError as error:
        raise HTTPException(status_code=403, detail=str(error)) from None
    session.expunge(workspace)
    session.expunge(member)
    return MemberContext(user, workspace, member)


def any_member(request: Request, slug: str, user: UserDep) -> MemberContext:
    """A member of the URL's workspace, whatever their role (reading)."""
    with runtime_of(request).sessions() as session:
        return member_access(session, user, slug, ROLES)


def writing_member(request: Request, slug: str, user: UserDep) -> MemberContext:
    """A member of the URL's workspace who may act on conversations."""
    with runtime_of(request).sessions() as session:
        return member_access(session, user, slug, WRITERS)


def managing_member(request: Request, slug: str, user: UserDep) -> MemberContext:
    """An owner or admin of the URL's workspace (403 for other members)."""
    with runtime_of(request).sessions() as session:
        return member_access(session, user, slug, MANAGERS)


MemberDep = Annotated[MemberContext, Depends(any_member)]
WriterDep = Annotated[MemberContext, Depends(writing_member)]
ManagerDep = Annotated[MemberContext, Depends(managing_member)]
CsrfDep = Depends(require_csrf)


def signin_location(next_path: str) -> str:
    """The sign-in page, returning to ``next_path`` (a local path only) afterwards."""
    return "/signin?next=" + quote(next_path, safe="/")
