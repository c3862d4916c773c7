from flask import render_template
from flask_login import current_user, login_required

from blueprints.chat import bp


@bp.get("/chat")
@login_required
def page():
    return render_template("chat/chat.html", user=current_user)
