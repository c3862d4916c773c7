from flask import Blueprint, abort, current_app, render_template, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.admin.socketio_ui import NAMESPACE as SOCKETIO_UI_NAMESPACE
from config import BASE_DIR

bp = Blueprint("admin", __name__)

# The Socket.IO Admin UI's built files (npm @socket.io/admin-ui), copied by scripts/vendor.sh.
SOCKETIO_UI_DIR = BASE_DIR / "static" / "vendor" / "socketio-admin-ui"

# The UI is a Vue/Vuetify app: Vuetify sets inline styles, and its icon font is vendored.
SOCKETIO_UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403, description=_("The operator console is for admins."))


def _socketio_ui_mode() -> str:
    return current_app.extensions["switchboard.settings"].SOCKETIO_ADMIN_UI


@bp.get("/admin")
@login_required
def page():
    _require_admin()
    return render_template("admin/admin.html", user=current_user,
                           socketio_ui=_socketio_ui_mode(),
                           socketio_ui_namespace=SOCKETIO_UI_NAMESPACE)


@bp.get("/admin/socketio/", defaults={"filename": "index.html"})
@bp.get("/admin/socketio/<path:filename>")
@login_required
def socketio_ui(filename: str):
    _require_admin()
    if _socketio_ui_mode() == "off":
        abort(404, description=_("The Socket.IO Admin UI is off; set SOCKETIO_ADMIN_UI to turn "
                                  "it on."))
    if not (SOCKETIO_UI_DIR / "index.html").is_file():
        abort(404, description=_("The Socket.IO Admin UI files are missing from static/vendor; "
                                 "restore them (`git checkout -- static/vendor`) or run "
                                 "`make vendor`."))
    response = send_from_directory(SOCKETIO_UI_DIR, filename)
    response.headers["Content-Security-Policy"] = SOCKETIO_UI_CSP
    return response


@bp.get("/admin/invites/<code>/qr.svg")
@login_required
def invite_qr(code: str):
    """An invite link as a QR code (SVG drawn by segno), admins only. Served
    as image/svg+xml with a policy that lets nothing in it run or load: the
    page shows it in an <img>, where SVG scripts never run anyway, and opened
    on its own it is sandboxed (default-src 'none')."""
    from flask import Response

    from blueprints.auth import invites

    _require_admin()
    if invites.find(code) is None:
        abort(404, description=_("No such invite link."))
    response = Response(invites.qr_svg(code), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = 'inline; filename="invite.svg"'
    return response
