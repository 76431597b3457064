"""Exposure look-up (密接排查): who passed the same gates as a person within ±N minutes.

Staff ask with a stated reason; an alliance admin (a second person) approves before any result is
shown; only the requester reads the result. The request, the decision and every read or export are
written to the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from server.errors import ConflictError, NotFoundError
from server.extensions import db
from server.messages import register
from server.models.base import UTCDateTime
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


class _Shifted(FunctionElement):
    """SQL: a timestamp column moved by a whole number of seconds (portable between PostgreSQL and SQLite)."""

    type = UTCDateTime()
    name = "shifted"
    inherit_cache = True

    def __init__(self, column, seconds: int):
        self.seconds = int(seconds)
        super().__init__(column, literal_column(str(self.seconds)))


@compiles(_Shifted)
def _shifted_postgresql(element, compiler, **kw):
    column, seconds = element.clauses
    return f"({compiler.process(column, **kw)} + make_interval(secs => {compiler.process(seconds, **kw)}))"


@compiles(_Shifted, "sqlite")
def _shifted_sqlite(element, compiler, **kw):
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" text: strftime gives milliseconds, padded back to six digits.
    column, seconds = element.clauses
    return (f"(strftime('%Y-%m-%d %H:%M:%f', {compiler.process(column, **kw)}, "
            f"'{element.seconds:+d} seconds') || '000')")


def _contacts(user: User, request: ExposureRequest) -> list[dict]:
    """Who passed a gate of the request's compound within ±minutes of the subject, in one self-join.

    Both sides are held to the request's compound (and the reader's scope): a subject who moved from
    another company's compound reveals nothing of their time there.
    """
    delta = timedelta(minutes=request.minutes)
    # The SQL window is a second wider than asked (SQLite's timestamps shift to the millisecond);
    # the exact ±minutes is applied below.
    reach = int(delta.total_seconds()) + 1
    subject = aliased(CheckIn, name="subject")
    in_compound = and_(CheckIn.compound_id == request.compound_id, compound_condition(user, CheckIn.compound_id))
    rows = db.session.execute(
        select(CheckIn, subject.occurred_at, subject.offline, Gate.name, User.display_name, User.phone, Visitor.name, Visitor.phone,
               Building.name, Household.unit, Household.room)
        .select_from(subject)
        .join(CheckIn, and_(CheckIn.gate_id == subject.gate_id,
                            CheckIn.occurred_at >= _Shifted(subject.occurred_at, -reach),
                            CheckIn.occurred_at <= _Shifted(subject.occurred_at, reach)))
        .join(Gate, Gate.id == CheckIn.gate_id)
        .outerjoin(User, User.id == CheckIn.subject_user_id)
        .outerjoin(Visitor, Visitor.id == CheckIn.visitor_id)
        .outerjoin(Household, Household.id == CheckIn.household_id)
        .outerjoin(Building, Building.id == Household.building_id)
        .where(subject.subject_user_id == request.subject_user_id, subject.decision == "allowed",
               subject.compound_id == request.compound_id, compound_condition(user, subject.compound_id),
               subject.occurred_at >= request.window_start, subject.occurred_at < request.window_end,
               in_compound, CheckIn.decision == "allowed",
               or_(CheckIn.subject_user_id.is_(None), CheckIn.subject_user_id != request.subject_user_id),
               ~and_(CheckIn.subject_user_id.is_(None), CheckIn.visitor_id.is_(None),
                     CheckIn.household_id.is_(None)))
        .order_by(subject.occurred_at, CheckIn.occurred_at, CheckIn.id)).all()
    found: dict[tuple, dict] = {}
    for checkin, passed_at, subject_offline, gate_name, user_name, user_phone, visitor_name, visitor_phone, building, unit, room \
            in rows:
        if abs(checkin.occurred_at - passed_at) > delta:
            continue
        gate_id = checkin.gate_id
        if checkin.visitor_id is not None:
            key, kind, name, phone = ("visitor", checkin.visitor_id), "visitor", visitor_name, visitor_phone
        elif checkin.subject_user_id is not None:
            key, kind, name, phone = ("user", checkin.subject_user_id), "resident", user_name, user_phone
        else:
            key = ("household", checkin.household_id, checkin.person_name)
            kind, name, phone = "household", checkin.person_name, None
        gap = abs(int((checkin.occurred_at - passed_at).total_seconds()))
        entry = found.get(key)
        if entry is None:
            found[key] = entry = {
                "kind": kind, "user_id": checkin.subject_user_id, "visitor_id": checkin.visitor_id,
                "household_id": checkin.household_id, "name": name or "", "phone": phone,
                "household": f"{building}{unit}单元{room}" if building else "", "gate_id": gate_id,
                "gate_name": gate_name, "first_contact_at": checkin.occurred_at, "subject_passed_at": passed_at,
                "gap_seconds": gap, "encounters": 0, "offline": False, "_seen": set()}
        # A time taken from a guard's offline upload is the device's word: the contact says so.
        entry["offline"] = entry["offline"] or checkin.offline or subject_offline
        if checkin.id not in entry["_seen"]:
            entry["_seen"].add(checkin.id)
            entry["encounters"] += 1
        if gap < entry["gap_seconds"]:
            entry.update(gap_seconds=gap, gate_id=gate_id, gate_name=gate_name, subject_passed_at=passed_at)
        entry["first_contact_at"] = min(entry["first_contact_at"], checkin.occurred_at)
    contacts = [{k: v for k, v in entry.items() if k != "_seen"} for entry in found.values()]
    return sorted(contacts, key=lambda c: (c["first_contact_at"], c["name"]))


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
