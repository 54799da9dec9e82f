"""Operator roles: the dependency that lets only some roles through to a route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from keepsake.accounts.deps import AUTH_ERRORS, CurrentUser
from keepsake.accounts.models import Role, User
from keepsake.errors import Forbidden
from keepsake.i18n.catalog import _


class ForbiddenRole(Forbidden):
    code = "forbidden_role"


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency giving the signed-in user when they hold one of `roles`, else 403."""
    allowed = frozenset(roles)
    names = ", ".join(role.value for role in roles)

    async def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise ForbiddenRole(
                _("This needs one of these roles: {roles}."), params={"roles": names}
            )
        return user

    return check


AdminUser = Annotated[User, Depends(require_role(Role.admin))]
ModeratorUser = Annotated[User, Depends(require_role(Role.moderator, Role.admin))]

# Every error a role-checked route's user dependency can raise, for OpenAPI `responses`.
ROLE_ERRORS = (*AUTH_ERRORS, ForbiddenRole)
