"""The headers every answer carries: no sniffing, no referrer, no framing, a content policy, HSTS over TLS, CORS.

Installed on the Flask app as its last `after_request` hook (`install_security_headers`); the pass
refresh, answered below Flask (`server.api.pass_refresh`), sends the same list (`json_answer_headers`).
"""

from __future__ import annotations

from flask import Flask, Response, request

# JSON answers load nothing; pages (the docs, a gate's H5 page) load only our own files, and Swagger
# UI and the gate pages need their inline script and styles. Nothing may frame any of it.
CSP_JSON = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
CSP_PAGE = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
HSTS = "max-age=31536000; includeSubDomains"
_ALWAYS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"))


def json_answer_headers(secure: bool) -> list[tuple[str, str]]:
    """The security headers of a JSON answer that sets none of its own, to a request without an Origin."""
    headers = [*_ALWAYS, ("Content-Security-Policy", CSP_JSON)]
    if secure:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def install_security_headers(app: Flask) -> None:
    """Add the headers to every answer of the app (what a view set itself stays), and CORS for listed origins."""
    origins = set(app.config["CORS_ORIGINS"])

    @app.after_request
    def security_headers(response: Response) -> Response:
        # What a view set itself stays; one pass over the names (Headers.setdefault scans them each time).
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        for name, value in (*_ALWAYS,
                            ("Content-Security-Policy", CSP_PAGE if response.mimetype == "text/html" else CSP_JSON)):
            if name.lower() not in present:
                headers.add(name, value)
        if request.is_secure:  # over TLS (behind a proxy: X-Forwarded-Proto, with WUYE_PROXY_HOPS)
            headers.setdefault("Strict-Transport-Security", HSTS)
        origin = request.headers.get("Origin")
        if origin and (origin in origins or "*" in origins):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.add("Vary", "Origin")
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
        return response
