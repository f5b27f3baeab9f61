"""``qoima user`` and ``qoima policy``: who acts, and the investment policy as code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qoima.adapters.policy_files import read_policy
from qoima.cli.context import state
from qoima.cli.options import Json
from qoima.cli.options import parse_date as _day
from qoima.cli.render import console, print_json, table
from qoima.domain.roles import Role, RoleGrant
from qoima.policy.evaluate import PolicyCheck

user_app = typer.Typer(no_args_is_help=True, help="Users and their roles per vehicle.")
policy_app = typer.Typer(no_args_is_help=True, help="Investment policy: versions, approval, "
                         "daily checks, breach register, dry runs.")




def _grants(texts: list[str]) -> list[RoleGrant]:
    grants = []
    for text in texts:
        role, _, vehicle = text.partition(":")
        try:
            grants.append(RoleGrant(Role(role), vehicle or None))
        except ValueError:
            raise typer.BadParameter(f"{role!r} is not a role ({', '.join(Role)})",
                                     param_hint="--role") from None
    return grants


@user_app.command("add")
def add_user(ctx: typer.Context, name: str,
             role: Annotated[list[str], typer.Option(
                 "--role", help="ROLE or ROLE:VEHICLE (repeatable), e.g. risk_officer or "
                 "portfolio_manager:da-sleeve.")],
             display_name: Annotated[str, typer.Option("--display-name")] = "",
             json: Json = False) -> None:
    """Add a user (the first user of a workspace may be added by anyone)."""
    user = state(ctx).reserve().users.add(name, display_name, _grants(role),
                                          actor=state(ctx).actor)
    if json:
        print_json(user)
        return
    console.print(f"user {user.name}: " + ", ".join(
        f"{g.role}{':' + g.vehicle_code if g.vehicle_code else ''}" for g in user.grants))


@user_app.command("grant")
def set_grants(ctx: typer.Context, name: str,
               role: Annotated[list[str], typer.Option("--role", help="ROLE[:VEHICLE]")]
               ) -> None:
    """Replace a user's roles (administrators only)."""
    state(ctx).reserve().users.set_grants(name, _grants(role), actor=state(ctx).actor)
    console.print(f"user {name}: roles set")


@user_app.command("password")
def set_password(ctx: typer.Context, name: str,
                 totp: Annotated[bool, typer.Option(
                     "--totp", help="Also turn on a TOTP second factor and print its secret.")
                 ] = False) -> None:
    """Set NAME's password for the API and dashboard (asked twice, never echoed)."""
    password = typer.prompt("new password (at least 12 characters)", hide_input=True,
                            confirmation_prompt=True)
    cli = state(ctx)
    reserve = cli.reserve()
    reserve.auth.set_password(name, password, actor=cli.actor)
    console.print(f"password set for {name}")
    if totp:
        secret = reserve.auth.enable_totp(name, actor=cli.actor)
        console.print(f"TOTP secret for {name} (add it to an authenticator app): {secret}")


@user_app.command("list")
def list_users(ctx: typer.Context, json: Json = False) -> None:
    users = state(ctx).reserve().users.list()
    if json:
        print_json(users)
        return
    console.print(table("Users", [("name", "l"), ("display name", "l"), ("roles", "l"),
                                  ("active", "l")],
                        [[u.name, u.display_name, ", ".join(
                            f"{g.role}{':' + g.vehicle_code if g.vehicle_code else ''}"
                            for g in u.grants), "yes" if u.active else "no"] for u in users]))


@policy_app.command("propose")
def propose(ctx: typer.Context, file: Path,
            reason: Annotated[str | None, typer.Option("--reason")] = None,
            json: Json = False) -> None:
    """Store a policy file (YAML or TOML) as the vehicle's next version, to be approved."""
    policy = read_policy(file)
    record = state(ctx).reserve().policies.propose(
        policy, fmt="toml" if file.suffix.lower() == ".toml" else "yaml",
        actor=state(ctx).actor, reason=reason)
    if json:
        print_json(record)
        return
    console.print(f"policy {record.vehicle_code} v{record.version} proposed "
                  f"({record.content_hash[:12]}); a committee member approves it with "
                  f"`qoima policy approve {record.vehicle_code} {record.version}`")


@policy_app.command("approve")
def approve(ctx: typer.Context, vehicle: str, version: int, json: Json = False) -> None:
    """Approve a proposed version (committee; never its proposer)."""
    record = state(ctx).reserve().policies.approve(vehicle, version, actor=state(ctx).actor)
    if json:
        print_json(record)
        return
    console.print(f"policy {vehicle} v{version}: {record.status}, takes effect "
                  f"{record.takes_effect_at}")


@policy_app.command("veto")
def veto(ctx: typer.Context, vehicle: str, version: int,
         reason: Annotated[str, typer.Option("--reason")]) -> None:
    """Stop a version that has not taken effect yet (committee)."""
    state(ctx).reserve().policies.veto(vehicle, version, actor=state(ctx).actor, reason=reason)
    console.print(f"policy {vehicle} v{version}: vetoed")


@policy_app.command("show")
def show(ctx: typer.Context, vehicle: Annotated[str | None, typer.Argument()] = None,
         json: Json = False) -> None:
    """Every version with its status, hash, proposer and approver."""
    records = state(ctx).reserve().policies.versions(vehicle)
    if json:
        print_json(records)
        return
    console.print(table("Policy versions", [
        ("vehicle", "l"), ("v", "r"), ("status", "l"), ("hash", "l"), ("effective", "l"),
        ("proposed by", "l"), ("approved by", "l"), ("takes effect", "l")],
        [[r.vehicle_code, str(r.version), r.status, r.content_hash[:12], str(r.effective_from),
          r.proposed_by, r.approved_by or "—", str(r.takes_effect_at or "—")]
         for r in records]))


def _print_check(check: PolicyCheck) -> None:
    console.print(table(f"{check.vehicle_code} v{check.version} on {check.as_of}"
                        + (" — BLOCKING" if check.blocking else ""), [
        ("rule", "l"), ("severity", "l"), ("subject", "l"), ("measured", "r"),
        ("limit", "r"), ("message", "l")],
        [[f.rule, str(f.severity), f.subject, f.measured or "", f.limit or "", f.message]
         for f in check.findings]))


@policy_app.command("check")
def check(ctx: typer.Context,
          as_of: Annotated[str | None, typer.Option("--as-of")] = None,
          vehicle: Annotated[str | None, typer.Option("--vehicle")] = None,
          record: Annotated[bool, typer.Option(
              "--record/--no-record", help="Update the breach register (default).")] = True,
          json: Json = False) -> None:
    """Evaluate every vehicle's policy in force on the actual snapshot."""
    reserve = state(ctx).reserve()
    day = _day(as_of, "--as-of") or reserve.risk.default_as_of()
    outcomes = reserve.policies.check(day, actor=state(ctx).actor, vehicle=vehicle,
                                      record=record)
    if json:
        print_json([{"vehicle": o.check.vehicle_code, "version": o.check.version,
                     "policy_hash": o.check.policy_hash, "as_of": o.check.as_of,
                     "blocking": o.check.blocking, "actions": list(o.check.actions),
                     "findings": list(o.check.findings), "opened": list(o.opened),
                     "closed": list(o.closed)} for o in outcomes])
        return
    if not outcomes:
        console.print("no vehicle has a policy in force on that date")
    for outcome in outcomes:
        _print_check(outcome.check)
        console.print(f"breaches opened {len(outcome.opened)}, closed {len(outcome.closed)}, "
                      f"still open {len(outcome.still_open)}")


@policy_app.command("breaches")
def breaches(ctx: typer.Context, vehicle: Annotated[str | None, typer.Option("--vehicle")] = None,
             all_: Annotated[bool, typer.Option("--all", help="Closed ones too.")] = False,
             json: Json = False) -> None:
    """The breach register: what is open, since when (and what closed, with --all)."""
    records = state(ctx).reserve().policies.breaches(vehicle, open_only=not all_)
    if json:
        print_json(records)
        return
    console.print(table("Breach register", [
        ("vehicle", "l"), ("rule", "l"), ("subject", "l"), ("severity", "l"), ("opened", "l"),
        ("closed", "l"), ("message", "l")],
        [[b.vehicle_code, b.rule, b.subject, b.severity, str(b.opened_on),
          str(b.closed_on or "open"), b.message] for b in records]))


@policy_app.command("dry-run")
def dry_run(ctx: typer.Context,
            policy: Annotated[Path, typer.Option("--policy", help="The candidate policy file.")],
            start: Annotated[str, typer.Option("--from")],
            end: Annotated[str, typer.Option("--to")], json: Json = False) -> None:
    """What a policy version would have flagged on each valuation day of a past period."""
    candidate = read_policy(policy)
    first, last = _day(start, "--from"), _day(end, "--to")
    assert first is not None
    assert last is not None
    results = state(ctx).reserve().policies.dry_run(candidate, first, last)
    flagged = [r for r in results if r.findings]
    if json:
        print_json({"policy_hash": candidate.content_hash, "days": len(results),
                    "days_flagged": [r.as_of for r in flagged],
                    "findings": {r.as_of.isoformat(): list(r.findings) for r in flagged}})
        return
    console.print(f"{len(flagged)} of {len(results)} valuation days flagged")
    console.print(table("Findings by day", [("day", "l"), ("rule", "l"), ("severity", "l"),
                                            ("message", "l")],
                        [[str(r.as_of), f.rule, str(f.severity), f.message]
                         for r in flagged for f in r.findings]))
