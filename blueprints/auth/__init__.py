"""The auth feature. ``bp`` is created in routes.py (cli.py adds its commands to it)
and re-exported here, so no module of the package imports the package back
(tests/unit/test_imports.py forbids import cycles)."""
from blueprints.auth import cli  # noqa: F401  (registers the commands on bp)
from blueprints.auth.routes import bp

__all__ = ["bp"]
