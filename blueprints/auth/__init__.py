"""The auth feature. ``bp`` is created in routes.py (cli.py, account.py and
api.py add their commands and views to it) and re-exported here, so no module
of the package imports the package back (tests/unit/test_imports.py forbids
import cycles)."""
from blueprints.auth import account, api, cli  # noqa: F401  (register views and commands on bp)
from blueprints.auth.routes import bp

__all__ = ["bp"]
