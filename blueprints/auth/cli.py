"""``flask users ...``: account administration for operators."""
from __future__ import annotations

import click

from blueprints.auth import service
from blueprints.auth.routes import bp
from errors import AppError


@bp.cli.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Give the account admin rights.")
@click.password_option(help="Asked twice when not given.")
def create(username: str, admin: bool, password: str) -> None:
    """Create account USERNAME."""
    try:
        user = service.create_user(username, password, is_admin=admin or None)
    except AppError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"created {user.username}{' (admin)' if user.is_admin else ''}")


@bp.cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable USERNAME: ends their sessions, tokens and sockets."""
    from realtime.closing import disconnect_user

    user = service.find_user(username)
    if user is None:
        raise click.ClickException(f"no account named {username}")
    service.set_active(user, False)
    disconnect_user(user.id, reason="disabled")
    click.echo(f"disabled {user.username}")
