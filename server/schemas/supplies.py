"""The supplies ledger: catalogue, stock, entries (receipt, use, adjustment), transfers and moves.

Every write takes an optional `client_id` (or an Idempotency-Key header): a retry is recorded once."""

from marshmallow import Schema, ValidationError, fields, validate

from server.models.supplies import ENTRY_KINDS, TRANSFER_KINDS, TRANSFER_STATUSES
from server.schemas.fields import label, text
from server.services.alliance.supply_holders import HOLDER_KINDS, parse_holder

MAX_QUANTITY = 10_000_000
ITEM_CODE = validate.Regexp(r"\A[a-z][a-z0-9_-]{1,31}\Z", error="2-32 characters: a-z, 0-9, _ or -, a letter first")


def quantity(**kwargs) -> fields.Integer:
    """A whole positive number of units."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY), **kwargs)


def item_ref(**kwargs) -> fields.String:
    """An item of the catalogue by its code (`masks`) or its id."""
    return fields.String(validate=validate.Length(min=1, max=32), **kwargs)


def _holder_text(value: str) -> None:
    if parse_holder(value) is None:
        raise ValidationError("company:<id> or compound:<id>")


class SupplyHolderRefSchema(Schema):
    """A holder: a company (its warehouse) or a compound."""

    kind = fields.String(required=True, validate=validate.OneOf(HOLDER_KINDS))
    id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class SupplyHolderSchema(Schema):
    """A holder as replies show it."""

    kind = fields.String()
    id = fields.Integer()
    name = fields.String()


class SupplyItemCreateSchema(Schema):
    """A new item of the catalogue, counted in `unit`."""

    code = fields.String(required=True, validate=ITEM_CODE)
    name = label(50)
    unit = label(16)


class SupplyItemSchema(Schema):
    """An item of the catalogue."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    unit = fields.String()


class SupplyReceiptSchema(Schema):
    """Items that arrived from outside (a purchase, the street office, a donor)."""

    client_id = text(64, min_length=1)
    item = item_ref(required=True)
    holder = fields.Nested(SupplyHolderRefSchema, required=True)
    quantity = quantity(required=True)
    source = text(100, load_default="")
    note = text(200, load_default="")


class SupplyUseSchema(Schema):
    """Items used up at a holder."""

    client_id = text(64, min_length=1)
    item = item_ref(required=True)
    holder = fields.Nested(SupplyHolderRefSchema, required=True)
    quantity = quantity(required=True)
    note = text(200, load_default="")


class SupplyAdjustmentSchema(Schema):
    """A correction after a count: positive or negative, with its reason."""

    client_id = text(64, min_length=1)
    item = item_ref(required=True)
    holder = fields.Nested(SupplyHolderRefSchema, required=True)
    delta = fields.Integer(required=True, strict=True, validate=[
        validate.Range(min=-MAX_QUANTITY, max=MAX_QUANTITY),
        validate.NoneOf([0], error="must not be zero")])
    reason = label(200)


class SupplyThresholdSchema(Schema):
    """The holder's low-stock threshold for an item (null clears it)."""

    item = item_ref(required=True)
    holder = fields.Nested(SupplyHolderRefSchema, required=True)
    threshold = fields.Integer(required=True, allow_none=True, strict=True,
                               validate=validate.Range(min=0, max=MAX_QUANTITY))


class SupplyTransferCreateSchema(Schema):
    """Items offered (or moved) from one holder to another."""

    client_id = text(64, min_length=1)
    item = item_ref(required=True)
    giver = fields.Nested(SupplyHolderRefSchema, required=True, data_key="from")
    receiver = fields.Nested(SupplyHolderRefSchema, required=True, data_key="to")
    quantity = quantity(required=True)
    note = text(200, load_default="")


class SupplyTransferCloseSchema(Schema):
    """Why a transfer is declined or cancelled."""

    reason = text(200, load_default="")


class SupplyTransferArgsSchema(Schema):
    """Filters of the transfer list."""

    status = fields.String(validate=validate.OneOf((*TRANSFER_STATUSES, "in_transit")))
    kind = fields.String(validate=validate.OneOf(TRANSFER_KINDS))
    item = item_ref()


class SupplyStockArgsSchema(Schema):
    """Filters of the stock list."""

    item = item_ref()
    holder = fields.String(validate=_holder_text)


class SupplyLedgerArgsSchema(Schema):
    """Which item's ledger, for one holder or all the caller may see."""

    item = item_ref(required=True)
    holder = fields.String(validate=_holder_text)


class SupplyEntrySchema(Schema):
    """One change of a holder's stock, with the balance right after it."""

    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(ENTRY_KINDS)})
    item = fields.Nested(SupplyItemSchema)
    holder = fields.Nested(SupplyHolderSchema)
    quantity = fields.Integer()
    balance_after = fields.Integer()
    transfer_id = fields.Integer(allow_none=True)
    source = fields.String()
    reason = fields.String()
    actor_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()


class SupplyLedgerEntrySchema(SupplyEntrySchema):
    """A ledger line: the entry, the other side of its transfer, and who recorded it."""

    counterpart = fields.Nested(SupplyHolderSchema, allow_none=True)
    actor_name = fields.String(allow_none=True)


class SupplyHolderSummarySchema(Schema):
    """Where a holder's items came from and went."""

    holder = fields.Nested(SupplyHolderSchema)
    on_hand = fields.Integer()
    received = fields.Integer()
    used = fields.Integer()
    transferred_in = fields.Integer()
    transferred_out = fields.Integer()
    returned = fields.Integer()
    adjusted = fields.Integer()
    in_transit_out = fields.Integer()
    in_transit_in = fields.Integer()


class SupplyLedgerSchema(Schema):
    """One item's ledger: per-holder summaries and a page of entries by holder, with running totals."""

    item = fields.Nested(SupplyItemSchema)
    holders = fields.List(fields.Nested(SupplyHolderSummarySchema))
    items = fields.List(fields.Nested(SupplyLedgerEntrySchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class SupplyStockSchema(Schema):
    """A holder's stock of an item, its threshold, and what is in transit to or from it."""

    item = fields.Nested(SupplyItemSchema)
    holder = fields.Nested(SupplyHolderSchema)
    quantity = fields.Integer()
    low_threshold = fields.Integer(allow_none=True)
    low = fields.Boolean()
    in_transit_out = fields.Integer()
    in_transit_in = fields.Integer()
    updated_at = fields.AwareDateTime()


class SupplyTransferSchema(Schema):
    """A transfer or move: what, from whom to whom, and who did what when."""

    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    in_transit = fields.Boolean()
    item = fields.Nested(SupplyItemSchema)
    quantity = fields.Integer()
    note = fields.String()
    giver = fields.Nested(SupplyHolderSchema, data_key="from", attribute="from")
    receiver = fields.Nested(SupplyHolderSchema, data_key="to", attribute="to")
    offered_at = fields.AwareDateTime()
    offered_by_id = fields.Integer(allow_none=True)
    accepted_at = fields.AwareDateTime(allow_none=True)
    accepted_by_id = fields.Integer(allow_none=True)
    received_at = fields.AwareDateTime(allow_none=True)
    received_by_id = fields.Integer(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    closed_by_id = fields.Integer(allow_none=True)
    close_reason = fields.String()
