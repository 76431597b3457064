"""Demo data, last step (named to run after every other demo_ module): the compounds' total households
(黄平路8号院 has 276, all registered; 万龙小区 more than its registered ones), a few satisfaction
ratings, and the hourly rollups of the statistics recounted from the demo's bulk-inserted rows, and the residents counted."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models.compounds import Household
from server.models.ratings import SatisfactionRating
from server.plumbing.clock import utcnow
from server.services.alliance.ratings import alliance_timezone, period_key
from server.services.alliance.rollups import count_population, rebuild_rollups

TOTALS = {"黄平路8号院": 276, "万龙小区": 120}
COMMENTS = ["保安很负责", "送菜及时", "", "消毒做得好", "希望侧门早点开"]


def load(org) -> None:
    """Totals, ratings of this month by some residents, and the rollups."""
    for name, total in TOTALS.items():
        compound = org.compounds.get(name)
        if compound is not None:
            compound.total_households = total
    now = utcnow()
    # 万龙小区's residents first: their ratings rank 万龙物业 (黄平路8号院 has no company to rank).
    raters = sorted(org.residents.items(), key=lambda item: not item[0].startswith("wl-"))
    for n, (_key, resident) in enumerate(raters[:6]):
        compound_id = db.session.scalar(select(Household.compound_id).where(Household.id == resident.household_id))
        compound = next(c for c in org.compounds.values() if c.id == compound_id)
        db.session.add(SatisfactionRating(
            alliance_id=org.alliance.id, compound_id=compound.id, company_id=compound.company_id,
            user_id=resident.id, kind="period", period=period_key(now, alliance_timezone()),
            score=5 - n % 2, comment=COMMENTS[n % len(COMMENTS)], created_at=now))
    db.session.flush()
    rebuild_rollups()
    count_population()
