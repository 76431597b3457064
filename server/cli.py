"""`flask wuye ...` commands: accounts, demo data, synthetic districts (each issue adds its own)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.extensions import db

wuye_cli = AppGroup("wuye", help="Wuye administration.")


@wuye_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--alliance", "alliance_name", default="物业联盟", show_default=True,
              help="name of the alliance, created if the deployment has none")
def create_admin(username: str, password: str, alliance_name: str) -> None:
    """Create an alliance-admin account (and the alliance on a new deployment)."""
    from server.models.alliance import Alliance
    from server.services.people.people import create_password_user

    if len(password) < 10:
        raise click.BadParameter("at least 10 characters", param_hint="--password")
    alliance = db.session.scalar(select(Alliance).order_by(Alliance.id).limit(1))
    if alliance is None:
        alliance = Alliance(name=alliance_name)
        db.session.add(alliance)
        db.session.flush()
    user = create_password_user("alliance_admin", alliance.id, {"username": username, "password": password})
    db.session.commit()
    click.echo(f"alliance admin {user.username} created (id {user.id}) in {alliance.name}")


@wuye_cli.command("demo-data")
@click.option("--if-empty", is_flag=True, help="do nothing when the database already has an alliance")
def demo_data(if_empty: bool) -> None:
    """Load the demo alliance built from the seeds (Huilongguan)."""
    from flask import current_app

    from server.demo.load import DEMO_LOGINS, load_demo
    from server.models.alliance import Alliance

    if current_app.config["WUYE_ENV"] == "production":
        # The demo's accounts have passwords printed in the README.
        raise click.ClickException("demo data is refused in production (WUYE_ENV=production)")
    if if_empty and db.session.scalar(select(Alliance.id).limit(1)) is not None:
        click.echo("database already has data; demo not loaded")
        return
    load_demo()
    db.session.commit()
    click.echo("demo alliance loaded. Logins:")
    for line in DEMO_LOGINS:
        click.echo(f"  {line}")


@wuye_cli.command("synth")
@click.option("--compounds", default=50, show_default=True)
@click.option("--households", "households_per_compound", default=300, show_default=True)
@click.option("--days", default=1, show_default=True, help="days of gate traffic (today's up to now included)")
@click.option("--trips", "trips_per_household", default=0.42, show_default=True,
              help="out-and-back trips per household per day")
@click.option("--seed", default=1, show_default=True)
def synth(compounds: int, households_per_compound: int, days: int, trips_per_household: float, seed: int) -> None:
    """Generate a synthetic district of the given size, for benchmarks (a district: 200 x 1000, 60 days)."""
    import time

    from server.demo.synth import database_size, generate_district

    started = time.monotonic()

    def progress(message: str) -> None:
        click.echo(f"[{time.monotonic() - started:7.1f} s] {message}")

    counts = generate_district(compounds, households_per_compound, days, seed,
                               trips_per_household=trips_per_household, progress=progress)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Also sets the hint bits and the visibility map of the new rows: otherwise the first reads (and
        # autovacuum, minutes later) do it while the district is in use.
        progress("committed; vacuuming and analysing")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        progress("committed; analysing")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))
    click.echo(f"took {time.monotonic() - started:.1f} s; database size {database_size() / 2**20:.0f} MiB")


def register_domain_commands() -> None:
    """Add the commands of every module in server/commands."""
    import importlib
    import pkgutil

    import server.commands as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        importlib.import_module(f"server.commands.{module_info.name}").register(wuye_cli)


register_domain_commands()
