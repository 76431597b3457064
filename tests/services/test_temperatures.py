"""The fever workflow at its boundaries, idempotency and the lawful basis of readings."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from server.errors import ConflictError, UnprocessableError
from server.extensions import db
from server.models.alerts import Alert
from server.models.compounds import Compound
from server.models.health import TemperatureReading
from server.models.notifications import Notification
from server.models.people import User
from server.services.health.temperatures import record_reading
from server.services.people.consent import give_consent
from tests.factories import build_world

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def w(ctx):
    """The standard world with a public-health emergency declared at compound A."""
    world = build_world()
    db.session.get(Compound, world.compound_a.id).health_emergency = True
    db.session.flush()
    return world


def _read(w, celsius, *, client_id=None, subject=None, visitor_id=None, author=None):
    return record_reading(author or w.guard_a, compound_id=w.compound_a.id,
                          subject_user_id=None if visitor_id else (subject or w.resident_a).id,
                          household_id=None, visitor_id=visitor_id, gate_id=w.gate_a.id, celsius=celsius,
                          source="gate", client_id=client_id, device_time=None)


def _alerts(kind="fever"):
    return db.session.scalars(select(Alert).where(Alert.kind == kind)).all()


def test_37_2_is_normal_even_twice(w):
    with time_machine.travel(T0, tick=False):
        assert _read(w, 37.2)[1] == "normal"
        assert _read(w, "37.2")[1] == "normal"
    assert _alerts() == []


def test_37_3_asks_for_a_remeasure_and_a_second_is_fever(w):
    staff = db.session.get(User, w.staff_a.id)
    staff.openid = "openid-staff-a"
    with time_machine.travel(T0, tick=False):
        reading, outcome = _read(w, 37.3)
    assert outcome == "remeasure" and reading.high and reading.household_id == w.household_a.id
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert _read(w, 37.2)[1] == "normal"
        second, outcome = _read(w, 37.3)
    assert outcome == "fever"
    [alert] = _alerts()
    assert alert.compound_id == w.compound_a.id and alert.subject_user_id == w.resident_a.id
    assert alert.detail["reading_id"] == second.id
    [note] = db.session.scalars(select(Notification)).all()
    assert note.user_id == staff.id and note.kind == "alert"
    # A third high reading in the same episode is fever again, without a second alert.
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        assert _read(w, 38.0)[1] == "fever"
    assert len(_alerts()) == 1


def test_high_reading_after_the_window_starts_over(w):
    with time_machine.travel(T0, tick=False):
        _read(w, 37.5)
    with time_machine.travel(T0 + timedelta(minutes=30, seconds=1), tick=False):
        assert _read(w, 37.5)[1] == "remeasure"
    assert _alerts() == []


def test_visitors_are_tracked_by_visitor_id(w):
    with time_machine.travel(T0, tick=False):
        assert _read(w, 37.8, visitor_id=41)[1] == "remeasure"
        assert _read(w, 37.8, visitor_id=42)[1] == "remeasure"
        assert _read(w, 37.8, visitor_id=41)[1] == "fever"
    [alert] = _alerts()
    assert alert.subject_user_id is None and alert.detail["visitor_id"] == 41


@pytest.mark.parametrize("bad", [33.9, 43.1, "36.55", "abc", None, True, "NaN", "Infinity"])
def test_implausible_values_are_422(w, bad):
    with pytest.raises(UnprocessableError) as err:
        _read(w, bad)
    assert err.value.reason == "temperature_invalid"


@pytest.mark.parametrize("edge", [34.0, 43.0])
def test_range_edges_are_accepted(w, edge):
    assert _read(w, edge)[0].celsius == pytest.approx(edge)


def test_client_id_makes_a_retry_return_the_stored_reading(w):
    with time_machine.travel(T0, tick=False):
        first, outcome = _read(w, 37.4, client_id="dev-1")
        again, outcome_again = _read(w, 37.4, client_id="dev-1")
    assert again.id == first.id and outcome == outcome_again == "remeasure"
    assert db.session.scalar(select(func.count()).select_from(TemperatureReading)) == 1
    with pytest.raises(ConflictError) as err:
        _read(w, 36.5, client_id="dev-1")
    assert err.value.reason == "idempotency_mismatch"
    # The same client id from another author is another reading.
    guard2 = User(role="guard", alliance_id=w.alliance.id, company_id=w.company_a.id, compound_id=w.compound_a.id)
    db.session.add(guard2)
    db.session.flush()
    assert _read(w, 37.4, client_id="dev-1", author=guard2)[0].id != first.id


def test_without_emergency_a_reading_needs_consent(w):
    db.session.get(Compound, w.compound_a.id).health_emergency = False
    with pytest.raises(ConflictError) as err:
        _read(w, 36.5)
    assert err.value.reason == "consent_required"
    give_consent(db.session.get(User, w.resident_a.id))
    reading, _ = _read(w, 36.5)
    assert reading.lawful_basis == "consent"


def test_emergency_is_recorded_as_the_basis(w):
    assert _read(w, 36.5)[0].lawful_basis == "public_health_emergency"


def test_measured_at_given_by_the_caller_is_the_readings_time(w):
    # An offline check-in synced days later: the caller validated its time; it is kept as given
    # (a device time that old would not be believed).
    taken = T0 - timedelta(days=6)
    with time_machine.travel(T0, tick=False):
        reading, outcome = record_reading(
            w.guard_a, compound_id=w.compound_a.id, subject_user_id=w.resident_a.id, household_id=None,
            visitor_id=None, gate_id=w.gate_a.id, celsius=36.6, source="gate", client_id=None,
            device_time=taken, measured_at=taken)
        assert reading.measured_at == taken and reading.created_at == T0 and outcome == "normal"
        # Without measured_at, the same old device time is not believed.
        later, _ = record_reading(
            w.guard_a, compound_id=w.compound_a.id, subject_user_id=w.resident_a.id, household_id=None,
            visitor_id=None, gate_id=w.gate_a.id, celsius=36.6, source="gate", client_id=None,
            device_time=taken)
        assert later.measured_at == T0


def test_measured_at_places_the_reading_in_its_own_fever_window(w):
    taken = T0 - timedelta(days=3)
    with time_machine.travel(T0, tick=False):
        assert _read(w, 37.6)[1] == "remeasure"
        # A high reading three days ago is not the re-measure of today's first high.
        _, outcome = record_reading(
            w.guard_a, compound_id=w.compound_a.id, subject_user_id=w.resident_a.id, household_id=None,
            visitor_id=None, gate_id=w.gate_a.id, celsius=37.6, source="gate", client_id=None,
            device_time=None, measured_at=taken)
    assert outcome == "remeasure" and _alerts() == []
