"""A draft's checks of its maker and terms are kept between drafts (they run under the one
writer lock), but never outlive a change to the users, grants or reference data."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from qoima.bootstrap.wiring import Reserve
from qoima.domain.errors import Forbidden, InvalidInput, NotFound
from qoima.domain.roles import Role, RoleGrant
from tests.app.governance import SLEEVE, governed_demo, ibit


@pytest.fixture
def book(reserve: Reserve) -> Reserve:
    governed_demo(reserve)
    reserve.orders.new(ibit("10"), idempotency_key="first", actor="pm")  # checks kept
    return reserve


def test_a_grant_taken_away_refuses_the_next_draft(book: Reserve) -> None:
    book.users.set_grants("pm", [RoleGrant(Role.PORTFOLIO_MANAGER, "fx-reserves")],
                          actor="admin")
    with pytest.raises(Forbidden):
        book.orders.new(ibit("11"), idempotency_key="after-revoke", actor="pm")
    book.users.set_grants("pm", [RoleGrant(Role.PORTFOLIO_MANAGER, SLEEVE)], actor="admin")
    assert book.orders.new(ibit("11"), idempotency_key="after-grant", actor="pm").maker == "pm"


def test_a_deactivated_maker_drafts_nothing(book: Reserve) -> None:
    book.users.set_active("pm", False, actor="admin")
    with pytest.raises(Forbidden):
        book.orders.new(ibit("12"), idempotency_key="inactive", actor="pm")
    assert [o.idempotency_key for o in book.orders.list(actor="auditor")] == ["first"]


def test_reference_changed_outside_the_services_is_seen_by_the_next_draft(
        book: Reserve) -> None:
    # raw SQL, as a DBA would: the database's triggers renew the token the check was kept under
    with book.engine.begin() as connection:
        connection.execute(text("UPDATE instruments SET kind = 'cash', currency = 'IBIT' "
                                "WHERE code = 'IBIT'"))
    with pytest.raises(InvalidInput, match="IBIT is cash"):
        book.orders.new(ibit("13"), idempotency_key="cash", actor="pm")
    with book.engine.begin() as connection:
        connection.execute(text("UPDATE instruments SET kind = 'etf', currency = 'USD' "
                                "WHERE code = 'IBIT'"))
    assert book.orders.new(ibit("13"), idempotency_key="etf", actor="pm").terms.quantity == 13


def test_a_refused_check_is_not_kept(book: Reserve) -> None:
    with pytest.raises(NotFound, match="custodian"):
        book.orders.new(ibit("14", custodian_code="vault-x"), idempotency_key="x1", actor="pm")
    with book.engine.begin() as connection:
        connection.execute(text("INSERT INTO custodians (code, name, kind, jurisdiction) "
                                "VALUES ('vault-x', 'Vault X', 'crypto_custodian', 'KZ')"))
    order = book.orders.new(ibit("14", custodian_code="vault-x"), idempotency_key="x2",
                            actor="pm")
    assert order.terms.custodian_code == "vault-x"
