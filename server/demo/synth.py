"""A synthetic district of a given size, for benchmarks: compounds, households, residents, traffic.

Licang (the second seed) has about 208,000 households in 182 compounds: `--compounds 200
--households 1000 --days 60` is that district with two months of gate traffic (about 10 million
check-ins). Rows go in by bulk inserts (`server.demo.bulk`: COPY on PostgreSQL, executemany on
SQLite) with ids given here, so nothing is read back. Later capabilities add their rows in a module
`server/demo/synth_<domain>.py` defining `extend(district: SynthDistrict) -> dict[str, int]`, run
in name order.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.demo.bulk import BulkLoader
from server.extensions import db
from server.models.alliance import Alliance
from server.models.companies import Company
from server.models.compounds import Building, Compound, Gate
from server.plumbing.clock import utcnow
from server.services.gate.gates import new_gate_code

LOCAL = ZoneInfo("Asia/Shanghai")
# People per household: 1 to 5, about 2.9 on average (600,000 residents in 200,000 households).
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5)
HOUSEHOLD_WEIGHTS = (15, 25, 30, 20, 10)
GATE_NAMES = ("南", "北", "东")
GUARDS_PER_GATE = 3  # one per eight-hour shift
# Out-and-back trips per household per day: 200,000 households x 60 days x 0.42 x 2 legs = 10 million.
TRIPS_PER_HOUSEHOLD = 0.42
# The tables of millions of rows, loaded without their secondary indexes.
BULK_TABLES = ("checkins", "temperature_readings")


@dataclass
class SynthDistrict:
    """What generate_district created, for extensions: ids by compound, the clock and the loader."""

    alliance_id: int
    company_ids: list[int]
    compound_ids: list[int]
    gate_ids_by_compound: dict[int, list[int]]
    # (user id, household id) of every resident, by compound.
    residents_by_compound: dict[int, list[tuple[int, int]]]
    household_ids_by_compound: dict[int, list[int]]
    guard_ids_by_compound: dict[int, list[int]]
    staff_id_by_compound: dict[int, int]
    company_by_compound: dict[int, int]
    days: int
    rng: random.Random
    loader: BulkLoader
    now: datetime = field(default_factory=utcnow)
    trips_per_household: float = TRIPS_PER_HOUSEHOLD
    progress: Callable[[str], None] = lambda _message: None

    @property
    def resident_ids_by_compound(self) -> dict[int, list[int]]:
        """Resident ids by compound."""
        return {c: [u for u, _h in rows] for c, rows in self.residents_by_compound.items()}

    def day_start(self, days_ago: int) -> datetime:
        """Local midnight (Asia/Shanghai) of the day `days_ago` before today, as aware UTC."""
        local_day = self.now.astimezone(LOCAL).date() - timedelta(days=days_ago)
        return datetime(local_day.year, local_day.month, local_day.day, tzinfo=LOCAL).astimezone(self.now.tzinfo)


def generate_district(compounds: int, households_per_compound: int, days: int, seed: int = 1, *,
                      trips_per_household: float = TRIPS_PER_HOUSEHOLD,
                      progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Create a district; returns counts of what was created. The caller commits."""
    rng = random.Random(seed)
    loader = BulkLoader(db.session.connection(), progress)
    alliance = db.session.scalar(select(Alliance).order_by(Alliance.id).limit(1))
    if alliance is None:
        alliance = Alliance(name="合成联盟")
        db.session.add(alliance)
        db.session.flush()
    companies = [Company(alliance_id=alliance.id, name=f"合成物业{seed}-{i + 1}") for i in range(max(1, compounds // 5))]
    db.session.add_all(companies)
    db.session.flush()
    district = SynthDistrict(alliance.id, [c.id for c in companies], [], {}, {}, {}, {}, {}, {}, days, rng, loader,
                             trips_per_household=trips_per_household, progress=progress or (lambda _m: None))
    counts = {"compounds": 0, "gates": 0, "households": 0, "residents": 0, "guards": 0}
    for c in range(compounds):
        compound = Compound(alliance_id=alliance.id, company_id=rng.choice(district.company_ids),
                            name=f"合成小区{seed}-{c + 1}", health_emergency=True)
        db.session.add(compound)
        db.session.flush()
        gates = [Gate(compound_id=compound.id, name=f"{n}门", kind="main" if n == "南" else "side",
                      code=new_gate_code()) for n in GATE_NAMES]
        buildings = [Building(compound_id=compound.id, name=f"{b + 1}号楼")
                     for b in range(max(1, households_per_compound // 60))]
        db.session.add_all(gates + buildings)
        db.session.flush()
        district.compound_ids.append(compound.id)
        district.company_by_compound[compound.id] = compound.company_id
        district.gate_ids_by_compound[compound.id] = [g.id for g in gates]
        counts["gates"] += len(gates)
        _people(district, compound.id, [b.id for b in buildings], households_per_compound, seed, counts)
        counts["compounds"] += 1
        if (c + 1) % 20 == 0 or c + 1 == compounds:
            district.progress(f"compounds {c + 1}/{compounds}: {counts['households']} households, "
                              f"{counts['residents']} residents")
    import server.demo as package

    with loader.indexes_and_keys_deferred(*BULK_TABLES):
        for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if module_info.name.startswith("synth_"):
                counts.update(importlib.import_module(f"server.demo.{module_info.name}").extend(district))
        district.progress("loaded; now the indexes and keys of " + ", ".join(BULK_TABLES))
    loader.finish()
    return counts


def _people(district: SynthDistrict, compound_id: int, building_ids: list[int], households: int, seed: int,
            counts: dict[str, int]) -> None:
    """Households, their residents, the compound's guards and one staff member."""
    rng, loader, now = district.rng, district.loader, district.now
    first_household = loader.next_id("households", households)
    household_ids = list(range(first_household, first_household + households))
    loader.write("households", ("id", "compound_id", "building_id", "unit", "room", "created_at"), [
        (hid, compound_id, building_ids[h % len(building_ids)], str(h // len(building_ids) % 4 + 1),
         str(h // len(building_ids) // 4 + 101), now) for h, hid in enumerate(household_ids)])
    sizes = rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS, k=households)
    user_columns = ("id", "role", "alliance_id", "display_name", "openid", "company_id", "compound_id",
                    "household_id", "residency", "lives_alone", "is_active", "created_at")
    first_user = loader.next_id("users", sum(sizes))
    residents, users, uid = [], [], first_user
    for hid, size in zip(household_ids, sizes, strict=True):
        for _k in range(size):
            users.append((uid, "resident", district.alliance_id, "居民", f"synth-{seed}-{uid}", None, None, hid,
                          "approved", size == 1 and rng.random() < 0.3, True, now))
            residents.append((uid, hid))
            uid += 1
    company_id = district.company_by_compound[compound_id]
    staff_count = len(district.gate_ids_by_compound[compound_id]) * GUARDS_PER_GATE + 1
    first_staff = loader.next_id("users", staff_count)
    guard_ids = list(range(first_staff, first_staff + staff_count - 1))
    staff_id = first_staff + staff_count - 1
    users += [(gid, "guard", district.alliance_id, "保安", f"synth-{seed}-{gid}", company_id, compound_id, None,
               None, False, True, now) for gid in guard_ids]
    users.append((staff_id, "staff", district.alliance_id, "物业", None, company_id, compound_id, None, None,
                  False, True, now))
    loader.write("users", user_columns, users)
    district.household_ids_by_compound[compound_id] = household_ids
    district.residents_by_compound[compound_id] = residents
    district.guard_ids_by_compound[compound_id] = guard_ids
    district.staff_id_by_compound[compound_id] = staff_id
    counts["households"] += households
    counts["residents"] += len(residents)
    counts["guards"] += len(guard_ids)


def database_size() -> int:
    """Bytes the database takes: the SQLite file (and its write-ahead log) or pg_database_size."""
    import os

    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
    path = engine.url.database or ""
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if p and os.path.exists(p))
