from __future__ import annotations

from blueprints.auth import service
from tests.support.app import make_app


def test_users_create_asks_the_password_twice():
    app = make_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "opsadmin", "--admin"],
                           input="password-123\npassword-123\n")
    assert result.exit_code == 0, result.output
    assert "created opsadmin (admin)" in result.output
    mismatch = runner.invoke(args=["users", "create", "second"], input="password-123\nother-pass\n"
                             "password-123\npassword-123\n")
    assert "do not match" in mismatch.output.lower() or "don't match" in mismatch.output.lower()
    taken = runner.invoke(args=["users", "create", "OPSADMIN"], input="password-123\npassword-123\n")
    assert taken.exit_code != 0 and "taken" in taken.output
    with app.app_context():
        assert service.authenticate("opsadmin", "password-123").is_admin
        assert not service.find_user("second").is_admin
