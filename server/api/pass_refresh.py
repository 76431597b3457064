"""The pass refresh every shown phone sends each minute, answered below Flask when it succeeds.

A resident's plain refresh (`GET /api/v1/me/pass`, no query string, no Origin: the mini-program's
call) is the most frequent request there is. Through Flask it cost about 170 us more of the worker's
CPU than the work itself (request and app contexts, routing, the view's three wrappers, a Response,
the after-request hooks): about a third of the request. Here the same functions answer it: the
bearer token and the caller's live session (`auth.caller_for_token`, the same one-statement read, so a
logout or a removed resident counts at once), the pass (`passes.issue_for`), the body (`pass_answer`)
and the security headers (`json_answer_headers`), inside an app context. Anything else, and any
refresh that does not end in a pass (no token, another role, a pending resident, a database that does
not answer), goes on to Flask untouched, whose view meets the same failure and answers it as every
other request: its error body, its status, its log line. `tests/api/test_pass_refresh.py` holds the
two answers equal and lists the app's hooks this path stands in for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask

from server.api.passes import pass_answer
from server.auth import bearer_token, caller_for_token
from server.security_headers import json_answer_headers
from server.services.gate import passes

PATH = "/api/v1/me/pass"


class PassRefresh:
    """WSGI middleware in front of the Flask app: answers a resident's plain pass refresh, passes on the rest."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Answer a plain refresh that ends in a pass; hand everything else to the Flask app."""
        if (environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "GET"
                and not environ.get("QUERY_STRING") and "HTTP_ORIGIN" not in environ):
            body = self._pass_body(environ)
            if body is not None:
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                          ("Cache-Control", "no-store"),
                                          *json_answer_headers(environ.get("wsgi.url_scheme") == "https")])
                return [body]
        return self.wsgi_app(environ, start_response)

    def _pass_body(self, environ: dict) -> bytes | None:
        token = bearer_token(environ.get("HTTP_AUTHORIZATION"))
        app = self.app
        if token is None or app.debug:  # (a debug app pretty-prints its JSON: Flask answers)
            return None
        with app.app_context():
            try:
                caller, _session_id = caller_for_token(token)
                if caller.role != "resident":
                    return None
                body = pass_answer(passes.issue_for(caller))
            except Exception:  # Flask's view meets it again and answers it (see above)
                return None
            return f"{app.json.dumps(body, separators=(',', ':'))}\n".encode()
