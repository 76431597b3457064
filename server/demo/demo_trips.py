"""Demo trips: a resident of 黄平路8号院 back from 石家庄 yesterday (declared in the mini-program), and one
of 万龙小区 back from 上海 that staff recorded; the gate flags both for 14 days."""

from __future__ import annotations

from datetime import timedelta

from server.plumbing.clock import local_today
from server.services.health.trips import declare_trip, record_trip


def load(org) -> None:
    """Declare one trip as a resident, record another as staff."""
    hp, wl = org.compounds["黄平路8号院"], org.compounds["万龙小区"]
    declare_trip(org.residents["hp-3"], {"from_city": "石家庄",
                                         "returned_on": local_today(hp.timezone) - timedelta(days=1)})
    record_trip(org.staff["wanlong"], org.residents["wl-4"].id,
                {"from_city": "上海", "returned_on": local_today(wl.timezone) - timedelta(days=3),
                 "note": "业主电话告知"})
