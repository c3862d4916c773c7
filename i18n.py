"""Languages: which one a page, a JSON error or a socket's acks are written in.

Switchboard speaks English and Simplified Chinese (PROTOCOL section 16). The
choice, in order: the account's ``users.locale`` (NULL follows the browser),
else the best of ``Accept-Language``, else English.

Flask-Babel does the gettext part (templates and Python strings, catalogues in
translations/). Its locale selector runs in a request; Socket.IO events run in
an app context only (realtime/namespace.py), so a connection's language is
picked once, at connect, kept on its ``Connection`` record and forced with
``flask_babel.force_locale`` around each event: every ``lazy_gettext`` string
of an error is turned into text there, at the point it is sent.

Values are BCP 47 tags as the page uses them (``<html lang>``, the JSON
catalogues in static/i18n/, the users table's CHECK constraint); Babel wants
``zh_CN``: ``babel_name`` converts.
"""
from __future__ import annotations

import json
import os

from flask import has_request_context, request
from flask_babel import force_locale, lazy_gettext
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

DEFAULT = "en"
# The tags users.locale may hold (migration 0005's CHECK constraint, same list).
LOCALES = ("en", "zh-CN")
# What the language menu shows: each language in its own language, so someone
# who cannot read the current page still finds theirs.
NAMES = {"en": "English", "zh-CN": "简体中文"}
SHORT_NAMES = {"en": "EN", "zh-CN": "中文"}  # the header's compact control
# Accept-Language tags (lower case) that mean Simplified Chinese. Werkzeug's
# best_match falls back to the primary subtag, which would hand Simplified
# Chinese to zh-TW and zh-HK readers, who read Traditional: they get English.
_SIMPLIFIED = {"zh", "zh-cn", "zh-sg", "zh-my", "zh-hans", "zh-hans-cn", "zh-hans-sg"}
TRANSLATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")
_MAX_HEADER = 1000  # a longer Accept-Language is cut before parsing

_l = lazy_gettext


def N_(message: str) -> str:
    """Marks a string for extraction (babel.cfg) without translating it: for
    tables of messages that are passed to ``_l`` later, with their values."""
    return message


def babel_name(locale: str) -> str:
    """``zh-CN`` -> ``zh_CN``, Babel's spelling. Babel's CLDR data knows it as
    ``zh_Hans_CN`` (``Locale.parse`` adds the script), and Flask-Babel looks
    the catalogue up under that name: hence translations/zh_Hans_CN/."""
    return locale.replace("-", "_")


def from_accept_language(header: str | None) -> str:
    """The best of LOCALES for an ``Accept-Language`` value, else English.

    Tags are tried in the header's order of quality (q=0 means "not this");
    ``en-GB`` counts as English, ``zh``/``zh-Hans`` as Simplified Chinese.
    """
    if not header:
        return DEFAULT
    accept = parse_accept_header(header[:_MAX_HEADER], LanguageAccept)
    for tag, quality in accept:  # sorted by quality, best first
        if quality <= 0:
            continue
        tag = tag.strip().lower().replace("_", "-")
        if tag == "en" or tag.startswith("en-"):
            return "en"
        if tag in _SIMPLIFIED:
            return "zh-CN"
    return DEFAULT


def locale_for(user, accept_language: str | None) -> str:
    """The account's setting when it has one, else the header's best match."""
    chosen = getattr(user, "locale", None)
    if chosen in LOCALES:
        return chosen
    return from_accept_language(accept_language)


def request_locale() -> str:
    """This request's language (a tag of LOCALES); English outside a request."""
    if not has_request_context():
        return DEFAULT
    user = current_user if current_user and current_user.is_authenticated else None
    return locale_for(user, request.headers.get("Accept-Language"))


def select_babel_locale() -> str:
    """Flask-Babel's locale selector (create_app installs it)."""
    return babel_name(request_locale())


def init_app(app) -> None:
    """Flask-Babel with our selector and catalogues, and what every template needs:
    ``page_locale`` (for ``<html lang>``) and ``languages`` (the language menu)."""
    from extensions import babel

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", TRANSLATIONS)
    babel.init_app(app, locale_selector=select_babel_locale)

    @app.context_processor
    def languages():
        locale = request_locale()
        return {"page_locale": locale, "js_catalogue": js_catalogue(locale),
                "languages": [(tag, NAMES[tag], SHORT_NAMES[tag]) for tag in LOCALES]}


JS_CATALOGUES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static", "i18n")
_js_catalogues: dict[str, dict[str, str]] = {}


def js_catalogue(locale: str) -> dict[str, str] | None:
    """The scripts' catalogue of ``locale`` (static/i18n/<locale>.json; keys are
    the English texts), which base.html embeds as JSON data for
    static/js/lib/i18n.js; None for English, which needs none. Read once per
    process: the files change only with a deploy."""
    if locale == DEFAULT or locale not in LOCALES:
        return None
    if locale not in _js_catalogues:
        with open(os.path.join(JS_CATALOGUES, f"{locale}.json"), encoding="utf-8") as fh:
            _js_catalogues[locale] = json.load(fh)
    return _js_catalogues[locale]


def in_locale(locale: str):
    """``with in_locale(conn.locale):`` -- gettext in that language here."""
    return force_locale(babel_name(locale if locale in LOCALES else DEFAULT))
