from flask import Blueprint

bp = Blueprint("auth", __name__, cli_group="users")

from blueprints.auth import account, api, cli, routes  # noqa: E402,F401  (registers views and commands)
