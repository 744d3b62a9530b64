"""Who may do what to the shared record (owned by `owner`, a member of Team A, shared with Team A).

- see it: owner, teammate, manager of A, read-only of A, admin; not: member or manager of Team B (404);
- change it: as "see" but read-only (403);
- archive/restore it: owner, manager of A, admin; teammate and read-only 403; Team B 404;
- API: anonymous 401 everywhere except public operations; pages: anonymous is sent to sign in (302).
"""

from __future__ import annotations

ACTORS = ["anonymous", "admin", "manager", "owner", "teammate", "other", "other_manager", "readonly"]
SEES = {"admin", "manager", "owner", "teammate", "readonly"}
CHANGES = {"admin", "manager", "owner", "teammate"}
ARCHIVES = {"admin", "manager", "owner"}
WRITERS = {"admin", "manager", "owner", "teammate", "other", "other_manager"}


# ---- API expectations


def record_rule(allowed: set[str], ok: int):
    def expect(actor: str) -> int:
        if actor == "anonymous":
            return 401
        if actor not in SEES:
            return 404
        return ok if actor in allowed else 403

    return expect


def everyone(ok: int):
    return lambda actor: 401 if actor == "anonymous" else ok


def writers(ok: int):
    return lambda actor: 401 if actor == "anonymous" else (ok if actor in WRITERS else 403)


def admins(ok: int):
    return lambda actor: 401 if actor == "anonymous" else (ok if actor == "admin" else 403)


def public(ok: int):
    return lambda actor: ok


# ---- page expectations


def record(allowed: set[str], ok: int):
    def expect(actor):
        if actor == "anonymous":
            return 302
        if actor not in SEES:
            return 404
        return ok if actor in allowed else 403

    return expect


def signed_in(ok: int):
    return lambda actor: 302 if actor == "anonymous" else ok


def writer(ok: int):
    return lambda actor: 302 if actor == "anonymous" else (ok if actor in WRITERS else 403)


def admin_only(ok: int):
    return lambda actor: 302 if actor == "anonymous" else (ok if actor == "admin" else 403)
