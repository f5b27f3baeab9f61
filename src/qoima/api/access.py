"""Who may see what, for reads the services do not guard themselves.

Writes are authorized by the services (``actor=``). Reads of one object answer 404, never
403, when the caller may not read its vehicle: an id guessed from another vehicle must not
even confirm that the object exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from qoima.app.auth import Principal
from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import Forbidden, NotFound
from qoima.domain.roles import Permission, User, authorize

T = TypeVar("T")


class Concealed(NotFound):
    """A Forbidden answered as NotFound: the client sees the same 404 a missing object
    gives, while the refusal is still audited (see :mod:`qoima.api.refusals`)."""


def acting_user(reserve: Reserve, principal: Principal) -> User:
    """The caller's user record: the one read with the credential when there is one."""
    if principal.account is not None:
        return principal.account
    return reserve.users.get(principal.user)


def can_read(user: User, vehicle: str | None) -> bool:
    return user.can(Permission.READ, vehicle)


def require_read(user: User, vehicle: str | None, missing: str,
                 field: str | None = None) -> None:
    """NotFound(``missing``) unless ``user`` may read ``vehicle``."""
    if not can_read(user, vehicle):
        raise Concealed(missing, field=field)


def require_everywhere(user: User, permission: Permission) -> None:
    """Institution-wide results (daily run, whole-reserve risk, the audit trail) need a
    grant that covers every vehicle."""
    authorize(user, permission, None)


def hidden(load: Callable[[], T], missing: str, field: str | None = None) -> T:
    """``load()``, with Forbidden turned into the same 404 a missing object gives."""
    try:
        return load()
    except Forbidden:
        raise Concealed(missing, field=field) from None
