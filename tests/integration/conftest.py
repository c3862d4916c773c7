import pytest

from extensions import socketio
from tests.support.app import make_app
from tests.support.clients import call  # noqa: F401  (re-exported: one definition)


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def make_client(app):
    """Connect a /chat test client as a new user (the first one is the admin)."""
    from blueprints.auth.service import create_user, issue_token

    clients = []

    def connect(username: str, namespace: str = "/chat"):
        with app.app_context():
            user = create_user(username, "password-123")
            token, _ = issue_token(user)
        client = socketio.test_client(app, namespace=namespace, auth={"token": token})
        assert client.is_connected(namespace)
        clients.append(client)
        return client

    yield connect
    for c in clients:
        if c.is_connected("/chat"):
            c.disconnect("/chat")
