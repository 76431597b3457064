"""This request's caller as authentication left it in `flask.g`, for the writers below the rules.

`server.auth` stores the caller's row as `g.caller` and, once a view asks for one, the `User` as
`g.current_user`; the audit log reads them here, so plumbing never imports auth.
"""

from __future__ import annotations

from flask import g, has_request_context


def caller_if_authenticated():
    """This request's caller when authentication has run (the User if a view built one), else None."""
    if not has_request_context():
        return None
    return g.get("current_user") or g.get("caller")
