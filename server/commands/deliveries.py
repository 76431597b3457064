"""`flask wuye confirm-deliveries`: confirm requests delivered more than 24 hours ago.

Run it from cron, e.g. every ten minutes: `*/10 * * * * cd /srv/wuye && .venv/bin/flask wuye confirm-deliveries`.
It is safe to run on several hosts at once: each confirmation is a conditional update.
"""

from __future__ import annotations

import click

from server.extensions import db


def register(group: click.Group) -> None:
    """Add the delivery commands to `flask wuye`."""

    @group.command("confirm-deliveries")
    def confirm_deliveries() -> None:
        """Confirm deliveries the resident left unconfirmed for 24 hours (and notify them)."""
        from server.services.delivery.delivery_lifecycle import confirm_overdue_deliveries

        count = confirm_overdue_deliveries()
        db.session.commit()
        click.echo(f"{count} deliveries confirmed automatically")
