"""Demo alliance membership: the seed's companies are members since the alliance formed; one more is
invited and has not joined yet. 黄平路8号院 has no property company and no caretaking, so the alliance
admin runs it directly (the admin may entrust it to a member company: POST
/api/v1/alliance/compounds/<id>/caretaking)."""

from __future__ import annotations

from datetime import timedelta

from server.extensions import db
from server.models.companies import Company
from server.plumbing.clock import utcnow

INVITED = "回龙观新城物业"


def load(org) -> None:
    """Date the members' joining to the alliance's founding and invite one more company."""
    founded = utcnow() - timedelta(days=60)
    for company in org.companies.values():
        company.joined_at = founded
    invited = Company(alliance_id=org.alliance.id, name=INVITED, membership="invited", invited_at=utcnow())
    db.session.add(invited)
    db.session.flush()
