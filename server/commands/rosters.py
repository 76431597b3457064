"""`flask wuye coverage`: coverage-gap alerts for shifts whose guards did not clock in (run every few minutes)."""

from __future__ import annotations

import click

from server.extensions import db


def register(group) -> None:
    """Add the roster commands to the `flask wuye` group."""

    @group.command("coverage")
    def coverage() -> None:
        """Alert staff about shifts started past the grace window with a guard missing."""
        from server.services.roster.roster_clock import flag_coverage_gaps

        gaps = flag_coverage_gaps()
        db.session.commit()
        click.echo(f"coverage gaps seen: {gaps}")
