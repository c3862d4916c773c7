from flask import abort, render_template
from flask_login import current_user, login_required

from blueprints.admin import bp


@bp.get("/admin")
@login_required
def page():
    if not current_user.is_admin:
        abort(403, description="The operator console is for admins.")
    return render_template("admin/admin.html", user=current_user)
