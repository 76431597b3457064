"""Lending guards across the alliance (互助): an uncovered shift is posted, another company offers a guard.

Staff post their compounds' shifts; the alliance admin posts for compounds with no company (the
seeds' old compound). Once the poster accepts an offer the guard is on that shift of the borrowing
compound only: their access there lasts as long as the shift (``rosters.on_duty_compound_ids``)
and its hours count against their weekly limit like any other shift.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from server import messages
from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.models.compounds import Compound, Gate
from server.models.people import User
from server.models.roster_lending import LoanOffer, LoanRequest
from server.models.rosters import Shift, ShiftAssignment
from server.plumbing.clock import utcnow
from server.plumbing.masking import mask_name
from server.plumbing.pagination import paginate
from server.scope import alliance_of
from server.services.roster.roster_rules import (
    change_status,
    check_shift_open,
    enforce_assignment,
    hold_shifts,
)
from server.services.roster.rosters import add_assignment, managed_compound

messages.register({
    "loan_not_open": ("该互助需求已关闭", "This request for a guard is closed"),
    "offer_not_open": ("该支援已不可操作", "This offer can no longer be acted on"),
    "loan_own_company": ("不能向本公司的小区借调保安", "A company cannot lend a guard to its own compound"),
})


def post_loan(user: User, shift: Shift, note: str = "") -> LoanRequest:
    """Post an uncovered shift of a compound the caller manages to the alliance."""
    compound = managed_compound(user, shift.compound_id)
    check_shift_open(shift, guard_id=-1)
    if db.session.scalar(select(LoanRequest.id).where(LoanRequest.shift_id == shift.id, LoanRequest.status == "open")):
        raise ConflictError("duplicate", shift_ids=[shift.id])
    loan = LoanRequest(alliance_id=compound.alliance_id, shift_id=shift.id, compound_id=compound.id,
                       posted_by_id=user.id, note=note)
    db.session.add(loan)
    db.session.flush()
    return loan


def get_loan(user: User, loan_id: int) -> LoanRequest:
    """A loan request of the caller's alliance, or 404."""
    loan = db.session.get(LoanRequest, loan_id)
    if loan is None or loan.alliance_id != user.alliance_id:
        raise NotFoundError("not_found")
    return loan


def loan_page(user: User, args: dict, status: str | None = None) -> dict:
    """A page of the alliance's posted shifts, soonest first, with compound, gate and open seats (no personal data)."""
    seated = select(ShiftAssignment.shift_id, func.count().label("n")).group_by(ShiftAssignment.shift_id).subquery()
    query = (select(LoanRequest, Shift, Compound.name, Gate.name, func.coalesce(seated.c.n, 0))
             .join(Shift, Shift.id == LoanRequest.shift_id).join(Compound, Compound.id == LoanRequest.compound_id)
             .join(Gate, Gate.id == Shift.gate_id).outerjoin(seated, seated.c.shift_id == Shift.id)
             .where(LoanRequest.alliance_id == user.alliance_id))
    if status:
        query = query.where(LoanRequest.status == status)
    return paginate(query.order_by(Shift.starts_at, LoanRequest.id), args, rows=True, each=lambda row: loan_row(*row))


def loan_row(loan: LoanRequest, shift: Shift | None = None, compound_name: str | None = None,
             gate_name: str | None = None, seated: int | None = None) -> dict:
    """One loan request as the API shows it."""
    shift = shift or db.session.get(Shift, loan.shift_id)
    if compound_name is None:
        compound_name = db.session.scalar(select(Compound.name).where(Compound.id == loan.compound_id))
        gate_name = db.session.scalar(select(Gate.name).where(Gate.id == shift.gate_id))
        seated = db.session.scalar(select(func.count()).where(ShiftAssignment.shift_id == shift.id))
    return {"id": loan.id, "shift_id": shift.id, "compound_id": loan.compound_id, "compound_name": compound_name,
            "gate_id": shift.gate_id, "gate_name": gate_name, "starts_at": shift.starts_at, "ends_at": shift.ends_at,
            "guards_needed": shift.guards_needed, "open_seats": max(0, shift.guards_needed - seated),
            "status": loan.status, "note": loan.note, "created_at": loan.created_at}


def offer_guard(staff: User, loan: LoanRequest, guard_id: int) -> LoanOffer:
    """A company offers one of its guards for a posted shift; the rules are checked now already."""
    alliance_of(staff)  # lending is mutual aid: only active member companies offer
    if loan.status != "open":
        raise ConflictError("loan_not_open", status=loan.status)
    compound = db.session.get(Compound, loan.compound_id)
    if compound.company_id is not None and compound.company_id == staff.company_id:
        raise UnprocessableError("loan_own_company")
    guard = db.session.get(User, guard_id)
    if guard is None or guard.role != "guard" or guard.company_id != staff.company_id:
        raise UnprocessableError("guard_not_eligible", errors={"json": {"guard_id": ["not a guard of your company"]}})
    enforce_assignment(guard.id, db.session.get(Shift, loan.shift_id), compound, lent=True)
    if db.session.scalar(select(LoanOffer.id).where(LoanOffer.loan_id == loan.id, LoanOffer.guard_id == guard.id)):
        raise ConflictError("duplicate")
    offer = LoanOffer(loan_id=loan.id, guard_id=guard.id, company_id=staff.company_id, offered_by_id=staff.id)
    db.session.add(offer)
    db.session.flush()
    return offer


def offered_guard_name(offer: LoanOffer) -> str:
    """The offered guard's name as the caller sees it: set by ``name_offers`` (in full to the guard's own
    company), else masked ("张*") as every other company sees it."""
    shown = getattr(offer, "shown_guard_name", None)
    if shown is not None:
        return shown
    return mask_name(db.session.scalar(select(User.display_name).where(User.id == offer.guard_id)) or "") or ""


def name_offers(user: User, offers: list[LoanOffer]) -> list[LoanOffer]:
    """Unmask the guard's name on the offers of the caller's own company (their staff manage that guard)."""
    for offer in offers:
        if user.role == "staff" and offer.company_id == user.company_id:
            offer.shown_guard_name = db.session.scalar(select(User.display_name).where(User.id == offer.guard_id)) or ""
    return offers


def visible_offers(user: User, loan: LoanRequest) -> list[LoanOffer]:
    """Offers of a loan: all of them for its poster's side, only its own company's for a lender."""
    query = select(LoanOffer).where(LoanOffer.loan_id == loan.id).order_by(LoanOffer.id)
    try:
        managed_compound(user, loan.compound_id)
    except NotFoundError:
        if user.role != "staff":
            return []
        query = query.where(LoanOffer.company_id == user.company_id)
    return list(db.session.scalars(query))


def get_offer(user: User, offer_id: int) -> tuple[LoanOffer, LoanRequest]:
    """An offer of the caller's alliance with its loan, or 404."""
    offer = db.session.get(LoanOffer, offer_id)
    if offer is None:
        raise NotFoundError("not_found")
    return offer, get_loan(user, offer.loan_id)


def _lock(loan: LoanRequest, *objs) -> None:
    """Lock the loan's shift (shift first, then guard, like every roster change) and re-read what we hold."""
    hold_shifts([loan.shift_id])
    for obj in (loan, *objs):
        db.session.refresh(obj)


def accept_offer(user: User, offer: LoanOffer, loan: LoanRequest) -> ShiftAssignment:
    """The borrowing side accepts: the rules are checked again and the lent guard joins the shift.

    A concurrent withdrawal, decline or cancellation and this acceptance: exactly one applies.
    """
    managed_compound(user, loan.compound_id)
    _lock(loan, offer)
    if loan.status != "open":
        raise ConflictError("loan_not_open", status=loan.status)
    now = utcnow()
    change_status(offer, ("offered",), "offer_not_open", status="accepted", decided_by_id=user.id, decided_at=now)
    shift = db.session.get(Shift, loan.shift_id)
    assignment = add_assignment(user, shift, offer.guard_id, source="loan", lent=True, loan_offer_id=offer.id)
    seated = db.session.scalar(select(func.count()).where(ShiftAssignment.shift_id == shift.id))
    if seated >= shift.guards_needed:
        change_status(loan, ("open",), "loan_not_open", status="filled", closed_at=now)
        db.session.execute(update(LoanOffer).where(LoanOffer.loan_id == loan.id, LoanOffer.status == "offered")
                           .values(status="declined", decided_at=now))
    db.session.flush()
    return assignment


def decline_offer(user: User, offer: LoanOffer, loan: LoanRequest) -> LoanOffer:
    """The borrowing side turns an offer down."""
    managed_compound(user, loan.compound_id)
    _lock(loan, offer)
    change_status(offer, ("offered",), "offer_not_open", status="declined", decided_by_id=user.id,
                  decided_at=utcnow())
    return offer


def withdraw_offer(staff: User, offer: LoanOffer) -> LoanOffer:
    """The lending company takes its offer back before it is accepted."""
    if offer.company_id != staff.company_id:
        raise NotFoundError("not_found")
    _lock(db.session.get(LoanRequest, offer.loan_id), offer)
    change_status(offer, ("offered",), "offer_not_open", status="withdrawn", decided_at=utcnow())
    return offer


def cancel_loan(user: User, loan: LoanRequest) -> LoanRequest:
    """The poster closes the request (accepted guards stay on the shift)."""
    managed_compound(user, loan.compound_id)
    _lock(loan)
    now = utcnow()
    change_status(loan, ("open",), "loan_not_open", status="cancelled", closed_at=now)
    db.session.execute(update(LoanOffer).where(LoanOffer.loan_id == loan.id, LoanOffer.status == "offered")
                       .values(status="declined", decided_at=now))
    db.session.flush()
    return loan
