"""The web pages in static/: the staff console at /console/ and the mobile pages at /m/.

Each page is a static HTML file (static/console/<name>.html, static/m/<name>.html) with ES modules
from /static/js/; it talks to /api/v1 like the mini-program. The pages get a strict
Content-Security-Policy: no inline script or style, nothing from another origin.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, send_from_directory

from server.auth import public

bp = Blueprint("pages", __name__)

# What the pages need and nothing more. 'wasm-unsafe-eval' lets the vendored barcode reader compile
# its WebAssembly (the guard's scanner); it permits no eval of JavaScript.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
       "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


def _static_dir(section: str) -> Path:
    return Path(current_app.static_folder) / section


def _page(section: str, name: str):
    if not _NAME.match(name) or not (_static_dir(section) / f"{name}.html").is_file():
        abort(404)
    response = send_from_directory(_static_dir(section), f"{name}.html", max_age=0)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-cache"
    # The guard's scanner needs the camera; nothing needs the microphone or location.
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    return response


@bp.get("/favicon.ico")
@public
def favicon():
    """The site icon (browsers ask for it on every page, the /g/<code> page included)."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.get("/console")
@public
def console_root():
    """The staff console lives under /console/."""
    return redirect("/console/", code=308)


@bp.get("/console/")
@public
def console_index():
    """The staff console (desktop): sign-in and the start page."""
    return _page("console", "index")


@bp.get("/console/<name>")
@public
def console_page(name: str):
    """One page of the staff console: static/console/<name>.html."""
    return _page("console", name)


@bp.get("/m")
@public
def mobile_root():
    """The mobile pages live under /m/."""
    return redirect("/m/", code=308)


@bp.get("/m/")
@public
def mobile_index():
    """The mobile start page: sign-in and links to the resident's and the guard's pages."""
    return _page("m", "index")


@bp.get("/m/<name>")
@public
def mobile_page(name: str):
    """One mobile page: static/m/<name>.html (pass, guard, checkin, temperature, delivery, messages)."""
    return _page("m", name)
