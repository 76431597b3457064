"""Offline sync: a guard's device uploads the scans it queued while the network was down.

Each item is answered on its own (201 stored, 200 replayed, or its error) inside a savepoint, so one
bad item spoils nothing else; a client id seen before answers the stored result, nothing is lost
and nothing doubled. Passes are judged at the item's device time (the device saw them then).
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, IntegrityError

from server.errors import ApiError, ConflictError, UnprocessableError
from server.extensions import db
from server.messages import localize_errors, message_for
from server.models.people import User
from server.services.gate.checkins import FLOWS, checkin_fingerprint, reply_of, stored_checkin


def sync_batch(guard: User, items: list[tuple[str, dict | None, dict | None]]) -> list[dict]:
    """Offline uploads: each item (kind, data, load errors) answered on its own; nothing lost or doubled.

    Passes are judged at the item's device time (the guard's device saw them then).
    """
    results = []
    for index, (kind, data, errors) in enumerate(items):
        client_id = (data or {}).get("client_id")
        if errors is not None:
            results.append(_item_error(index, client_id, UnprocessableError("validation_failed", errors=errors)))
            continue
        fp = checkin_fingerprint(data)
        stored = stored_checkin(guard.id, client_id)
        if stored is not None:
            if stored.fingerprint != fp:
                results.append(_item_error(index, client_id, ConflictError("idempotency_mismatch")))
            else:
                results.append({"index": index, "client_id": client_id, "status": 200,
                                "checkin": reply_of(stored, replayed=True)})
            continue
        try:
            with db.session.begin_nested():
                checkin = FLOWS[kind](guard, data, client_id, fp, offline=True)
            results.append({"index": index, "client_id": client_id, "status": 201, "checkin": reply_of(checkin)})
        except IntegrityError:
            stored = stored_checkin(guard.id, client_id)
            if stored is None:
                results.append(_item_error(index, client_id, ConflictError("conflict")))
            else:
                results.append({"index": index, "client_id": client_id, "status": 200,
                                "checkin": reply_of(stored, replayed=True)})
        except DataError:
            # A value the database refused (the savepoint is rolled back): this item's fault, not the batch's.
            results.append(_item_error(index, client_id, UnprocessableError("value_invalid")))
        except ApiError as exc:
            results.append(_item_error(index, client_id, exc))
    return results


def _item_error(index: int, client_id: str | None, exc) -> dict:
    error = {"reason": exc.reason, "message": exc.description or message_for(exc.reason)}
    if exc.errors:
        error["errors"] = localize_errors(exc.errors)
    return {"index": index, "client_id": client_id, "status": exc.code, "error": error}
