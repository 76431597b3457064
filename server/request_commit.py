"""The request's one commit: at its end (`after_request`), or once its write is done (`commit_request`).

Also where a database error becomes an answer: whether raised by a query in a view or by the commit,
the session is rolled back and the caller gets 409 (integrity), 422 (a value the database refuses,
or a number out of range) or 503 with `Retry-After` (the database is unavailable), never 500.
"""

from __future__ import annotations

from flask import Flask, Response, current_app
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from server.errors import ApiError, ConflictError, UnavailableError, UnprocessableError, handle_http_exception
from server.extensions import db, transaction_begun


def database_error_answer(error: Exception) -> ApiError:
    """Roll back and turn a database error into the error answer it deserves (logging no values)."""
    db.session.rollback()
    if isinstance(error, IntegrityError):
        # The driver's detail names the values (usernames, phones): only the constraint is logged.
        current_app.logger.warning("integrity error: %s", getattr(getattr(error.orig, "diag", None),
                                                                 "constraint_name", type(error.orig).__name__))
        return ConflictError("conflict")
    if isinstance(error, DataError):
        # NUL in a query string on PostgreSQL, a number out of a column's range: the input is at fault.
        current_app.logger.warning("value refused by the database: %s", type(error.orig).__name__)
        return UnprocessableError("value_invalid")
    if isinstance(error, OverflowError):
        # A number or date too large for the database or for datetime arithmetic.
        current_app.logger.warning("value out of range: %s", error)
        return UnprocessableError("value_out_of_range")
    current_app.logger.error("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
    return UnavailableError("unavailable")


def commit_request() -> None:
    """Commit the request's work now; what the database refuses rolls back and raises the error answer.

    The check-in writes call it before rendering their answer: on SQLite, a second worker's write
    waits for this commit in sleeps of a millisecond or more, so the write lock should not be held
    while JSON is built. The commit at the end of the request then finds nothing left to do.
    """
    if not transaction_begun():
        return  # nothing read or written through the session (the guard scan's own write, a pass refresh)
    try:
        db.session.commit()
    except (IntegrityError, DataError, OperationalError) as exc:
        raise database_error_answer(exc) from exc


def _render_database_error(error: Exception):
    return handle_http_exception(database_error_answer(error))


def install_request_commit(app: Flask) -> None:
    """Commit at the end of every request answered below 400; roll back any other; answer database errors."""
    for error_class in (OperationalError, IntegrityError, DataError, OverflowError):
        app.register_error_handler(error_class, _render_database_error)

    @app.after_request
    def commit_or_rollback(response: Response) -> Response:
        if not db.session.registry.has():
            return response  # the request never used the session (the pass refresh): nothing to end
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
