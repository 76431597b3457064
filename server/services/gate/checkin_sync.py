"""Offline sync: a guard's device uploads the scans it queued while the network was down.

Each item is answered on its own (201 stored, 200 replayed, or its error) inside a savepoint, so one
bad item spoils nothing else; a client id seen before answers the stored result, nothing is lost
and nothing doubled. Passes are judged at the item's device time (the device saw them then), so that
time is bounded by the guard's shifts and alerted on when the device was online then (`offline_bounds`).
Every item stored here is marked offline.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.exc import DataError

from server.errors import ApiError, UnprocessableError
from server.messages import localize_errors, message_for
from server.models.people import User
from server.plumbing.clock import utcnow
from server.services.gate.checkin_flows import FLOWS
from server.services.gate.checkins import checkin_fingerprint, checkin_write, reply_of
from server.services.gate.offline_bounds import (
    alert_offline_while_online,
    bound_offline_item,
    online_between,
)


def sync_batch(guard: User, items: list[tuple[str, dict | None, dict | None]]) -> list[dict]:
    """Offline uploads: each item (kind, data, load errors) answered on its own; nothing lost or doubled.

    Passes are judged at the item's device time (the guard's device saw them then), within the guard's
    own shifts at the gate (`offline_bounds`); scans made while the device was online are alerted on.
    """
    results = []
    now = utcnow()
    suspicious: dict[int, list[dict]] = {}
    for index, (kind, data, errors) in enumerate(items):
        client_id = (data or {}).get("client_id")
        if errors is not None:
            results.append(_item_error(index, client_id, UnprocessableError("validation_failed", errors=errors)))
            continue
        fp = checkin_fingerprint(data)
        write = checkin_write(guard.id, client_id, fp)
        try:
            stored = write.stored()
            if stored is not None:
                results.append({"index": index, "client_id": client_id, "status": 200,
                                "checkin": reply_of(stored, replayed=True)})
                continue
            bound_offline_item(guard, data["gate_id"], data["device_time"], now)
            checkin, replayed = write.insert(partial(FLOWS[kind], guard, data, client_id, fp, offline=True),
                                             unexplained="conflict")
            results.append({"index": index, "client_id": client_id, "status": 200 if replayed else 201,
                            "checkin": reply_of(checkin, replayed=replayed)})
            if not replayed and online_between(guard, checkin.gate_id, data["device_time"], now):
                suspicious.setdefault(checkin.compound_id, []).append(
                    {"id": checkin.id, "gate_id": checkin.gate_id, "device_time": data["device_time"]})
        except DataError:
            # A value the database refused (the savepoint is rolled back): this item's fault, not the batch's.
            results.append(_item_error(index, client_id, UnprocessableError("value_invalid")))
        except ApiError as exc:
            results.append(_item_error(index, client_id, exc))
    for compound_id, items in suspicious.items():
        alert_offline_while_online(guard, compound_id, items)
    return results


def _item_error(index: int, client_id: str | None, exc) -> dict:
    error = {"reason": exc.reason, "message": exc.description or message_for(exc.reason)}
    if exc.errors:
        error["errors"] = localize_errors(exc.errors)
    return {"index": index, "client_id": client_id, "status": exc.code, "error": error}
