"""Service figures of grocery delivery, per compound and per company, with no personal data.

Time to claim and time to deliver are measured from submission. Durations are aggregated in Python
so the same code gives the same figures on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import mean, median

from sqlalchemy import select

from server.errors import UnprocessableError
from server.models.companies import Company
from server.models.compounds import Compound
from server.models.deliveries import DeliveryRating, DeliveryRequest
from server.models.people import User
from server.plumbing.clock import utcnow
from server.plumbing.replica import reads
from server.scope import compound_condition

DEFAULT_PERIOD = timedelta(days=30)
MAX_FIGURES_PERIOD = timedelta(days=366)


@dataclass
class _Tally:
    requests: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    claim_minutes: list[float] = field(default_factory=list)
    deliver_minutes: list[float] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)

    def add(self, status: str, created: datetime, claimed: datetime | None, delivered: datetime | None,
            score: int | None) -> None:
        self.requests += 1
        self.by_status[status] += 1
        if claimed is not None:
            self.claim_minutes.append((claimed - created).total_seconds() / 60)
        if delivered is not None:
            self.deliver_minutes.append((delivered - created).total_seconds() / 60)
        if score is not None:
            self.scores.append(score)

    def figures(self) -> dict:
        return {
            "requests": self.requests,
            "claimed": len(self.claim_minutes),
            "delivered": len(self.deliver_minutes),
            "confirmed": self.by_status["confirmed"],
            "cancelled": self.by_status["cancelled"],
            "rejected": self.by_status["rejected"],
            "open": sum(self.by_status[s] for s in ("submitted", "claimed", "purchasing", "on_the_way")),
            "claim_minutes_avg": _round(mean(self.claim_minutes)) if self.claim_minutes else None,
            "claim_minutes_median": _round(median(self.claim_minutes)) if self.claim_minutes else None,
            "deliver_minutes_avg": _round(mean(self.deliver_minutes)) if self.deliver_minutes else None,
            "deliver_minutes_median": _round(median(self.deliver_minutes)) if self.deliver_minutes else None,
            "ratings": len(self.scores),
            "rating_avg": _round(mean(self.scores)) if self.scores else None,
        }


def _round(value: float) -> float:
    return round(value, 1)


def service_figures(viewer: User, since: datetime | None = None, until: datetime | None = None) -> dict:
    """Figures of requests submitted in [since, until) in the viewer's compounds, per compound and company.

    The period defaults to the 30 days before ``until`` (now); it may not exceed 366 days (422).
    """
    until = until or utcnow()
    since = since or until - DEFAULT_PERIOD
    if until <= since:
        raise UnprocessableError("validation_failed", errors={"query": {"until": ["must be after since"]}})
    if until - since > MAX_FIGURES_PERIOD:
        raise UnprocessableError("validation_failed", errors={"query": {
            "until": [f"at most {MAX_FIGURES_PERIOD.days} days after since"]}})
    compounds = reads().execute(
        select(Compound.id, Compound.name, Compound.company_id)
        .where(compound_condition(viewer, Compound.id)).order_by(Compound.id)).all()
    rows = reads().execute(
        select(DeliveryRequest.compound_id, DeliveryRequest.status, DeliveryRequest.created_at,
               DeliveryRequest.claimed_at, DeliveryRequest.delivered_at, DeliveryRating.score)
        .outerjoin(DeliveryRating, DeliveryRating.request_id == DeliveryRequest.id)
        .where(compound_condition(viewer, DeliveryRequest.compound_id),
               DeliveryRequest.created_at >= since, DeliveryRequest.created_at < until)).all()
    by_compound: dict[int, _Tally] = defaultdict(_Tally)
    company_of = {c.id: c.company_id for c in compounds}
    by_company: dict[int | None, _Tally] = defaultdict(_Tally)
    for compound_id, status, created, claimed, delivered, score in rows:
        by_compound[compound_id].add(status, created, claimed, delivered, score)
        by_company[company_of.get(compound_id)].add(status, created, claimed, delivered, score)

    company_ids = sorted({c.company_id for c in compounds if c.company_id is not None})
    names = dict(reads().execute(select(Company.id, Company.name).where(Company.id.in_(company_ids))).all())
    return {
        "since": since,
        "until": until,
        "compounds": [{"compound_id": c.id, "compound_name": c.name, "company_id": c.company_id,
                       **by_compound[c.id].figures()} for c in compounds],
        "companies": [{"company_id": company_id, "company_name": names.get(company_id),
                       **by_company[company_id].figures()}
                      for company_id in company_ids + ([None] if None in company_of.values() else [])],
    }
