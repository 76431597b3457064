"""`flask wuye rotate-pass-key`, `drop-retired-pass-keys`, `reencrypt-keys` and `check-keys`: stored keys."""

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

    @group.command("reencrypt-keys")
    def reencrypt_keys() -> None:
        """Re-encrypt the stored keys under WUYE_SECRET_KEY (after a rotation, before dropping the fallback)."""
        from server.services.gate.key_vault import KeyUnreadable, reencrypt
        from server.services.gate.passes import forget_cached_keys

        try:
            changed = reencrypt()
        except KeyUnreadable as exc:
            raise click.ClickException(str(exc)) from None
        forget_cached_keys()
        click.echo(f"{changed} stored keys re-encrypted under WUYE_SECRET_KEY; "
                   "WUYE_SECRET_KEY_FALLBACKS can be emptied once every host has the new secret "
                   "and the longest token lifetime (WUYE_REFRESH_TOKEN_DAYS) has passed")

    @group.command("check-keys")
    def check_keys() -> None:
        """Fail unless every stored key decrypts with WUYE_SECRET_KEY or WUYE_SECRET_KEY_FALLBACKS."""
        from server.services.gate.key_vault import KeyUnreadable, check_readable

        try:
            check_readable()
        except KeyUnreadable as exc:
            raise click.ClickException(str(exc)) from None
        click.echo("every stored key decrypts")
