"""Satisfaction ratings (满意度): a resident rates the property service once per period, and after an incident.

The period is a month by default ('2026-12', setting RATING_PERIOD: month or quarter, '2026-Q4'),
in the alliance's time zone. Once per period per compound is a unique key of the database: of two
submissions racing, one is stored and the other answers 409 already_rated_period. A rating keeps
the company running the compound when it was given, so a later change of company does not move it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.companies import Company
from server.models.compounds import Compound, Household
from server.models.incidents import Incident
from server.models.people import User
from server.models.ratings import RATING_KINDS, SatisfactionRating
from server.plumbing import audit
from server.plumbing.caretakers import acting_company_id
from server.plumbing.clock import utcnow
from server.plumbing.masking import mask_name
from server.plumbing.pagination import paginate

DEFAULT_PERIOD_KIND = "month"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")

register({
    "already_rated_period": ("本周期已评价过该小区的物业服务", "You already rated this compound's service for this period"),
    "already_rated_subject": ("已评价过", "Already rated"),
    "period_invalid": ("周期格式应为 2026-12 或 2026-Q4", "A period looks like 2026-12 or 2026-Q4"),
    "incident_not_closed": ("事件处置结束后才能评价", "An incident can be rated once it is closed"),
})


def period_kind() -> str:
    """month or quarter (setting RATING_PERIOD; a month by default)."""
    return current_app.config.get("RATING_PERIOD", DEFAULT_PERIOD_KIND)


def alliance_timezone() -> str:
    """The time zone periods are cut in (the deployment's default time zone)."""
    return current_app.config["DEFAULT_TIMEZONE"]


def period_key(moment: datetime, tz_name: str, kind: str | None = None) -> str:
    """The period a moment falls in, in local time: '2026-12' (month) or '2026-Q4' (quarter)."""
    local = moment.astimezone(ZoneInfo(tz_name))
    if (kind or period_kind()) == "quarter":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    return f"{local.year}-{local.month:02d}"


def period_bounds(key: str, tz_name: str) -> tuple[datetime, datetime]:
    """The UTC start and end of a period key; 422 period_invalid for anything else."""
    if match := _MONTH.match(key or ""):
        year, first_month, months = int(match[1]), int(match[2]), 1
    elif match := _QUARTER.match(key or ""):
        year, first_month, months = int(match[1]), (int(match[2]) - 1) * 3 + 1, 3
    else:
        raise UnprocessableError("period_invalid", errors={"query": {"period": ["2026-12 or 2026-Q4"]}})
    if not 2000 <= year <= 2999:
        raise UnprocessableError("period_invalid", errors={"query": {"period": ["2026-12 or 2026-Q4"]}})
    tz = ZoneInfo(tz_name)
    end_month = first_month + months
    start = datetime(year, first_month, 1, tzinfo=tz)
    end = datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def current_period() -> str:
    """The period now, in the alliance's time zone."""
    return period_key(utcnow(), alliance_timezone())


def _resident_compound(resident: User) -> Compound:
    household_id = resident.approved_household_id
    compound = db.session.scalar(select(Compound).join(Household, Household.compound_id == Compound.id)
                                 .where(Household.id == household_id)) if household_id else None
    if compound is None:
        raise ConflictError("not_registered")
    return compound


def rate_service(resident: User, score: int, comment: str = "") -> SatisfactionRating:
    """The resident's rating of their compound's property service for the current period (once: 409)."""
    compound = _resident_compound(resident)
    return record_rating(resident, compound, "period", None, score, comment)


def rate_incident(resident: User, incident_id: int, score: int, comment: str = "") -> SatisfactionRating:
    """A resident's rating of how an emergency at their compound was handled, once it is closed."""
    compound = _resident_compound(resident)
    incident = db.session.get(Incident, incident_id)
    if incident is None or incident.compound_id != compound.id:
        raise NotFoundError("not_found")  # only the compound it concerned rates it
    if incident.status != "closed":
        raise ConflictError("incident_not_closed")
    return record_rating(resident, compound, "incident", incident.id, score, comment)


def record_rating(rater: User, compound: Compound, kind: str, subject_id: int | None, score: int,
                  comment: str = "") -> SatisfactionRating:
    """Store a rating of a compound's service (kind 'period', or 'incident' with the incident's id).

    The caller has checked the rater may rate (a resident of the compound; for an incident, one it
    concerned). A second rating of the same period, or of the same incident, is 409.
    """
    if kind not in RATING_KINDS:
        raise UnprocessableError("validation_failed", errors={"json": {"kind": ["period or incident"]}})
    now = utcnow()
    rating = SatisfactionRating(
        # The company acting for the compound is rated: its own, or the caretaker of a company-less one.
        alliance_id=compound.alliance_id, compound_id=compound.id, company_id=acting_company_id(compound),
        user_id=rater.id,
        kind=kind, subject_id=subject_id, period=period_key(now, alliance_timezone()), score=score,
        comment=comment.strip(), created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError:
        # The unique key settled it: this period (or this incident) was already rated, maybe a moment ago.
        raise ConflictError("already_rated_period" if kind == "period" else "already_rated_subject") from None
    return rating


def own_rating(resident: User, period: str | None = None) -> SatisfactionRating | None:
    """The resident's rating of the period (default: the current one) of their compound, if given."""
    return db.session.scalar(select(SatisfactionRating).where(
        SatisfactionRating.user_id == resident.id, SatisfactionRating.kind == "period",
        SatisfactionRating.period == (period or current_period())))


def comments(viewer: User, period: str) -> Select:
    """Ratings with a comment in a period, newest first: a company's own for staff, all for the alliance.

    Rows: the rating, its compound's name and its author's name (mask it before answering).
    """
    period_bounds(period, alliance_timezone())  # 422 for a malformed key
    query = (select(SatisfactionRating, Compound.name, User.display_name)
             .join(Compound, Compound.id == SatisfactionRating.compound_id)
             .join(User, User.id == SatisfactionRating.user_id)
             .where(SatisfactionRating.alliance_id == viewer.alliance_id, SatisfactionRating.period == period,
                    SatisfactionRating.comment != ""))
    if viewer.role != "alliance_admin":
        query = query.where(SatisfactionRating.company_id == viewer.company_id)
    return query.order_by(SatisfactionRating.created_at.desc(), SatisfactionRating.id.desc())


def comments_page(viewer: User, period: str, args: dict) -> dict:
    """A page of the period's comments with their authors masked (张*); the read is audited."""
    def row(found) -> dict:
        rating, compound_name, author = found
        return {"id": rating.id, "period": rating.period, "kind": rating.kind, "score": rating.score,
                "comment": rating.comment, "compound_id": rating.compound_id, "compound_name": compound_name,
                "company_id": rating.company_id, "author": mask_name(author) or "", "created_at": rating.created_at}

    body = paginate(comments(viewer, period), args, rows=True, each=row)
    audit.record("ratings.comments", actor=viewer, object_type="ratings", object_id=period,
                 detail={"rows": len(body["items"]), "page": body["page"]})
    return body


def company_names(alliance_id: int) -> dict[int, str]:
    """The alliance's companies by id."""
    return dict(db.session.execute(select(Company.id, Company.name).where(Company.alliance_id == alliance_id)).all())
