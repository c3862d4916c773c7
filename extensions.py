"""Flask extensions, created unbound so that create_app() can bind them."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
socketio = SocketIO()
# Flask-Babel: the gettext catalogues of translations/ for templates and Python
# strings; which language a request gets is i18n.py's choice.
babel = Babel()


# Storage is chosen in create_app (memory, or Redis when MESSAGE_QUEUE is set).
# The key is the request's remote_addr, which ProxyFix (create_app, per
# TRUSTED_PROXIES) has already set to the forwarded client where a proxy of
# ours added it.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
