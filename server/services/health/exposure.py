"""Exposure look-up (密接排查): who passed the same gates as a person within ±N minutes.

Staff ask with a stated reason; an alliance admin (a second person) approves before any result is
shown; only the requester reads the result. The request, the decision and every read or export are
written to the audit log.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict, namedtuple
from datetime import timedelta
from operator import attrgetter

from sqlalchemy import and_, or_, select

from server.errors import ConflictError, NotFoundError
from server.extensions import db
from server.messages import register
from server.models.checkins import CheckIn, Visitor
from server.models.compounds import Building, Compound, Gate, Household
from server.models.exposure import ExposureRequest
from server.models.people import User
from server.plumbing import audit
from server.plumbing.clock import utcnow
from server.plumbing.csv_export import Sheet
from server.scope import compound_condition

register({
    "exposure_not_pending": ("该排查申请已处理", "This request was already decided"),
    "exposure_not_approved": ("排查申请尚未获批,不能查看结果", "The request is not approved; no results are shown"),
    "exposure_self_approval": ("不能审批自己提出的排查申请", "You cannot approve your own request"),
})

# Export columns: (key of a contact, Chinese title).
EXPORT_COLUMNS = (("kind", "类别"), ("name", "姓名"), ("phone", "电话"), ("household", "住户"), ("gate", "出入口"),
                  ("first_contact_at", "首次接触时间"), ("subject_passed_at", "当事人通过时间"),
                  ("gap_seconds", "间隔(秒)"), ("encounters", "接触次数"), ("offline_zh", "含离线补传"))
KIND_ZH = {"resident": "居民", "visitor": "访客", "household": "登记人员"}


def request_lookup(staff: User, data: dict) -> ExposureRequest:
    """File a reasoned request about a resident of one of the staff member's compounds."""
    compound_id = db.session.scalar(
        select(Household.compound_id).join(User, User.household_id == Household.id)
        .where(User.id == data["subject_user_id"], compound_condition(staff, Household.compound_id)))
    if compound_id is None:
        raise NotFoundError("not_found")
    request = ExposureRequest(compound_id=compound_id, subject_user_id=data["subject_user_id"],
                              window_start=data["window_start"], window_end=data["window_end"],
                              minutes=data["minutes"], reason=data["reason"].strip(), requested_by_id=staff.id)
    db.session.add(request)
    db.session.flush()
    audit.record("exposure.request", actor=staff, object_type="exposure_request", object_id=request.id,
                 compound_id=compound_id, reason=request.reason,
                 detail={"subject_user_id": request.subject_user_id, "minutes": request.minutes,
                         "window": [request.window_start.isoformat(), request.window_end.isoformat()]})
    return request


def requests_query(user: User, status: str | None = None):
    """The requests the caller may see (staff: their compounds'; the alliance admin: all of the alliance)."""
    query = select(ExposureRequest).where(compound_condition(user, ExposureRequest.compound_id))
    if status:
        query = query.where(ExposureRequest.status == status)
    return query.order_by(ExposureRequest.id.desc())


def get_request(user: User, request_id: int) -> ExposureRequest:
    """A request in the caller's scope, or 404."""
    request = db.session.scalar(requests_query(user).where(ExposureRequest.id == request_id))
    if request is None:
        raise NotFoundError("not_found")
    return request


def decide(approver: User, request_id: int, approve: bool, note: str = "") -> ExposureRequest:
    """The second person approves or rejects a pending request (never their own)."""
    request = get_request(approver, request_id)
    if request.requested_by_id == approver.id:
        raise ConflictError("exposure_self_approval")
    if request.status != "pending":
        raise ConflictError("exposure_not_pending", current_status=request.status)
    # Conditional update: two approvers at once, one decides.
    decided = db.session.execute(
        ExposureRequest.__table__.update()
        .where(ExposureRequest.id == request.id, ExposureRequest.status == "pending")
        .values(status="approved" if approve else "rejected", decided_by_id=approver.id, decided_at=utcnow(),
                decision_note=note)).rowcount
    if decided != 1:
        raise ConflictError("exposure_not_pending")
    db.session.refresh(request)
    audit.record("exposure.approve" if approve else "exposure.reject", actor=approver,
                 object_type="exposure_request", object_id=request.id, compound_id=request.compound_id,
                 reason=note, detail={"requested_by_id": request.requested_by_id})
    return request


def _readable(user: User, request_id: int) -> ExposureRequest:
    request = get_request(user, request_id)
    if request.requested_by_id != user.id:
        raise NotFoundError("not_found")
    if request.status != "approved":
        raise ConflictError("exposure_not_approved", current_status=request.status)
    return request


# Ranges of the others' passages looked up in one statement (an OR of index ranges; SQLite parses an OR of
# n terms n deep, and limits a statement's depth to 1000).
_WINDOWS_PER_QUERY = 100
# Ids per IN list when the contacts' names are read.
_IDS_PER_QUERY = 500
# Plain tuples: an attribute of a SQLAlchemy row costs several times a tuple's, and each pair reads a dozen.
_Passage = namedtuple("_Passage", "id gate_id occurred_at offline")
_Other = namedtuple("_Other", "id gate_id occurred_at offline subject_user_id visitor_id household_id person_name")


def _contacts(user: User, request: ExposureRequest) -> list[dict]:
    """Who passed a gate of the request's compound within ±minutes of the subject.

    The subject's own passages in the window first (by person and time), then the others' passages at
    the same gates within ±minutes of them (by gate and time, one range per run of overlapping
    passages), paired here; the names are read once per contact. Both sides are held to the request's
    compound (and the reader's scope): a subject who moved from another company's compound reveals
    nothing of their time there.
    """
    delta = timedelta(minutes=request.minutes)
    in_compound = and_(CheckIn.compound_id == request.compound_id, compound_condition(user, CheckIn.compound_id))
    passages = [_Passage._make(row) for row in db.session.execute(
        select(*(getattr(CheckIn, name) for name in _Passage._fields))
        .where(CheckIn.subject_user_id == request.subject_user_id, CheckIn.decision == "allowed", in_compound,
               CheckIn.occurred_at >= request.window_start, CheckIn.occurred_at < request.window_end)
        .order_by(CheckIn.occurred_at, CheckIn.id))]
    others = _others_near(request, in_compound, passages, delta)
    found: dict[tuple, dict] = {}
    # In the order of the subject's passages, then the others' (time, id): the first nearest pair names the gate.
    for passage in passages:
        nearby = others.get(passage.gate_id, ())
        first = bisect_left(nearby, passage.occurred_at - delta, key=attrgetter("occurred_at"))
        for checkin in nearby[first:]:
            if checkin.occurred_at - passage.occurred_at > delta:
                break
            _pair(found, checkin, passage)
    _name(found)
    contacts = [{k: v for k, v in entry.items() if k != "_seen"} for entry in found.values()]
    return sorted(contacts, key=lambda c: (c["first_contact_at"], c["name"]))


def _others_near(request: ExposureRequest, in_compound, passages, delta: timedelta) -> dict[int, list]:
    """Everyone else's allowed passages at the subject's gates within ±delta of a passage, by gate, in (time, id)."""
    windows: list[list] = []
    for gate_id, at in sorted((p.gate_id, p.occurred_at) for p in passages):
        if windows and windows[-1][0] == gate_id and at - delta <= windows[-1][2]:
            windows[-1][2] = at + delta
        else:
            windows.append([gate_id, at - delta, at + delta])
    by_gate: dict[int, list] = defaultdict(list)
    for chunk in _chunks(windows, _WINDOWS_PER_QUERY):
        rows = db.session.execute(
            select(*(getattr(CheckIn, name) for name in _Other._fields))
            .where(or_(*(and_(CheckIn.gate_id == gate_id, CheckIn.occurred_at >= low, CheckIn.occurred_at <= high)
                         for gate_id, low, high in chunk)),
                   in_compound, CheckIn.decision == "allowed",
                   or_(CheckIn.subject_user_id.is_(None), CheckIn.subject_user_id != request.subject_user_id),
                   ~and_(CheckIn.subject_user_id.is_(None), CheckIn.visitor_id.is_(None),
                         CheckIn.household_id.is_(None))))
        for row in rows:
            other = _Other._make(row)
            by_gate[other.gate_id].append(other)
    for rows in by_gate.values():
        rows.sort(key=attrgetter("occurred_at", "id"))
    return by_gate


def _pair(found: dict[tuple, dict], checkin, passage) -> None:
    """Count one passage of another person near one of the subject's into that person's contact."""
    if checkin.visitor_id is not None:
        key, kind = ("visitor", checkin.visitor_id), "visitor"
    elif checkin.subject_user_id is not None:
        key, kind = ("user", checkin.subject_user_id), "resident"
    else:
        key, kind = ("household", checkin.household_id, checkin.person_name), "household"
    gap = abs(int((checkin.occurred_at - passage.occurred_at).total_seconds()))
    entry = found.get(key)
    if entry is None:
        found[key] = entry = {
            "kind": kind, "user_id": checkin.subject_user_id, "visitor_id": checkin.visitor_id,
            "household_id": checkin.household_id, "name": checkin.person_name if kind == "household" else "",
            "phone": None, "household": "", "gate_id": checkin.gate_id, "gate_name": "",
            "first_contact_at": checkin.occurred_at, "subject_passed_at": passage.occurred_at,
            "gap_seconds": gap, "encounters": 0, "offline": False, "_seen": set()}
    # A time taken from a guard's offline upload is the device's word: the contact says so.
    entry["offline"] = entry["offline"] or checkin.offline or passage.offline
    if checkin.id not in entry["_seen"]:
        entry["_seen"].add(checkin.id)
        entry["encounters"] += 1
    if gap < entry["gap_seconds"]:
        entry.update(gap_seconds=gap, gate_id=checkin.gate_id, subject_passed_at=passage.occurred_at)
    entry["first_contact_at"] = min(entry["first_contact_at"], checkin.occurred_at)


def _name(found: dict[tuple, dict]) -> None:
    """Fill in the contacts' names, phones, households and gates, one query per kind."""
    entries = found.values()
    users = _by_id(select(User.id, User.display_name, User.phone), User.id,
                   {e["user_id"] for e in entries if e["kind"] == "resident"})
    visitors = _by_id(select(Visitor.id, Visitor.name, Visitor.phone), Visitor.id,
                      {e["visitor_id"] for e in entries if e["kind"] == "visitor"})
    households = _by_id(select(Household.id, Building.name, Household.unit, Household.room)
                        .outerjoin(Building, Building.id == Household.building_id), Household.id,
                        {e["household_id"] for e in entries if e["household_id"] is not None})
    gates = _by_id(select(Gate.id, Gate.name), Gate.id, {e["gate_id"] for e in entries})
    for entry in entries:
        if entry["kind"] != "household":
            _id, name, phone = (users if entry["kind"] == "resident" else visitors)[
                entry["user_id"] if entry["kind"] == "resident" else entry["visitor_id"]]
            entry.update(name=name or "", phone=phone)
        _id, building, unit, room = households.get(entry["household_id"], (None, None, None, None))
        if building:
            entry["household"] = f"{building}{unit}单元{room}"
        entry["gate_name"] = gates[entry["gate_id"]][1]


def _by_id(query, id_column, ids: set) -> dict:
    rows = {}
    for chunk in _chunks(sorted(ids), _IDS_PER_QUERY):
        rows.update((row[0], tuple(row)) for row in db.session.execute(query.where(id_column.in_(chunk))))
    return rows


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def read_contacts(user: User, request_id: int) -> dict:
    """The approved request's contacts, for its requester; the read is audited."""
    request = _readable(user, request_id)
    contacts = _contacts(user, request)
    audit.record("exposure.read", actor=user, object_type="exposure_request", object_id=request.id,
                 compound_id=request.compound_id, reason=request.reason, detail={"contacts": len(contacts)})
    return {"request": request, "contacts": contacts}


def contacts_sheet(user: User, request_id: int) -> Sheet:
    """The approved request's contacts as an export sheet (CSV or .xlsx); the export is audited."""
    request = _readable(user, request_id)
    contacts = _contacts(user, request)
    rows = []
    for c in contacts:
        row = {**c, "gate": c["gate_name"], "kind": KIND_ZH.get(c["kind"], c["kind"]),
               "offline_zh": "是" if c["offline"] else ""}
        rows.append([row[key] for key, _title in EXPORT_COLUMNS])
    audit.record("exposure.export", actor=user, object_type="exposure_request", object_id=request.id,
                 compound_id=request.compound_id, reason=request.reason, detail={"contacts": len(contacts)})
    timezone = db.session.scalar(select(Compound.timezone).where(Compound.id == request.compound_id))
    return Sheet(title=f"密接排查 {request.id}", columns=[title for _key, title in EXPORT_COLUMNS], rows=rows,
                 timezone=timezone)
