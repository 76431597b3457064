"""`flask wuye rotate-pass-key` and `flask wuye drop-retired-pass-keys`: the pass signing keys."""

from __future__ import annotations

from datetime import timedelta

import click


def register(group) -> None:
    """Add the pass-key commands to `flask wuye`."""

    @group.command("rotate-pass-key")
    @click.option("--lead-minutes", default=60, show_default=True,
                  help="publish the new public key this long before it signs, so offline devices fetch it")
    def rotate_pass_key(lead_minutes: int) -> None:
        """Create a new pass signing key; older keys stop signing when it activates and retire after."""
        from server.services.gate.passes import rotate_signing_key

        kid = rotate_signing_key(timedelta(minutes=lead_minutes))
        click.echo(f"new pass signing key kid={kid}, signs in {lead_minutes} min")

    @group.command("drop-retired-pass-keys")
    def drop_retired_pass_keys() -> None:
        """Delete pass keys whose retire time has passed."""
        from server.services.gate.passes import drop_retired_keys

        click.echo(f"{drop_retired_keys()} retired pass keys removed")
