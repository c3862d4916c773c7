from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from blueprints.market.feed import get_feed

bp = Blueprint("market", __name__, cli_group="market")


@bp.get("/market")
@login_required
def page():
    feed = get_feed(current_app)
    feed.ensure_started()  # the page is about to connect; have quotes ready
    return render_template("market/market.html", user=current_user,
                           source=feed.source, interval=feed.interval)
