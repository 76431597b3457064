"""The audit log of reads and exports of personal data, for the alliance admin."""

from sqlalchemy import or_, select

from server.auth import current_user, roles_required
from server.models.audit import AuditEntry
from server.models.compounds import Compound
from server.models.people import User
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.audit import AuditArgsSchema, AuditEntrySchema

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Audit log (alliance admin)")


@blp.route("", methods=["GET"])
@roles_required("alliance_admin")
@blp.arguments(AuditArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, AuditEntrySchema)
def list_audit(filters, args):
    """Who read or exported which personal data, when and why; newest first."""
    admin = current_user()
    alliance_compounds = select(Compound.id).where(Compound.alliance_id == admin.alliance_id)
    alliance_users = select(User.id).where(User.alliance_id == admin.alliance_id)
    query = select(AuditEntry).where(or_(
        AuditEntry.compound_id.in_(alliance_compounds), AuditEntry.actor_id.in_(alliance_users),
        AuditEntry.compound_id.is_(None) & AuditEntry.actor_id.is_(None)))
    for key, column in (("action", AuditEntry.action), ("actor_id", AuditEntry.actor_id),
                        ("compound_id", AuditEntry.compound_id)):
        if key in filters:
            query = query.where(column == filters[key])
    if "since" in filters:
        query = query.where(AuditEntry.at >= filters["since"])
    if "until" in filters:
        query = query.where(AuditEntry.at < filters["until"])
    return paginate(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), args)
