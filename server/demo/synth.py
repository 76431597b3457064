"""A synthetic district of a given size, for benchmarks: compounds, households, residents, traffic.

Rows are written with bulk inserts; a district of 200 compounds x 500 households takes seconds.
Later capabilities add their rows in a module `server/demo/synth_<domain>.py` defining
`extend(district: SynthDistrict) -> dict[str, int]` (e.g. days of gate traffic), run in name order.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from dataclasses import dataclass

from sqlalchemy import insert, select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.companies import Company
from server.models.compounds import Building, Compound, Gate, Household
from server.models.people import User
from server.services.gate.gates import new_gate_code


@dataclass
class SynthDistrict:
    """Ids of what generate_district created, for extensions."""

    alliance_id: int
    compound_ids: list[int]
    gate_ids_by_compound: dict[int, list[int]]
    resident_ids_by_compound: dict[int, list[int]]
    days: int
    rng: random.Random


def generate_district(compounds: int, households_per_compound: int, days: int, seed: int = 1) -> dict[str, int]:
    """Create a district; returns counts of what was created."""
    rng = random.Random(seed)
    alliance = db.session.scalar(select(Alliance).order_by(Alliance.id).limit(1))
    if alliance is None:
        alliance = Alliance(name="合成联盟")
        db.session.add(alliance)
        db.session.flush()
    company_ids = []
    for i in range(max(1, compounds // 5)):
        company = Company(alliance_id=alliance.id, name=f"合成物业{seed}-{i + 1}")
        db.session.add(company)
        db.session.flush()
        company_ids.append(company.id)
    district = SynthDistrict(alliance.id, [], {}, {}, days, rng)
    counts = {"compounds": 0, "gates": 0, "households": 0, "residents": 0}
    for c in range(compounds):
        compound = Compound(alliance_id=alliance.id, company_id=rng.choice(company_ids),
                            name=f"合成小区{seed}-{c + 1}", health_emergency=True)
        db.session.add(compound)
        db.session.flush()
        district.compound_ids.append(compound.id)
        gates = [Gate(compound_id=compound.id, name=f"{n}门", kind="main" if n == "南" else "side",
                      code=new_gate_code()) for n in ("南", "北", "东")]
        db.session.add_all(gates)
        buildings = [Building(compound_id=compound.id, name=f"{b + 1}号楼")
                     for b in range(max(1, households_per_compound // 60))]
        db.session.add_all(buildings)
        db.session.flush()
        district.gate_ids_by_compound[compound.id] = [g.id for g in gates]
        rows = [{"compound_id": compound.id, "building_id": buildings[h % len(buildings)].id,
                 "unit": str(h // len(buildings) % 4 + 1), "room": f"{h // len(buildings) // 4 + 101}"}
                for h in range(households_per_compound)]
        db.session.execute(insert(Household), rows)
        household_ids = db.session.scalars(select(Household.id).where(Household.compound_id == compound.id)).all()
        residents = [{"role": "resident", "alliance_id": alliance.id, "openid": f"synth-{seed}-{compound.id}-{h}-{k}",
                      "display_name": "居民", "household_id": h, "residency": "approved"}
                     for h in household_ids for k in range(rng.randint(1, 4))]
        db.session.execute(insert(User), residents)
        district.resident_ids_by_compound[compound.id] = db.session.scalars(
            select(User.id).join(Household, Household.id == User.household_id)
            .where(Household.compound_id == compound.id)).all()
        counts["compounds"] += 1
        counts["gates"] += len(gates)
        counts["households"] += len(household_ids)
        counts["residents"] += len(residents)
    import server.demo as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("synth_"):
            counts.update(importlib.import_module(f"server.demo.{module_info.name}").extend(district))
    db.session.flush()
    return counts
