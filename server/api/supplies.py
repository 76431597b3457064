"""The supplies ledger (防疫物资): catalogue, stock per holder, receipts, use, transfers, the ledger."""


from server.auth import current_user, roles_required
from server.models.supplies import SupplyEntry, SupplyTransfer
from server.plumbing.csv_export import XLSX_MIMETYPE, sheet_response
from server.plumbing.pagination import PageArgs, paged, total_header
from server.request_parser import Blueprint
from server.schemas.supplies import (
    SupplyAdjustmentSchema,
    SupplyEntrySchema,
    SupplyItemCreateSchema,
    SupplyItemSchema,
    SupplyLedgerArgsSchema,
    SupplyLedgerSchema,
    SupplyReceiptSchema,
    SupplyStockArgsSchema,
    SupplyStockSchema,
    SupplyThresholdSchema,
    SupplyTransferArgsSchema,
    SupplyTransferCloseSchema,
    SupplyTransferCreateSchema,
    SupplyTransferSchema,
    SupplyUseSchema,
)
from server.services.alliance import supplies, supply_ledger, supply_transfers
from server.services.alliance.supply_catalogue import add_item, find_item, list_items
from server.services.alliance.supply_holders import alliance_holder, get_holder, parse_holder
from server.services.alliance.supply_retries import once

blp = Blueprint("supplies", __name__, url_prefix="/supplies", description="The supplies ledger (防疫物资)")

STAFF_AND_ADMIN = ("staff", "alliance_admin")


def _acting(user, args, key="holder"):
    return get_holder(user, args[key]["kind"], args[key]["id"], act=True)


def _filter_holder(user, args):
    if not args.get("holder"):
        return None
    return get_holder(user, *parse_holder(args["holder"]))


@blp.route("/items", methods=["GET"])
@roles_required(*STAFF_AND_ADMIN)
@blp.response(200, SupplyItemSchema(many=True))
def items():
    """The alliance's catalogue of supplies (masks, disinfectant, gloves, thermometers, pumps, sandbags ...)."""
    return list_items(current_user())


@blp.route("/items", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(SupplyItemCreateSchema)
@blp.response(201, SupplyItemSchema)
def create_item(args):
    """Add an item to the catalogue, with the unit it is counted in."""
    return add_item(current_user(), args["code"], args["name"], args["unit"])


@blp.route("/stock", methods=["GET"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyStockArgsSchema, location="query")
@blp.response(200, SupplyStockSchema(many=True))
def stock(args):
    """Stock of every holder I may see (or ?holder=company:3 / compound:7, ?item=masks), with what is in transit."""
    user = current_user()
    item = find_item(user, args["item"]) if args.get("item") else None
    return supply_ledger.stock_list(user, item, _filter_holder(user, args))


@blp.route("/thresholds", methods=["PUT"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyThresholdSchema)
@blp.response(200, SupplyStockSchema)
def set_threshold(args):
    """Set the low-stock threshold of an item at a holder I run (falling below it alerts once per crossing)."""
    user = current_user()
    item, holder = find_item(user, args["item"]), _acting(user, args)
    supplies.set_threshold(user, item, holder, args["threshold"])
    return supply_ledger.stock_list(user, item, holder)[0]


@blp.route("/receipts", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyReceiptSchema)
@blp.response(201, SupplyEntrySchema)
def receipt(args):
    """Record items received from outside the alliance at a holder I run."""
    user = current_user()
    item, holder = find_item(user, args["item"]), _acting(user, args)
    entry, replayed = once(SupplyEntry, user, args, lambda stamp: supplies.record_receipt(
        user, item, holder, args["quantity"], args["source"], args["note"], stamp))
    return supplies.entry_dict(entry, item, holder), 200 if replayed else 201


@blp.route("/uses", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyUseSchema)
@blp.response(201, SupplyEntrySchema)
def use(args):
    """Record items used at a holder I run (409 stock_insufficient with what is available)."""
    user = current_user()
    item, holder = find_item(user, args["item"]), _acting(user, args)
    entry, replayed = once(SupplyEntry, user, args, lambda stamp: supplies.record_use(
        user, item, holder, args["quantity"], args["note"], stamp))
    return supplies.entry_dict(entry, item, holder), 200 if replayed else 201


@blp.route("/adjustments", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyAdjustmentSchema)
@blp.response(201, SupplyEntrySchema)
def adjustment(args):
    """Correct a holder's stock after a count, with the reason (never below zero)."""
    user = current_user()
    item, holder = find_item(user, args["item"]), _acting(user, args)
    entry, replayed = once(SupplyEntry, user, args, lambda stamp: supplies.record_adjustment(
        user, item, holder, args["delta"], args["reason"], stamp))
    return supplies.entry_dict(entry, item, holder), 200 if replayed else 201


@blp.route("/transfers", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyTransferCreateSchema)
@blp.response(201, SupplyTransferSchema)
def offer(args):
    """Offer items of a holder I run to another company or compound; they leave my stock now (in transit)."""
    user = current_user()
    item, giver = find_item(user, args["item"]), _acting(user, args, "giver")
    receiver = alliance_holder(user, args["receiver"]["kind"], args["receiver"]["id"])
    transfer, replayed = once(SupplyTransfer, user, args, lambda stamp: supply_transfers.offer_transfer(
        user, item, giver, receiver, args["quantity"], args["note"], stamp))
    return supply_transfers.transfer_row(user, transfer), 200 if replayed else 201


@blp.route("/moves", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyTransferCreateSchema)
@blp.response(201, SupplyTransferSchema)
def move(args):
    """Move items between two holders I run (my warehouse and my compounds): done at once."""
    user = current_user()
    item, giver = find_item(user, args["item"]), _acting(user, args, "giver")
    receiver = alliance_holder(user, args["receiver"]["kind"], args["receiver"]["id"])
    transfer, replayed = once(SupplyTransfer, user, args, lambda stamp: supply_transfers.move(
        user, item, giver, receiver, args["quantity"], args["note"], stamp))
    return supply_transfers.transfer_row(user, transfer), 200 if replayed else 201


@blp.route("/transfers", methods=["GET"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyTransferArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, SupplyTransferSchema)
def transfers(filters, args):
    """Transfers to or from holders I may see, newest first (?status=in_transit: offered or accepted)."""
    user = current_user()
    if filters.get("item"):
        filters = {**filters, "item": find_item(user, filters["item"])}
    return supply_transfers.transfer_page(user, args, filters)


@blp.route("/transfers/<int:transfer_id>", methods=["GET"])
@roles_required(*STAFF_AND_ADMIN)
@blp.response(200, SupplyTransferSchema)
def transfer(transfer_id):
    """One transfer with who did what when."""
    user = current_user()
    return supply_transfers.transfer_row(user, supply_transfers.get_transfer(user, transfer_id))


@blp.route("/transfers/<int:transfer_id>/accept", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.response(200, SupplyTransferSchema)
def accept(transfer_id):
    """The receiver accepts an offered transfer."""
    user = current_user()
    done = supply_transfers.accept(user, supply_transfers.get_transfer(user, transfer_id))
    return supply_transfers.transfer_row(user, done)


@blp.route("/transfers/<int:transfer_id>/receive", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.response(200, SupplyTransferSchema)
def receive(transfer_id):
    """The receiver confirms an accepted transfer arrived: the items enter its stock."""
    user = current_user()
    done = supply_transfers.receive(user, supply_transfers.get_transfer(user, transfer_id))
    return supply_transfers.transfer_row(user, done)


@blp.route("/transfers/<int:transfer_id>/decline", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyTransferCloseSchema)
@blp.response(200, SupplyTransferSchema)
def decline(args, transfer_id):
    """The receiver turns an offer down: the items return to the giver."""
    user = current_user()
    done = supply_transfers.decline(user, supply_transfers.get_transfer(user, transfer_id), args["reason"])
    return supply_transfers.transfer_row(user, done)


@blp.route("/transfers/<int:transfer_id>/cancel", methods=["POST"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyTransferCloseSchema)
@blp.response(200, SupplyTransferSchema)
def cancel(args, transfer_id):
    """The giver calls a transfer off before it is received: the items return to the giver."""
    user = current_user()
    done = supply_transfers.cancel(user, supply_transfers.get_transfer(user, transfer_id), args["reason"])
    return supply_transfers.transfer_row(user, done)


@blp.route("/ledger", methods=["GET"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyLedgerArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@blp.response(200, SupplyLedgerSchema)
def ledger(filters, args):
    """Where each item went: ?item=masks by holder, with running totals (a page of entries) and summaries."""
    user = current_user()
    body = supply_ledger.ledger_page(user, find_item(user, filters["item"]), _filter_holder(user, filters), args)
    return body, 200, total_header(body)


@blp.route("/ledger.csv", methods=["GET"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyLedgerArgsSchema, location="query")
@blp.response(200, content_type="text/csv")
def ledger_csv(filters):
    """The item's ledger as CSV for Excel (BOM, Chinese headers, local times, formula cells escaped); audited."""
    return _ledger_export(filters, "csv")


@blp.route("/ledger.xlsx", methods=["GET"])
@roles_required(*STAFF_AND_ADMIN)
@blp.arguments(SupplyLedgerArgsSchema, location="query")
@blp.response(200, content_type=XLSX_MIMETYPE)
def ledger_xlsx(filters):
    """The item's ledger as an Excel workbook (text cells never formulas); audited."""
    return _ledger_export(filters, "xlsx")


def _ledger_export(filters: dict, fmt: str):
    user = current_user()
    item = find_item(user, filters["item"])
    sheet = supply_ledger.ledger_sheet(user, item, _filter_holder(user, filters))
    return sheet_response(sheet, f"supplies-ledger-{item.code}", fmt)
