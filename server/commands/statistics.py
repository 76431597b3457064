"""`flask wuye rollup | population`: the district statistics' hourly rollups rebuilt from the raw rows, and
the residents per compound counted (run `population` every few minutes from the host that runs the jobs)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from server.extensions import db


def register(group) -> None:
    """Add the statistics commands to the `flask wuye` group."""

    @group.command("rollup")
    @click.option("--since", default=None, help="ISO time to recount from (default: the earliest raw row)")
    def rollup(since: str | None) -> None:
        """Recount the hourly check-in and temperature rollups from the raw rows, and the residents (safe to rerun)."""
        from server.services.alliance.rollups import count_population, rebuild_rollups

        start = None
        if since:
            try:
                start = datetime.fromisoformat(since)
            except ValueError:
                raise click.BadParameter("an ISO time, e.g. 2026-12-01T00:00+08:00", param_hint="--since") from None
            start = start if start.tzinfo else start.replace(tzinfo=UTC)
        counts = rebuild_rollups(start)
        compounds = count_population()
        db.session.commit()
        click.echo("rollups: " + ", ".join(f"{k} {v} rows" for k, v in counts.items())
                   + f"; residents counted in {compounds} compounds")

    @group.command("population")
    def population() -> None:
        """Count the approved residents of every compound for the statistics (a periodic job)."""
        from server.services.alliance.rollups import count_population

        compounds = count_population()
        db.session.commit()
        click.echo(f"residents counted in {compounds} compounds")
