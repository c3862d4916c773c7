from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("chat", __name__)



@bp.get("/chat")
@login_required
def page():
    return render_template("chat/chat.html", user=current_user)
