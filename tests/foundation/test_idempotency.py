"""The idempotent write every retried device write is built on: replay, mismatch, and the unique-key race.

Played on companies, whose (alliance, name) key stands for (author, client id) and whose phone for the body.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError
from server.extensions import db
from server.models.alliance import Alliance
from server.models.companies import Company
from server.plumbing.idempotency import IdempotentWrite


@pytest.fixture
def alliance_id(ctx):
    alliance = Alliance(name="联盟")
    db.session.add(alliance)
    db.session.commit()
    return alliance.id


def company_write(alliance_id: int, name: str, phone: str, *, finds: bool = True) -> IdempotentWrite[Company]:
    def find():
        if not finds:
            return None
        return db.session.scalar(select(Company).where(Company.alliance_id == alliance_id, Company.name == name))
    return IdempotentWrite(find, lambda stored: stored.contact_phone == phone)


def company(alliance_id: int, name: str, phone: str) -> Company:
    return Company(alliance_id=alliance_id, name=name, contact_phone=phone)


def companies() -> list[tuple[str, str]]:
    return [(c.name, c.contact_phone) for c in db.session.scalars(select(Company).order_by(Company.id))]


def test_a_first_write_is_inserted_and_a_retry_replays_it(alliance_id):
    write = company_write(alliance_id, "甲", "110")
    assert write.stored() is None
    row, replayed = write.add(company(alliance_id, "甲", "110"))
    assert not replayed and row.id is not None
    assert write.stored() is row
    with pytest.raises(ConflictError) as changed:
        company_write(alliance_id, "甲", "120").stored()
    assert changed.value.reason == "idempotency_mismatch" and changed.value.code == 409


def test_an_insert_losing_the_race_replays_the_winner_and_keeps_the_rest(alliance_id):
    winner, _ = company_write(alliance_id, "甲", "110").add(company(alliance_id, "甲", "110"))
    company_write(alliance_id, "乙", "119").add(company(alliance_id, "乙", "119"))
    # The retry looked nothing up (or looked before the winner was stored): the unique key decides.
    row, replayed = company_write(alliance_id, "甲", "110").add(company(alliance_id, "甲", "110"))
    assert replayed and row is winner
    with pytest.raises(ConflictError) as changed:
        company_write(alliance_id, "甲", "120").add(company(alliance_id, "甲", "120"))
    assert changed.value.reason == "idempotency_mismatch"
    assert companies() == [("甲", "110"), ("乙", "119")]


def test_a_clash_with_no_row_under_the_client_id_is_raised_or_answered_as_given(alliance_id):
    company_write(alliance_id, "甲", "110").add(company(alliance_id, "甲", "110"))
    blind = company_write(alliance_id, "甲", "110", finds=False)
    with pytest.raises(IntegrityError):
        blind.add(company(alliance_id, "甲", "110"))
    with pytest.raises(ConflictError) as unexplained:
        blind.add(company(alliance_id, "甲", "110"), unexplained="conflict")
    assert unexplained.value.reason == "conflict"
    assert companies() == [("甲", "110")]


def test_without_a_savepoint_the_transaction_is_rolled_back_before_the_replay(alliance_id):
    company_write(alliance_id, "甲", "110").add(company(alliance_id, "甲", "110"))
    db.session.commit()
    db.session.add(company(alliance_id, "丙", "999"))  # this transaction's own work is undone with it

    def write():
        db.session.add(company(alliance_id, "甲", "110"))
        db.session.flush()

    row, replayed = company_write(alliance_id, "甲", "110").insert(write, savepoint=False)
    assert replayed and (row.name, row.contact_phone) == ("甲", "110")
    assert companies() == [("甲", "110")]
