"""Translations: Simplified Chinese by default, English by ``?lang=en``.

Chinese is the source language: every user-visible string is written in
Chinese in the templates and in ``static/js/*.js`` and looked up in the
English catalogue ``locator.web.translations.EN`` (see that module for why a
Python catalogue rather than compiled ``.mo`` files). Flask-Babel still owns
locale selection, so ``flask_babel.get_locale()`` works everywhere.

The choice made with ``?lang=`` is remembered in the ``lang`` cookie.
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask_babel import Babel

from locator.web.http import current_request, query_may_name
from locator.web.translations import EN

__all__ = ["LANGUAGES", "current_language", "gettext", "init_app", "js_catalogue", "label"]

LANGUAGES = ("zh", "en")
COOKIE = "lang"


def _requested() -> str | None:
    args = request.args
    lang = (args["lang"] if "lang" in args else "").strip().lower()  # .get() of a missing key builds an exception
    if lang.startswith("zh"):
        return "zh"
    if lang.startswith("en"):
        return "en"
    return None


def current_language() -> str:
    """``zh`` or ``en`` for this request: ``?lang=``, then the cookie, then ``zh``."""
    if "lang" not in g:
        g.lang = _requested() or (request.cookies.get(COOKIE) if request.cookies.get(COOKIE) in LANGUAGES else "zh")
    return str(g.lang)


def gettext(message: str, **variables: object) -> str:
    """``message`` (Chinese) in the request's language, then ``%(name)s`` filled in."""
    text = EN.get(message, message) if current_language() == "en" else message
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    variables.setdefault("num", num)
    return gettext(singular if num == 1 else plural, **variables)


def label(item: object, lang: str | None = None) -> str:
    """A category's, amenity's, district's or ``(zh, en)`` pair's name in ``lang``
    (default: the request's language)."""
    en = (lang or current_language()) == "en"
    if isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item):
        return item[1] if en else item[0]
    return str(getattr(item, "name_en" if en else "name_zh"))


def js_catalogue() -> dict[str, str]:
    """The catalogue the page's script needs: {} in Chinese, else Chinese -> English."""
    return dict(EN) if current_language() == "en" else {}


def _remember(response: Response) -> Response:
    """Keep a ``?lang=`` choice in the language cookie."""
    if not query_may_name(current_request().environ, "lang"):
        return response
    lang = _requested()
    if lang and request.cookies.get(COOKIE) != lang:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    """Wire Flask-Babel (locale selection) and the catalogue into ``app``."""
    Babel(app, locale_selector=lambda: "zh_Hans_CN" if current_language() == "zh" else "en")
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["label"] = label
    app.after_request(_remember)
