"""The request's one commit: at its end (`after_request`), or once its write is done (`commit_request`)."""

from __future__ import annotations

from flask import Flask, Response, current_app
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from server.errors import ApiError, ConflictError, UnavailableError, UnprocessableError, handle_http_exception
from server.extensions import db


def commit_request() -> None:
    """Commit the request's work now; what the database refuses rolls back and raises the error answer.

    The check-in writes call it before rendering their answer: on SQLite, a second worker's write
    waits for this commit in sleeps of a millisecond or more, so the write lock should not be held
    while JSON is built. The commit at the end of the request then finds nothing left to do.
    """
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        current_app.logger.warning("conflict at commit")
        raise ConflictError("conflict") from exc
    except DataError as exc:
        db.session.rollback()
        current_app.logger.warning("value refused by the database at commit")
        raise UnprocessableError("value_invalid") from exc
    except OperationalError as exc:
        db.session.rollback()
        current_app.logger.error("could not save the request: database unavailable")
        raise UnavailableError("unavailable") from exc


def install_request_commit(app: Flask) -> None:
    """Commit at the end of every request answered below 400; roll back any other."""

    @app.after_request
    def commit_or_rollback(response: Response) -> Response:
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            commit_request()
        except ApiError as error:
            body, code, headers = handle_http_exception(error)
            response = app.json.response(body)
            response.status_code = code
            response.headers.update(headers)
        return response
