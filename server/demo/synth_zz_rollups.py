"""Synthetic district, last step (named to run after every other synth_ module): the compounds' total
households (about 61% registered, as in the second seed), one project in six not residential, and
the hourly rollups of the statistics recounted from the bulk-inserted rows, and the residents counted."""

from __future__ import annotations

from sqlalchemy import func, select, update

from server.extensions import db
from server.models.compounds import Compound, Household
from server.services.alliance.rollups import count_population, rebuild_rollups


def extend(district) -> dict[str, int]:
    """Set total households and residential flags, then rebuild the rollups."""
    rng = district.rng
    registered = dict(db.session.execute(
        select(Household.compound_id, func.count()).where(Household.compound_id.in_(district.compound_ids))
        .group_by(Household.compound_id)).all())
    for index, compound_id in enumerate(district.compound_ids):
        total = round(registered.get(compound_id, 0) / rng.uniform(0.5, 0.72))
        db.session.execute(update(Compound).where(Compound.id == compound_id).values(
            total_households=total, is_residential=index % 6 != 5))
    counts = rebuild_rollups()
    count_population()
    return {f"rollup_{name}": rows for name, rows in counts.items()}
