"""``flask market publish``: an external feed handler's way in.

Reads quotes as JSON lines on stdin and writes them to the shared quote book
in the message queue (Redis), without any Socket.IO connection. The servers'
feed loops pick them up on their next tick: the lease holder matches limit
orders against them and every process pushes them to its subscribers with
the same conflation as simulated quotes. (Emitting ``quote`` events straight
to the rooms from here would skip both, so this is deliberately not done.)

It publishes on no pub/sub channel: the quote book is keys in the database
of MESSAGE_QUEUE, which Redis keeps apart per database number. Run it with
the deployment's own MESSAGE_QUEUE (its environment file) and it reaches that
deployment only (docs/deploy.md, "Several deployments on one Redis server").

    printf '%s\\n' '{"symbol": "ACME", "price": "101.25"}' | \\
        MESSAGE_QUEUE=redis://127.0.0.1:6379/0 flask --app app market publish
"""
from __future__ import annotations

import sys

import click
from flask import current_app

from blueprints.market.quotes import PublishError, RedisBook, parse_published
from blueprints.market.routes import bp


@bp.cli.command("publish")
@click.option("--quiet", is_flag=True, help="Do not echo each published quote.")
def publish(quiet: bool) -> None:
    """Publish quotes read as JSON lines on stdin.

    Each line: {"symbol": "ACME", "price": "101.25", "volume"?: 1200,
    "open"?: "100.00", "ts"?: "2026-01-02T03:04:05Z"}. A bad line is
    reported on stderr and skipped; the exit status is 1 if any was bad.
    """
    settings = current_app.extensions["switchboard.settings"]
    if not settings.MESSAGE_QUEUE:
        raise click.ClickException(
            "MESSAGE_QUEUE is not set. Publishing goes through the message queue the servers "
            "share: set MESSAGE_QUEUE=redis://host:6379/N to the servers' value."
        )
    feed = current_app.extensions["switchboard.market"]
    try:
        book = RedisBook(settings.MESSAGE_QUEUE)
        book.redis.ping()
    except Exception as exc:  # redis-py raises several kinds; all mean "cannot reach it"
        raise click.ClickException(f"cannot reach MESSAGE_QUEUE {settings.MESSAGE_QUEUE}: {exc}") from exc

    def previous(symbol: str):
        stored = book.get(symbol)
        return stored.quote if stored else None

    bad = published = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            quote = parse_published(line, feed.symbols, previous)
        except PublishError as exc:
            bad += 1
            click.echo(f"line {number}: {exc}", err=True)
            continue
        version = book.put(quote)
        published += 1
        if not quiet:
            data = quote.to_dict()
            click.echo(f"{data['symbol']} {data['price']} ({data['change']}, "
                       f"{data['change_pct']}%) v{version}")
    if not quiet or bad:
        click.echo(f"published {published} quote(s){f', {bad} bad line(s)' if bad else ''}",
                   err=True)
    if bad:
        sys.exit(1)
