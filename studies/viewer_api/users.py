"""Users (§7): list, read, and the assignee type-ahead's search (cached briefly)."""

from __future__ import annotations

from typing import Final

from pydantic import TypeAdapter

from studies.viewer_api.cache import cached, remember
from studies.viewer_api.client import call
from studies.viewer_api.pagination import fetch_page
from studies.viewer_api.params import UserFilters
from studies.viewer_api.responses import Page, User

_USER: Final = "/v1/viewer/users/{userId}"
_NO_SUCH_USER: Final = "The Viewer API has no such user. Choose another assignee."
_USER_ADAPTER: Final = TypeAdapter(User)
_USERS: Final = TypeAdapter(list[User])


def user_list(*, filters: UserFilters | None = None, cursor: str | None = None) -> Page[User]:
    return fetch_page("/v1/viewer/users", "users", Page[User], filters or UserFilters(), cursor)


def user_get(*, user_id: str) -> User:
    return call(User, "GET", _USER, path_params={"userId": user_id}, not_found=_NO_SUCH_USER)


def user_get_cached(*, user_id: str) -> User:
    """`user_get`, cached briefly: for showing the chosen assignee again."""
    return cached(_user_key(user_id), lambda: user_get(user_id=user_id), _USER_ADAPTER)


def _user_key(user_id: str) -> str:
    return f"users:get:{user_id}"


def user_search(*, query: str, limit: int = 10) -> list[User]:
    """Users matching a name or an email, for the assignee type-ahead; cached briefly.

    The API filters by first-name and last-name substrings and by exact email (§7.3), so a
    query becomes at most two small filtered calls, never a walk over every user.
    """
    text = " ".join(query.split())
    if not text:
        return []
    return cached(f"users:search:{limit}:{text.lower()}", lambda: _found(text, limit), _USERS)


def _found(text: str, limit: int) -> list[User]:
    """The search's users, each also kept as `user_get_cached` keeps it: a user picked from
    the type-ahead is shown again (the worklist's assignee filter, a form) without a call."""
    users = _search_users(text, limit)
    remember({_user_key(user.user_id): user for user in users}, _USER_ADAPTER)
    return users


def _search_users(text: str, limit: int) -> list[User]:
    if "@" in text:
        attempts = [UserFilters(email=text, limit=limit)]
    elif " " in text:
        first, _, last = text.rpartition(" ")
        attempts = [UserFilters(first_name=first.split(" ")[0], last_name=last, limit=limit)]
    else:
        attempts = [
            UserFilters(last_name=text, limit=limit),
            UserFilters(first_name=text, limit=limit),
        ]
    found: dict[str, User] = {}
    for filters in attempts:
        for user in user_list(filters=filters).items:
            found.setdefault(user.user_id, user)
    users = sorted(found.values(), key=lambda u: (u.last_name.lower(), u.first_name.lower()))
    return users[:limit]
