from flask import Blueprint

bp = Blueprint("auth", __name__, cli_group="users")

from blueprints.auth import routes, cli, api, account  # noqa: E402,F401  (registers views and commands)
