from flask import Blueprint

bp = Blueprint("market", __name__, cli_group="market")

from blueprints.market import cli, routes  # noqa: E402,F401  (registers views and commands)
