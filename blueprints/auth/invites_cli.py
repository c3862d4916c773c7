"""``flask invites ...``: invite links for operators (REGISTRATION=invite)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from audit import audit
from blueprints.auth import invites
from errors import AppError

cli = AppGroup("invites", help="Invite links: registration for REGISTRATION=invite.")


@cli.command("create")
@click.option("--uses", default=1, show_default=True, type=click.IntRange(1, invites.MAX_USES),
              help="How many accounts the link may create.")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, invites.MAX_DAYS),
              help="Days until it expires.")
def create(uses: int, days: int) -> None:
    """Create a link; its absolute URL (from PUBLIC_URL) is the last line printed."""
    try:
        invite = invites.create(None, uses=uses, days=days)
    except AppError as exc:
        raise click.ClickException(str(exc.message)) from None
    audit("invite_created", by="cli", invite=invite.id, uses=uses, days=days)
    click.echo(f"invite for {uses} account{'s' if uses != 1 else ''}, expires "
               f"{invite.expires_at:%Y-%m-%d %H:%M} UTC")
    click.echo(invites.link(invite.code))


@cli.command("list")
def list_() -> None:
    """The latest links: code, status, uses, expiry, creator."""
    rows = invites.list_all()
    if not rows:
        click.echo("no invite links")
        return
    for inv in rows:
        d = invites.to_dict(inv)
        click.echo(f"{d['code']}  {d['status']:<8} {d['uses']}/{d['max_uses']} uses  "
                   f"expires {inv.expires_at:%Y-%m-%d %H:%M} UTC  by {d['created_by'] or 'cli'}")


@cli.command("revoke")
@click.argument("code")
def revoke(code: str) -> None:
    """Revoke link CODE: it answers 410 from now on."""
    try:
        invite = invites.revoke(code)
    except AppError as exc:
        raise click.ClickException(str(exc.message)) from None
    audit("invite_revoked", by="cli", invite=invite.id)
    click.echo(f"revoked {invite.code}")
