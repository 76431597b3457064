"""Check-ins at the gate: guard scans, resident self-scans, manual records, offline batches, staff views."""

from __future__ import annotations

from flask import jsonify

from server.auth import current_caller, current_user, roles_required
from server.plumbing.pagination import paged
from server.rate_limits import rate_limited
from server.request_commit import commit_request
from server.request_parser import Blueprint
from server.schemas.checkins import (
    BatchReplySchema,
    BatchSchema,
    CheckInItemSchema,
    CheckInListArgs,
    CheckInReplySchema,
    GuardScanSchema,
    HourlyReportSchema,
    ManualCheckInSchema,
    SelfScanSchema,
    dump_reply,
    load_batch_items,
)
from server.services.gate import checkin_reports, checkin_sync, checkins

blp = Blueprint("checkins", __name__, url_prefix="", description="Gate check-ins (出入登记)")


def answer_checkin(recorded: checkins.Recorded):
    """The JSON answer of a check-in write: 201 stored, 200 a retry's replay or a stranger's self scan that
    was only counted (`id` null); dumped without the schema.

    A new check-in is committed before its answer is rendered (see `commit_request`).
    """
    if not recorded.replayed:
        commit_request()
    body = dump_reply(checkins.reply_of(recorded.checkin, recorded.replayed))
    return jsonify(body), 201 if recorded.stored and not recorded.replayed else 200


def _audited_read(page: dict) -> dict:
    """Commit a list's audit row before the page is rendered: on SQLite the row holds the write lock,
    which other workers' check-ins wait for, until the commit (see `commit_request`)."""
    commit_request()
    return page


@blp.route("/checkins", methods=["POST"])
@roles_required("guard")
@blp.arguments(GuardScanSchema())
@blp.response(201, CheckInReplySchema)
def guard_scan(args):
    """A guard scanned a resident's pass (or a visitor pass): the decision at one glance. A retry answers 200."""
    return answer_checkin(checkins.record_guard(current_caller(), "scan", args))


@blp.route("/checkins/self", methods=["POST"])
@roles_required("resident")
@rate_limited("10/minute", key="user")
@blp.arguments(SelfScanSchema)
@blp.response(201, CheckInReplySchema)
@blp.alt_response(200, schema=CheckInReplySchema,
                  description="a retry's replay, or a person with no tie to the compound: refused, counted, "
                              "not stored (id null)")
def self_scan(args):
    """A resident scanned the gate's code: the screen the guard looks at (masked name, big status)."""
    return answer_checkin(checkins.self_scan(current_caller(), args))


@blp.route("/checkins/manual", methods=["POST"])
@roles_required("guard")
@blp.arguments(ManualCheckInSchema)
@blp.response(201, CheckInReplySchema)
def manual(args):
    """A guard records someone without a phone by household, with a reason."""
    return answer_checkin(checkins.record_guard(current_user(), "manual", args))


@blp.route("/checkins/batch", methods=["POST"])
@roles_required("guard")
@blp.arguments(BatchSchema)
@blp.response(200, BatchReplySchema)
def batch(args):
    """Upload scans queued offline; each item answers on its own (201 stored, 200 replayed, or an error)."""
    return {"results": checkin_sync.sync_batch(current_user(), load_batch_items(args["items"]))}


@blp.route("/compounds/<int:compound_id>/checkins", methods=["GET"])
@roles_required("staff", "guard")
@blp.arguments(CheckInListArgs, location="query")
@paged(blp, CheckInItemSchema)
def list_checkins(args, compound_id):
    """Check-ins of a compound, newest first, filtered by gate, time, direction, decision or person."""
    return _audited_read(checkin_reports.checkins_page(current_user(), compound_id, args))


@blp.route("/gates/<int:gate_id>/checkins", methods=["GET"])
@roles_required("staff", "guard")
@blp.arguments(CheckInListArgs, location="query")
@paged(blp, CheckInItemSchema)
def gate_checkins(args, gate_id):
    """Check-ins at one gate, with the same filters."""
    return _audited_read(checkin_reports.gate_checkins_page(current_user(), gate_id, args))


@blp.route("/compounds/<int:compound_id>/checkins/hourly", methods=["GET"])
@roles_required("staff", "guard", "alliance_admin")
@blp.response(200, HourlyReportSchema)
def hourly(compound_id):
    """Today's check-ins per gate per local hour (counts only)."""
    return checkin_reports.hourly_today(current_user(), compound_id)
