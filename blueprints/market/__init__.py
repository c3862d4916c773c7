"""The market feature. ``bp`` is created in routes.py (cli.py adds its commands to it)
and re-exported here, so no module of the package imports the package back
(tests/unit/test_imports.py forbids import cycles)."""
from blueprints.market import cli  # noqa: F401  (registers the commands on bp)
from blueprints.market.routes import bp

__all__ = ["bp"]
