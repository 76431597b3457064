"""The periodic jobs, all in one place: run each from exactly one scheduler (cron or a systemd timer),
never inside a web worker. Each is safe to run on several hosts at once (conditional updates, a
claimed outbox), so a second scheduler does no harm.

    * * * * *     flask wuye notify               the notification outbox (WeChat subscribe messages)
    */5 * * * *   flask wuye coverage             shifts started with a guard missing
    */10 * * * *  flask wuye confirm-deliveries   deliveries left unconfirmed for 24 hours
    0 10,20 * * * flask wuye check-reports        quarantine temperature reports missed
    0 9 * * *     flask wuye welfare              residents living alone who have gone quiet
    30 3 * * *    flask wuye purge                retention: health and movement records past their days
    */5 * * * *   flask wuye population           residents per compound, for the statistics (server/commands/statistics.py)
"""

from __future__ import annotations

import click
from flask import current_app

from server.extensions import db


def register(group) -> None:
    """Add the periodic jobs to the `flask wuye` group."""

    @group.command("notify")
    @click.option("--batch", default=50, show_default=True, help="rows claimed at a time")
    @click.option("--limit", type=int, default=None, help="stop after this many messages")
    def notify(batch: int, limit: int | None) -> None:
        """Send due WeChat subscribe messages from the outbox (safe to run in several processes)."""
        from server.errors import ApiError
        from server.plumbing.notify_drain import drain
        from server.services.people.sign_in import wechat_client

        try:
            client = wechat_client()
        except ApiError as exc:
            raise click.ClickException(f"WeChat is not configured ({exc.reason})") from None
        try:
            outcomes = drain(client, batch=batch, limit=limit)
        finally:
            client.close()
        click.echo("notifications: " + (", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none due"))

    @group.command("purge")
    @click.option("--days", type=int, default=None, help="retention in days (default: WUYE_RETENTION_DAYS)")
    @click.option("--batch", default=500, show_default=True, help="at most this many rows per transaction")
    @click.option("--batch-ms", default=10.0, show_default=True,
                  help="size each batch to take about this long (it holds the write lock that long); 0: --batch rows")
    @click.option("--pause", default=0.05, show_default=True, help="seconds between batches")
    def purge_command(days: int | None, batch: int, batch_ms: float, pause: float) -> None:
        """Delete health and movement records older than the retention period, in small batches."""
        from server.services.people.retention import purge

        if days is not None and days < 1:
            raise click.BadParameter("at least 1", param_hint="--days")
        if batch < 1 or batch_ms < 0:
            raise click.BadParameter("--batch at least 1, --batch-ms not negative")
        # The first line says the app is loaded and the deleting begins (bench/purge_under_load.py waits for it).
        click.echo(f"purging records older than {days or current_app.config['RETENTION_DAYS']} days")  # flushed
        counts = purge(days=days, batch=batch, pause=pause, batch_seconds=batch_ms / 1000 if batch_ms else None)
        click.echo("purged: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    @group.command("check-reports")
    def check_reports() -> None:
        """Alert staff about people in home quarantine who missed a twice-daily temperature report."""
        from server.services.health.welfare import check_missed_reports

        alerts = check_missed_reports()
        db.session.commit()
        click.echo(f"missed reports: {len(alerts)}")

    @group.command("welfare")
    @click.option("--days", default=2, show_default=True, help="days without a gate passage or a report")
    def welfare(days: int) -> None:
        """Raise check-on tasks for residents living alone who have gone quiet."""
        from server.services.health.welfare import check_welfare

        if days < 1:
            raise click.BadParameter("at least 1", param_hint="--days")
        alerts = check_welfare(days)
        db.session.commit()
        click.echo(f"welfare checks: {len(alerts)}")

    @group.command("coverage")
    def coverage() -> None:
        """Alert staff about shifts started past the grace window with a guard missing."""
        from server.services.roster.roster_clock import flag_coverage_gaps

        gaps = flag_coverage_gaps()
        db.session.commit()
        click.echo(f"coverage gaps seen: {gaps}")

    @group.command("confirm-deliveries")
    def confirm_deliveries() -> None:
        """Confirm deliveries the resident left unconfirmed for 24 hours (and notify them)."""
        from server.services.delivery.delivery_lifecycle import confirm_overdue_deliveries

        count = confirm_overdue_deliveries()
        db.session.commit()
        click.echo(f"{count} deliveries confirmed automatically")
