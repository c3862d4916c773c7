"""Production entry point.

Monkey-patching must happen before anything else imports socket or threading,
so it is the first thing here. Run migrations first (``flask db upgrade``).

    eventlet (default):  python wsgi.py          (gunicorn >= 26 has no eventlet worker)
    gevent:              ASYNC_MODE=gevent gunicorn -k gevent -w 1 -b 127.0.0.1:5000 wsgi:app
"""
from patching import patch_for

patch_for()

import sys  # noqa: E402

import logs  # noqa: E402
from app import create_app  # noqa: E402
from config import ConfigError, Settings  # noqa: E402

try:
    settings = Settings.from_env()
except ConfigError as exc:
    sys.exit(f"switchboard: configuration error: {exc}")
logs.configure(settings.LOG_FORMAT, settings.LOG_LEVEL)
app = create_app(settings)

import os  # noqa: E402

import vendored  # noqa: E402

assert app.static_folder is not None  # create_app keeps Flask's static folder
_problem = vendored.check(os.path.join(app.static_folder, "vendor"))
if _problem:  # the pages would load without their socket.io client: stop, naming the file
    print(f"switchboard: {_problem}", file=sys.stderr)
    sys.exit(2)

from serving import tune_gc  # noqa: E402

tune_gc()  # here rather than in serve(), so gunicorn's worker gets it too

if __name__ == "__main__":
    from serving import install_stop_signals, serve

    install_stop_signals(app, settings)
    serve(app, settings)
