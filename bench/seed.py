"""Create the benchmark's accounts in an instance folder, before any server starts.

Run by ``bench/run.py`` once per run; every Switchboard server of the run
then starts on a copy of this folder (same SECRET_KEY, same users).

Why not ``flask users create`` or /register for each of the 1,000 users:
each hashes the password with werkzeug's default scrypt (~0.2 s of CPU here),
so seeding and then logging in 1,000 users would take minutes per scenario.
The first account goes through ``service.create_user`` like any other (it
becomes the admin, so the bench users are ordinary accounts); the bench users
are inserted in one transaction and share one password hash made with a cheap
pbkdf2 setting. Logging in stays the production path: /api/token runs
``check_password_hash``, which reads the method from the stored hash. Login
cost is not among the figures the benchmark reports.

Usage: python bench/seed.py --instance DIR --users 1000 [--prefix bench] [--password ...]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description="Create the benchmark's accounts.")
    parser.add_argument("--instance", required=True, help="INSTANCE_PATH to create them in")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--password", default="bench-password")
    parser.add_argument("--secret-key", default=os.environ.get("SECRET_KEY", "bench-secret-key"))
    args = parser.parse_args()

    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from app import create_app, prepare_database
    from blueprints.auth import service
    from config import Settings
    from extensions import db
    from models import User

    settings = Settings.from_env({
        "ASYNC_MODE": "threading",
        "INSTANCE_PATH": args.instance,
        "SECRET_KEY": args.secret_key,
        "LOG_LEVEL": "warning",
    })
    app = create_app(settings)
    prepare_database(app)
    with app.app_context():
        if service.find_user(f"{args.prefix}admin") is None:
            service.create_user(f"{args.prefix}admin", args.password)
        existing = set(db.session.scalars(
            select(User.username_key).where(User.username_key.like(f"{args.prefix.lower()}%"))
        ))
        shared_hash = generate_password_hash(args.password, method="pbkdf2:sha256:1000")
        new = []
        for i in range(1, args.users + 1):
            name = f"{args.prefix}{i:05d}"
            if name.lower() not in existing:
                new.append(User(username=name, username_key=name.lower(),
                                password_hash=shared_hash, is_admin=False))
        db.session.add_all(new)
        db.session.commit()
        total = db.session.scalar(select(db.func.count(User.id)))
        db.session.remove()
        db.engine.dispose()  # last connection closed: SQLite folds the WAL into the file
    print(f"seed: {len(new)} users created, {total} accounts in {args.instance}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
