import pytest

from tests.support.app import make_app


@pytest.fixture
def app():
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def users(app):
    from blueprints.auth.service import create_user

    return [create_user(name, "password-123") for name in ("alice", "bob", "carol")]
