"""What the gate decides for one attempt, from facts already looked up: a pure function, no database.

Reason codes (stable; clients branch on them, never on the message):

=====================  ========  ================================================================
reason                 decision  what the guard does
=====================  ========  ================================================================
ok                     allowed   let through
returnee_attention     allowed   let through; the person came back from another city: staff alerted
pass_expired           denied    ask the resident to refresh the pass (a screenshot is refused)
pass_invalid           denied    edited, forged or unknown code: refuse
gate_code_expired      denied    the photo of a rotating gate code is old: scan the guard's screen
gate_closed            denied    send them to the open gate
not_registered         denied    not an approved resident of this compound (or another compound's)
visitor_not_expected   denied    no visitor pass for today at this compound (or cancelled)
fever_remeasure        denied    first reading >= 37.3 °C: measure again in a few minutes
fever                  denied    second reading >= 37.3 °C: refuse entry; staff are alerted
quarantined            denied    leaving during home quarantine (coming home is allowed, flagged)
=====================  ========  ================================================================

The order above the table's "ok" rows is the order of precedence: the first that applies wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.messages import register

ALLOWED, DENIED = "allowed", "denied"

REASONS = ("ok", "returnee_attention", "pass_expired", "pass_invalid", "gate_code_expired", "gate_closed",
           "not_registered", "visitor_not_expected", "fever_remeasure", "fever", "quarantined")

register({
    "ok": ("放行", "Let through"),
    "returnee_attention": ("放行:外地返回人员,请提醒其登记并留意", "Let through: returned from another city; staff alerted"),
    "pass_expired": ("通行码已过期,请刷新后重新出示", "The pass has expired; refresh it and show it again"),
    "pass_invalid": ("通行码无效,禁止通行", "Invalid pass; do not let through"),
    "gate_code_expired": ("门禁码已过期,请扫描保安屏幕上的最新二维码", "The gate code has expired; scan the one on the guard's screen"),
    "gate_closed": ("此门已关闭,请走其他出入口", "This gate is closed; use another gate"),
    "visitor_not_expected": ("访客未预约或不在预约日期,禁止通行", "Visitor not expected today; do not let through"),
    "fever_remeasure": ("体温偏高(≥37.3℃),请稍候几分钟复测", "Temperature high (>= 37.3 °C): measure again in a few minutes"),
    "quarantined": ("居家隔离期间禁止外出", "Home quarantine: leaving is not allowed"),
})

# What the guard's and the resident's screens show at a glance.
ACTIONS = {"ok": "pass", "returnee_attention": "pass", "fever_remeasure": "remeasure"}
COLORS = {"ok": "green", "returnee_attention": "yellow", "fever_remeasure": "orange"}
STATUS_TEXT = {"pass": ("可通行", "GO"), "stop": ("禁止通行", "STOP"), "remeasure": ("请复测体温", "RE-MEASURE")}


@dataclass(frozen=True)
class GateFacts:
    """Everything the decision depends on, already looked up."""

    direction: str
    pass_problem: str | None = None  # pass_invalid, pass_expired, gate_code_expired
    gate_open: bool = True
    registered: bool = True
    visitor_expected: bool = True
    temperature_outcome: str | None = None  # normal, remeasure, fever (services.temperatures)
    quarantined: bool = False
    returnee: bool = False


@dataclass(frozen=True)
class GateDecision:
    """The outcome: allowed or denied, the reason code, and flags for staff."""

    decision: str
    reason: str
    flags: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """Whether the barrier lifts."""
        return self.decision == ALLOWED

    @property
    def action(self) -> str:
        """pass, stop or remeasure: what the guard does."""
        return ACTIONS.get(self.reason, "pass" if self.allowed else "stop")

    @property
    def color(self) -> str:
        """green, yellow, orange or red: the big status on the screen."""
        return COLORS.get(self.reason, "green" if self.allowed else "red")


def decide(facts: GateFacts) -> GateDecision:
    """Apply the rules in order of precedence (see the module's table)."""
    flags = []
    if facts.quarantined:
        flags.append("quarantined")
    if facts.returnee:
        flags.append("returnee")
    if facts.pass_problem is not None:
        return GateDecision(DENIED, facts.pass_problem)
    if not facts.gate_open:
        return GateDecision(DENIED, "gate_closed")
    if not facts.registered:
        return GateDecision(DENIED, "not_registered")
    if not facts.visitor_expected:
        return GateDecision(DENIED, "visitor_not_expected")
    if facts.temperature_outcome == "fever":
        return GateDecision(DENIED, "fever", tuple(flags))
    if facts.temperature_outcome == "remeasure":
        return GateDecision(DENIED, "fever_remeasure", tuple(flags))
    if facts.quarantined and facts.direction == "out":
        return GateDecision(DENIED, "quarantined", tuple(flags))
    if facts.returnee:
        return GateDecision(ALLOWED, "returnee_attention", tuple(flags))
    return GateDecision(ALLOWED, "ok", tuple(flags))
