"""Swagger UI's assets, served from the installed swagger-ui-bundle package (no CDN)."""

from flask import Blueprint, abort, current_app, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from server.auth import public

bp = Blueprint("docs_assets", __name__)


@bp.get("/api/v1/docs/assets/<path:filename>")
@public
def swagger_asset(filename: str):
    """A Swagger UI file (only where the docs are served: WUYE_PUBLIC_API_DOCS)."""
    if not current_app.config["PUBLIC_API_DOCS"]:
        abort(404)
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
