"""name keys: users.username_key and rooms.name_key become look-alike keys

Until now both keys were ``lower(name)``, so "root\\n", "ｒｏｏｔ" (fullwidth)
or "ro\\u200bot" were different keys for a name the page shows exactly like
"root". From here on the key is textnorm.name_key(): invisible characters
removed, NFKC, casefold, NFKC, white space runs made one space. The UNIQUE
constraints on both columns (0001) then refuse every look-alike in the
database itself. Direct-message rooms keep their "dm:<low>:<high>" keys.

Existing rows that already collide under the new key (possible only for
names made before this revision, e.g. "root\\n" beside "root"): the oldest
row (lowest id) keeps the key. For each later one:

* a user keeps the row, its messages and its name, but is disabled and
  signed out everywhere (``active`` false, ``auth_epoch`` + 1): it was a
  look-alike of an existing account, and sign-in by name now finds the
  older account. Its key becomes "<key>\\x1f<id>", which no name can ever
  produce (name keys hold no control characters), so nothing new can clash.
* a room is renamed "<name> (<id>)" (and keyed by that), so the list no
  longer shows two rooms alike; its members and messages stay.

Every such row is reported with a WARNING from logger ``alembic.runtime``
(shown by ``python app.py`` and ``flask db upgrade``), so the operator can
look at it. Nothing is deleted.

Revision ID: 3c1f0e7a9b52
Revises: 88cda9017691
Create Date: 2026-12-02 06:00:00

"""
import logging
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '3c1f0e7a9b52'
down_revision = '88cda9017691'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# A frozen copy of textnorm.name_key as of this revision: a migration must
# compute what it computed when written, even if textnorm changes later.
_EXTRA = frozenset(
    "\u034f\u115f\u1160\u3164\uffa0\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
    + "".join(chr(c) for c in range(0xE0100, 0xE01F0))
)
_SPACES = re.compile(r"\s+")


def _strip(text):
    return "".join(ch for ch in text if ch not in _EXTRA
                   and unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))


def name_key(name):
    key = unicodedata.normalize("NFKC", _strip(name))
    key = _strip(unicodedata.normalize("NFKC", key.casefold()))
    return _SPACES.sub(" ", key).strip()


USER_KEY_LEN, ROOM_KEY_LEN, ROOM_NAME_LEN = 32, 80, 64


def _apart(key, row_id, width):
    suffix = f"\x1f{row_id}"
    return key[:width - len(suffix)] + suffix


def _placeholders(conn):
    # "\x1f~<id>": no name key holds a control character, so no final key
    # can equal a placeholder still waiting for its row's turn.
    conn.execute(sa.text("UPDATE users SET username_key = :p || CAST(id AS VARCHAR(20))"),
                 {"p": "\x1f~"})
    conn.execute(sa.text("UPDATE rooms SET name_key = :p || CAST(id AS VARCHAR(20)) "
                         "WHERE kind <> 'dm'"), {"p": "\x1f~"})


def upgrade():
    conn = op.get_bind()
    users = conn.execute(sa.text("SELECT id, username FROM users ORDER BY id")).all()
    rooms = conn.execute(sa.text("SELECT id, name, kind, name_key FROM rooms ORDER BY id")).all()
    # Two passes: first every key to a placeholder that cannot clash, so that
    # giving row A the key row B holds today never trips the UNIQUE index midway.
    _placeholders(conn)

    taken = set()
    for row_id, username in users:
        key = name_key(username)[:USER_KEY_LEN]
        if key in taken or not key:
            log.warning("users %d %r looks like an existing account (key %r): disabled and "
                        "signed out, its key kept apart", row_id, username, key)
            key = _apart(key, row_id, USER_KEY_LEN)
            conn.execute(sa.text("UPDATE users SET active = :no, auth_epoch = auth_epoch + 1 "
                                 "WHERE id = :id"), {"no": False, "id": row_id})
        taken.add(key)
        conn.execute(sa.text("UPDATE users SET username_key = :key WHERE id = :id"),
                     {"key": key, "id": row_id})

    taken = {key for _, _, kind, key in rooms if kind == "dm"}  # "dm:<low>:<high>"
    for row_id, name, kind, _ in rooms:
        if kind == "dm":
            continue
        key = name_key(name)[:ROOM_KEY_LEN]
        if key in taken or not key:
            suffix = f" ({row_id})"
            new_name = name[:ROOM_NAME_LEN - len(suffix)] + suffix
            log.warning("rooms %d %r looks like an existing room (key %r): renamed %r",
                        row_id, name, key, new_name)
            key = name_key(new_name)[:ROOM_KEY_LEN]
            if key in taken:
                key = _apart(key, row_id, ROOM_KEY_LEN)
            conn.execute(sa.text("UPDATE rooms SET name = :name WHERE id = :id"),
                         {"name": new_name, "id": row_id})
        taken.add(key)
        conn.execute(sa.text("UPDATE rooms SET name_key = :key WHERE id = :id"),
                     {"key": key, "id": row_id})


def downgrade():
    # Back to lower(name). Rows this revision set apart keep distinct names
    # (renamed rooms) or distinct lower() keys (the users' names differ), so
    # the 0001 constraints hold again; the disabled users stay disabled.
    conn = op.get_bind()
    _placeholders(conn)
    for row_id, username in conn.execute(sa.text("SELECT id, username FROM users")).all():
        conn.execute(sa.text("UPDATE users SET username_key = :key WHERE id = :id"),
                     {"key": username.lower(), "id": row_id})
    for row_id, name in conn.execute(
            sa.text("SELECT id, name FROM rooms WHERE kind <> 'dm'")).all():
        conn.execute(sa.text("UPDATE rooms SET name_key = :key WHERE id = :id"),
                     {"key": name.lower(), "id": row_id})
