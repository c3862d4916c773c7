"""Flask extensions, created unbound so that create_app() can bind them."""
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from flask_limiter import Limiter
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
socketio = SocketIO()


def _client_ip() -> str:
    from realtime.clientinfo import client_ip
    from flask import request

    return client_ip(request.environ)


# Storage is chosen in create_app (memory, or Redis when MESSAGE_QUEUE is set).
limiter = Limiter(key_func=_client_ip, default_limits=[])
