import pytest

from tests.support.app import make_app


@pytest.fixture
def app():
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def users(app):
    """Three accounts as plain rows: these tests never log in, so no password hashing."""
    from extensions import db
    from models import User

    made = [User(username=n, username_key=n, password_hash="-") for n in ("alice", "bob", "carol")]
    db.session.add_all(made)
    db.session.commit()
    return made
