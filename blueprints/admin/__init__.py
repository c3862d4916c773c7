"""The admin feature. ``bp`` is created in routes.py
and re-exported here, so no module of the package imports the package back
(tests/unit/test_imports.py forbids import cycles)."""
from blueprints.admin.routes import bp

__all__ = ["bp"]
