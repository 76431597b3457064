"""People: the caller's profile, residents as staff see them, invites, staff and guard accounts."""

from marshmallow import Schema, fields

from server.plumbing.masking import mask_phone
from server.schemas.fields import Id, label, text


class ScopeSchema(Schema):
    """What the caller may see."""

    compound_ids = fields.List(fields.Integer())
    company_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)


class MeSchema(Schema):
    """The caller's own profile (their own data, unmasked)."""

    id = fields.Integer()
    role = fields.String()
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    username = fields.String(allow_none=True)
    company_id = fields.Integer(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    residency = fields.String(allow_none=True)
    lives_alone = fields.Boolean()
    wechat_bound = fields.Boolean()
    compound_name = fields.String(allow_none=True, metadata={"description": "the household's compound, or a guard's post"})
    household_label = fields.String(allow_none=True, metadata={"description": "e.g. 1号楼1单元101"})
    scope = fields.Nested(ScopeSchema)


class MeUpdateSchema(Schema):
    """What a user may change about themselves."""

    display_name = text(50)
    phone = text(20)
    lives_alone = fields.Boolean()


class InviteRedeemSchema(Schema):
    """An invite code entered by a resident or a new guard."""

    code = text(16, required=True, min_length=4)


class InviteSchema(Schema):
    """An invite code as staff receive it."""

    code = fields.String()
    kind = fields.String()
    household_id = fields.Integer(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    expires_at = fields.AwareDateTime()


class PersonSchema(Schema):
    """A resident or guard as staff see them: phone masked."""

    id = fields.Integer()
    role = fields.String()
    display_name = fields.String()
    phone = fields.Function(lambda u: mask_phone(u.phone))
    household_id = fields.Integer(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    residency = fields.String(allow_none=True)
    lives_alone = fields.Boolean()
    is_active = fields.Boolean()


class ResidentArgsSchema(Schema):
    """Filters of the resident list."""

    residency = fields.String()


class StaffCreateSchema(Schema):
    """A new staff account."""

    username = text(64, required=True, min_length=3)
    password = text(128, required=True, min_length=10)
    display_name = label(50)
    phone = text(20)


class GuardUpdateSchema(Schema):
    """Moving or deactivating a guard."""

    compound_id = fields.Integer()
    is_active = fields.Boolean()
    display_name = text(50)


class GuardInviteSchema(Schema):
    """Optional: the guard's employer, named by the alliance admin running a compound without a company."""

    company_id = Id()
