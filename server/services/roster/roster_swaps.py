"""Shift swaps: a guard offers one of their shifts, another guard accepts, staff approve.

The rules are checked when the second guard accepts (so they learn at once that they cannot take
it) and again at approval, against the roster as it is then.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from server import messages
from server.errors import ConflictError, NotFoundError
from server.extensions import db
from server.models.compounds import Compound
from server.models.people import User
from server.models.roster_swaps import SwapRequest
from server.models.rosters import Shift, ShiftAssignment
from server.plumbing.clock import utcnow
from server.scope import staff_compounds
from server.services.roster.roster_rules import change_status, enforce_assignment, hold_shifts
from server.services.roster.rosters import add_assignment, managed_compound

messages.register({
    "swap_not_open": ("该换班申请已不可操作", "This swap can no longer be acted on"),
    "swap_own_shift": ("不能接自己的班", "You cannot take your own shift"),
    "swap_already_offered": ("该班次已在换班中", "This shift is already offered"),
})


def offer_swap(guard: User, assignment_id: int, note: str = "") -> SwapRequest:
    """Offer one of my shifts that has not started to the other guards."""
    assignment = db.session.get(ShiftAssignment, assignment_id)
    if assignment is None or assignment.guard_id != guard.id:
        raise NotFoundError("not_found")
    if assignment.starts_at <= utcnow():
        raise ConflictError("shift_started", shift_ids=[assignment.shift_id])
    if db.session.scalar(select(SwapRequest.id).where(SwapRequest.assignment_id == assignment.id,
                                                      SwapRequest.status.in_(("offered", "accepted")))):
        raise ConflictError("swap_already_offered", shift_ids=[assignment.shift_id])
    swap = SwapRequest(assignment_id=assignment.id, shift_id=assignment.shift_id, compound_id=assignment.compound_id,
                       offered_by_id=guard.id, note=note)
    db.session.add(swap)
    db.session.flush()
    return swap


def visible_swaps(user: User):
    """A select of the swaps the caller may see: a guard's own and those of their company's compounds."""
    query = select(SwapRequest).order_by(SwapRequest.id.desc())
    company_compounds = select(Compound.id).where(Compound.company_id == user.company_id)
    if user.role == "guard":
        return query.where(or_(SwapRequest.offered_by_id == user.id, SwapRequest.accepted_by_id == user.id,
                               SwapRequest.compound_id == user.compound_id,
                               SwapRequest.compound_id.in_(company_compounds)))
    # Staff: the compounds they act for (their company's and those entrusted to it); the admin: those they run.
    return query.where(SwapRequest.compound_id.in_(staff_compounds(user)))


def get_swap(user: User, swap_id: int) -> SwapRequest:
    """A swap the caller may see, or 404."""
    swap = db.session.scalar(visible_swaps(user).where(SwapRequest.id == swap_id))
    if swap is None:
        raise NotFoundError("not_found")
    return swap


def _lock(swap: SwapRequest) -> None:
    """Lock the swap's shift (the order every roster change keeps: shift, then guard) and re-read the swap."""
    hold_shifts([swap.shift_id])
    db.session.refresh(swap)


def _check_not_started(swap: SwapRequest) -> Shift:
    shift = db.session.get(Shift, swap.shift_id)
    db.session.refresh(shift)
    if shift.starts_at <= utcnow():
        raise ConflictError("shift_started", shift_ids=[shift.id])
    return shift


def accept_swap(guard: User, swap: SwapRequest) -> SwapRequest:
    """Take an offered shift (pending staff approval); the rules are checked now already.

    Of two guards accepting at once exactly one succeeds; the other gets 409 with the status.
    """
    _lock(swap)
    if swap.status != "offered":
        raise ConflictError("swap_not_open", status=swap.status)
    if swap.offered_by_id == guard.id:
        raise ConflictError("swap_own_shift")
    shift = _check_not_started(swap)
    ignore = (swap.assignment_id,) if swap.assignment_id is not None else ()
    enforce_assignment(guard.id, shift, db.session.get(Compound, swap.compound_id), ignore_assignment_ids=ignore)
    change_status(swap, ("offered",), "swap_not_open", status="accepted", accepted_by_id=guard.id)
    return swap


def approve_swap(staff: User, swap: SwapRequest) -> SwapRequest:
    """Staff approve: the rules are checked again (once, by ``add_assignment``), then the shift changes hands."""
    managed_compound(staff, swap.compound_id)
    _lock(swap)
    if swap.status != "accepted" or swap.assignment_id is None:
        raise ConflictError("swap_not_open", status=swap.status)
    shift = _check_not_started(swap)
    old_id, taker_id = swap.assignment_id, swap.accepted_by_id
    change_status(swap, ("accepted",), "swap_not_open", status="approved", decided_by_id=staff.id,
                  decided_at=utcnow(), assignment_id=None)
    add_assignment(staff, shift, taker_id, source="swap", ignore_assignment_ids=(old_id,))
    old = db.session.get(ShiftAssignment, old_id)
    if old is not None:
        db.session.delete(old)
    db.session.flush()
    return swap


def reject_swap(staff: User, swap: SwapRequest) -> SwapRequest:
    """Staff turn a swap down; the shift stays with the guard who offered it."""
    managed_compound(staff, swap.compound_id)
    _lock(swap)
    change_status(swap, ("offered", "accepted"), "swap_not_open", status="rejected", decided_by_id=staff.id,
                  decided_at=utcnow())
    return swap


def cancel_swap(guard: User, swap: SwapRequest) -> SwapRequest:
    """The guard who offered the shift takes the offer back (before approval)."""
    if swap.offered_by_id != guard.id:
        raise NotFoundError("not_found")
    _lock(swap)
    change_status(swap, ("offered", "accepted"), "swap_not_open", status="cancelled", decided_at=utcnow())
    return swap
