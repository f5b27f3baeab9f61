"""Build the application's services over a database: what the CLI and API call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qoima.adapters.passwords import Argon2PasswordHasher
from qoima.adapters.policy_files import parse_policy
from qoima.adapters.report_pdf import find_browser
from qoima.adapters.run_folder import RunFolder
from qoima.app.allocation import AllocationService
from qoima.app.audit_trail import AuditService
from qoima.app.auth import AuthService
from qoima.app.book import BookService
from qoima.app.custody import CustodyService
from qoima.app.custody_evidence import CustodyEvidence
from qoima.app.daily_run import DailyRunService, RunHistory, RunServices
from qoima.app.data_versions import DataVersions
from qoima.app.deployment import DeploymentBacktests
from qoima.app.dispositions import DispositionService
from qoima.app.idempotency import IdempotencyService
from qoima.app.managers import ManagerService
from qoima.app.market_data import MarketDataService
from qoima.app.orders import OrderService
from qoima.app.policies import PolicyService
from qoima.app.risk import RiskService
from qoima.app.tranche_plans import TranchePlanService
from qoima.app.transfers import TransferService
from qoima.app.users import UserService
from qoima.app.valuation import ValuationService
from qoima.bootstrap.settings import DB_FILE, Settings
from qoima.domain.errors import ConfigurationError
from qoima.store.database import Database
from qoima.store.uow import SqlUnitOfWorkFactory


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Reserve:
    """Every use case over one workspace, wired to its database."""

    database: Database
    units: SqlUnitOfWorkFactory
    book: BookService
    valuation: ValuationService
    audit: AuditService
    market_data: MarketDataService
    risk: RiskService
    users: UserService
    policies: PolicyService
    orders: OrderService
    transfers: TransferService
    allocation: AllocationService
    tranches: TranchePlanService
    deployment: DeploymentBacktests
    custody: CustodyService
    evidence: CustodyEvidence
    dispositions: DispositionService
    location: str
    daily: DailyRunService
    runs: RunHistory
    managers: ManagerService
    auth: AuthService
    idempotency: IdempotencyService
    data_versions: DataVersions

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine (for tests and tools; SQLAlchemy itself stays in store)."""
        return self.database.engine

    def close(self) -> None:
        self.database.dispose()


def open_reserve(*, workspace: Path | None = None, database_url: str | None = None,
                 create: bool = False, settings: Settings | None = None) -> Reserve:
    """Open a workspace; ``create`` makes the directory and schema when missing.

    An existing database must already be at the current schema revision, or be created
    with ``create=True`` (``qoima init``), so no command silently migrates production data.
    """
    settings = settings or Settings()
    url = database_url or settings.database_url
    embedded = url is None
    if url is None:
        directory = (workspace or settings.home).resolve()
        if not (directory / DB_FILE).exists() and not create:
            raise ConfigurationError(
                f"no qoima workspace at {directory} (run 'qoima init --dir {directory}' "
                "or set QOIMA_DATABASE_URL)")
        directory.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+pysqlite:///{directory / DB_FILE}"
        location = str(directory)
    else:
        location = Database.describe(url)
    database = Database(url)
    if create:
        database.upgrade()
    elif database.revision() != database.head():
        revision = database.revision()
        database.dispose()
        raise ConfigurationError(
            f"database at {location} is at schema {revision or 'none'}, qoima needs "
            f"{database.head()}: run 'qoima init' to migrate")
    runs_dir = settings.runs_dir or (
        Path(location) / "runs" if embedded else settings.home.resolve() / "runs")
    return wire(database, location, runs_dir=runs_dir, browser=settings.browser)


def wire(database: Database, location: str = "", *, runs_dir: Path | None = None,
         browser: str | None = None) -> Reserve:
    units = database.units
    clock = SystemClock()
    valuation = ValuationService(units)
    managers = ManagerService(units, clock)
    policies = PolicyService(units, clock, valuation, parse_policy,
                             managers.look_through_shares)
    orders = OrderService(units, clock, policies)
    allocation = AllocationService(units, clock, valuation, policies)
    book = BookService(units, clock)
    custody = CustodyService(units, clock, book)
    audit = AuditService(units, clock)
    risk = RiskService(units, valuation, managers.reported_exposures)
    tranches = TranchePlanService(units, clock, allocation, orders)
    found = None if browser == "none" else find_browser(browser)
    output = RunFolder(runs_dir or Path(location or ".") / "runs", browser=found)
    daily = DailyRunService(units, clock, RunServices(
        valuation, risk, policies, allocation, tranches, orders, audit), output)
    return Reserve(database, units, book, valuation, audit, MarketDataService(units, clock),
                   risk, UserService(units, clock), policies,
                   orders, TransferService(units, clock, policies), allocation, tranches,
                   DeploymentBacktests(units, allocation), custody,
                   CustodyEvidence(units, clock, custody), DispositionService(units, clock),
                   location, daily, RunHistory(units, daily), managers,
                   AuthService(units, clock, Argon2PasswordHasher()),
                   IdempotencyService(units, clock), DataVersions(units))
