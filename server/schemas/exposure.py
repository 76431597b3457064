"""Exposure look-ups: the request, the decision, and the contacts shown once approved."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.plumbing.pagination import PageArgs
from server.schemas.fields import AwareDateTime, Id, label, text


class ExposureRequestCreateSchema(Schema):
    """Staff ask who passed the same gates as a person, with a stated reason."""

    subject_user_id = Id(required=True)
    window_start = AwareDateTime(required=True)
    window_end = AwareDateTime(required=True)
    minutes = fields.Integer(strict=True, load_default=15, validate=validate.Range(min=1, max=240))
    reason = label(500)

    @validates_schema
    def _window(self, data, **kwargs):
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and (end <= start or (end - start).days > 31):
            raise ValidationError("window_end must be after window_start, within 31 days", "window_end")
        if len((data.get("reason") or "").strip()) < 4:
            raise ValidationError("state the reason (at least 4 characters)", "reason")


class ExposureDecisionSchema(Schema):
    """The approver's note."""

    note = text(500, load_default="")


class ExposureRequestSchema(Schema):
    """A request and where it stands."""

    id = fields.Integer()
    compound_id = fields.Integer()
    subject_user_id = fields.Integer()
    window_start = fields.DateTime()
    window_end = fields.DateTime()
    minutes = fields.Integer()
    reason = fields.String()
    status = fields.String()
    requested_by_id = fields.Integer(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String()
    created_at = fields.DateTime()


class ExposureListArgs(PageArgs):
    """Filters of the request list."""

    status = fields.String(validate=validate.OneOf(("pending", "approved", "rejected")))


class ContactSchema(Schema):
    """Someone who passed a gate within ±minutes of the subject."""

    kind = fields.String(metadata={"description": "resident, visitor or household"})
    user_id = fields.Integer(allow_none=True)
    visitor_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    name = fields.String()
    phone = fields.String(allow_none=True)
    gate_id = fields.Integer()
    gate_name = fields.String()
    first_contact_at = fields.DateTime()
    subject_passed_at = fields.DateTime()
    gap_seconds = fields.Integer()
    encounters = fields.Integer()
    offline = fields.Boolean(metadata={"description": "a time taken from a guard's offline upload (the device's "
                                                      "word) is among this contact's"})


class ContactsSchema(Schema):
    """The contacts of an approved request."""

    request = fields.Nested(ExposureRequestSchema)
    contacts = fields.List(fields.Nested(ContactSchema))


_CONTACT_FIELDS = tuple(ContactSchema._declared_fields)


def dump_contacts(body: dict) -> dict:
    """`ContactsSchema().dump(body)`, the contacts written out (a busy subject has hundreds; a test holds the two
    equal): marshmallow's walk of each field of each contact cost more than finding them."""
    contacts = []
    for contact in body["contacts"]:
        item = dict(zip(_CONTACT_FIELDS, (contact[name] for name in _CONTACT_FIELDS), strict=True))
        item["first_contact_at"] = contact["first_contact_at"].isoformat()
        item["subject_passed_at"] = contact["subject_passed_at"].isoformat()
        contacts.append(item)
    return {"request": ExposureRequestSchema().dump(body["request"]), "contacts": contacts}
