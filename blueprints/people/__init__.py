from flask import Blueprint

bp = Blueprint("people", __name__)

from blueprints.people import routes  # noqa: E402,F401
