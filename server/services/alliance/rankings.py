"""Companies ranked by residents' satisfaction in a period (满意度排名).

A company's score is the average of every rating of its service in the period: the residents'
period ratings, their ratings after an incident, and their ratings of confirmed deliveries. A
company with fewer ratings than the minimum (setting RANKING_MIN_RATINGS, 5 by default) is listed
apart, unranked. Equal averages share a rank (1, 2, 2, 4). No rater is named: counts and averages.

Other kinds of ratings plug in through `RATING_SOURCES` (each answers rows of company id and
score for an alliance and a period), set by create_app if needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, literal, select

from server.extensions import db
from server.models.compounds import Compound
from server.models.deliveries import DeliveryRating, DeliveryRequest
from server.models.people import User
from server.models.ratings import SatisfactionRating
from server.services.alliance.ratings import alliance_timezone, company_names, period_bounds

DEFAULT_MIN_RATINGS = 5


def _satisfaction(alliance_id: int, period: str, _start: datetime, _end: datetime) -> Select:
    return (select(SatisfactionRating.company_id, SatisfactionRating.score, SatisfactionRating.kind)
            .where(SatisfactionRating.alliance_id == alliance_id, SatisfactionRating.period == period))


def _deliveries(alliance_id: int, _period: str, start: datetime, end: datetime) -> Select:
    return (select(Compound.company_id, DeliveryRating.score, literal("delivery"))
            .join(DeliveryRequest, DeliveryRequest.id == DeliveryRating.request_id)
            .join(Compound, Compound.id == DeliveryRequest.compound_id)
            .where(Compound.alliance_id == alliance_id, DeliveryRating.created_at >= start,
                   DeliveryRating.created_at < end))


# Each source: (alliance_id, period key, UTC start, UTC end) -> rows of (company_id, score, kind).
RATING_SOURCES: list[Callable[[int, str, datetime, datetime], Select]] = [_satisfaction, _deliveries]


def min_ratings() -> int:
    """Ratings a company needs in a period to be ranked (setting RANKING_MIN_RATINGS)."""
    return int(current_app.config.get("RANKING_MIN_RATINGS", DEFAULT_MIN_RATINGS))


def ranking(viewer: User, period: str) -> dict:
    """The alliance's companies for a period: ranked by average score, and apart those with too few ratings."""
    start, end = period_bounds(period, alliance_timezone())
    scores: dict[int, list[int]] = defaultdict(list)
    kinds: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for source in RATING_SOURCES:
        for company_id, score, kind in db.session.execute(source(viewer.alliance_id, period, start, end)).all():
            if company_id is None:
                continue  # a compound the alliance ran itself: no company to rank
            scores[company_id].append(score)
            kinds[company_id][kind] += 1
    names = company_names(viewer.alliance_id)
    least = min_ratings()
    rows = [{"company_id": company_id, "name": name, "ratings": len(scores[company_id]),
             "average": round(sum(scores[company_id]) / len(scores[company_id]), 2) if scores[company_id] else None,
             "by_kind": dict(kinds[company_id])}
            for company_id, name in names.items()]
    ranked = sorted((r for r in rows if r["ratings"] >= least),
                    key=lambda r: (-r["average"], -r["ratings"], r["name"]))
    previous, rank = None, 0
    for position, row in enumerate(ranked, start=1):
        if row["average"] != previous:
            rank, previous = position, row["average"]
        row["rank"] = rank
    unranked = sorted((r for r in rows if r["ratings"] < least), key=lambda r: (-r["ratings"], r["name"]))
    return {"period": period, "min_ratings": least, "ranked": ranked, "unranked": unranked}
