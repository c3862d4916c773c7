from flask import Blueprint

bp = Blueprint("chat", __name__)

from blueprints.chat import routes  # noqa: E402,F401
