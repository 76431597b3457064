"""The gate's decision table: every reason code and the order of precedence."""

from __future__ import annotations

import pytest

from server.services.gate.checkin_decisions import GateFacts, decide


@pytest.mark.parametrize(("facts", "decision", "reason", "action", "color"), [
    (GateFacts("in"), "allowed", "ok", "pass", "green"),
    (GateFacts("in", returnee=True), "allowed", "returnee_attention", "pass", "yellow"),
    (GateFacts("in", pass_problem="pass_expired"), "denied", "pass_expired", "stop", "red"),
    (GateFacts("in", pass_problem="pass_invalid"), "denied", "pass_invalid", "stop", "red"),
    (GateFacts("in", pass_problem="gate_code_expired"), "denied", "gate_code_expired", "stop", "red"),
    (GateFacts("in", gate_open=False), "denied", "gate_closed", "stop", "red"),
    (GateFacts("in", registered=False), "denied", "not_registered", "stop", "red"),
    (GateFacts("in", visitor_expected=False), "denied", "visitor_not_expected", "stop", "red"),
    (GateFacts("in", temperature_outcome="remeasure"), "denied", "fever_remeasure", "remeasure", "orange"),
    (GateFacts("in", temperature_outcome="fever"), "denied", "fever", "stop", "red"),
    (GateFacts("in", temperature_outcome="normal"), "allowed", "ok", "pass", "green"),
    (GateFacts("out", quarantined=True), "denied", "quarantined", "stop", "red"),
    (GateFacts("in", quarantined=True), "allowed", "ok", "pass", "green"),
])
def test_each_reason(facts, decision, reason, action, color):
    outcome = decide(facts)
    assert (outcome.decision, outcome.reason, outcome.action, outcome.color) == (decision, reason, action, color)


def test_precedence():
    everything = dict(pass_problem="pass_expired", gate_open=False, registered=False, visitor_expected=False,
                      temperature_outcome="fever", quarantined=True, returnee=True)
    order = ["pass_expired", "gate_closed", "not_registered", "visitor_not_expected", "fever", "quarantined",
             "returnee_attention"]
    removals = ["pass_problem", "gate_open", "registered", "visitor_expected", "temperature_outcome",
                "quarantined", "returnee"]
    neutral = dict(pass_problem=None, gate_open=True, registered=True, visitor_expected=True,
                   temperature_outcome=None, quarantined=False, returnee=False)
    facts = dict(everything)
    for expected, removal in zip(order, removals, strict=True):
        assert decide(GateFacts("out", **facts)).reason == expected
        facts[removal] = neutral[removal]
    assert decide(GateFacts("out", **facts)).reason == "ok"


def test_flags_for_staff():
    assert decide(GateFacts("in", quarantined=True, returnee=True)).flags == ("quarantined", "returnee")
    assert decide(GateFacts("in", pass_problem="pass_invalid", returnee=True)).flags == ()
