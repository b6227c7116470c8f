"""HTML representations of the OGC API – Features resources (Part 1's HTML conformance class).

``locator.web.ogc`` builds each resource's JSON document once; when the
request asks for HTML (``f=html``, or an ``Accept`` header that prefers
``text/html`` over JSON) the same document is rendered by a template in
``templates/ogc/`` instead, so the two representations cannot disagree.
Every representation links to the other (``rel=alternate``). Templates
autoescape, and the items page hands its features to ``static/js/ogc.js``
as JSON in a ``<script type="application/json">`` block (``tojson`` escapes
``<``, ``>`` and ``&``), so no venue text is ever parsed as markup.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Response, render_template, request

from locator.errors import InvalidParameter
from locator.web.i18n import current_language
from locator.web.pages import base_page_config

__all__ = ["HTML", "HTML_FORMATS", "JSON_FORMATS", "alternate_html", "html_links", "render", "wants_html", "with_f"]

HTML = "text/html"
JSON_FORMATS = ("json", "geojson", "application/json", "application/geo+json")
"""Values of ``f`` that ask for JSON (GeoJSON for features)."""
HTML_FORMATS = ("html", HTML)
"""Values of ``f`` that ask for HTML."""
_JSON_TYPES = ("application/json", "application/geo+json")


def wants_html(html_ok: bool = True) -> bool:
    """Whether this request gets HTML: ``f`` decides; without it, the ``Accept`` header (JSON on a tie).

    ``html_ok=False`` (a resource with no HTML form): ``f=html`` is a 400, and ``Accept`` is ignored.
    """
    f = request.args.get("f")
    if f is not None:
        if f in HTML_FORMATS and not html_ok:
            raise InvalidParameter("f", f"unsupported format {f!r}; this resource answers json only")
        return f in HTML_FORMATS
    if not html_ok:
        return False
    accept = request.accept_mimetypes
    best = accept.best_match([*_JSON_TYPES, HTML])  # JSON first: */* and no Accept header get JSON
    return best == HTML and accept[HTML] > max(accept[t] for t in _JSON_TYPES)


def with_f(href: str, f: str) -> str:
    """``href`` with its ``f`` query parameter set to ``f`` (other parameters kept, in order)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "f"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("f", f)])))


def alternate_html(links: list[dict[str, str]]) -> list[dict[str, str]]:
    """A JSON document's links plus ``rel=alternate`` to its HTML form (its self link with ``f=html``)."""
    self_href = next(link["href"] for link in links if link["rel"] == "self")
    return [
        *links,
        {"rel": "alternate", "type": HTML, "title": "This document as HTML", "href": with_f(self_href, "html")},
    ]


def html_links(links: list[dict[str, str]]) -> list[dict[str, str]]:
    """The HTML form's links: self as HTML, the JSON document as ``alternate``, navigation to HTML pages.

    Links to machine documents (the OpenAPI definition, queryables, the docs page) are kept as they are.
    """
    out: list[dict[str, str]] = []
    for link in links:
        rel, href = link["rel"], link["href"]
        if rel == "alternate" and link["type"] == HTML:
            continue
        if rel == "self":
            out.append({**link, "type": HTML, "href": with_f(href, "html")})
            out.append({**link, "rel": "alternate", "title": f"{link['title']} (JSON)", "href": with_f(href, "json")})
        elif link["type"] in _JSON_TYPES and rel in ("data", "conformance", "collection", "items", "next", "prev"):
            out.append({**link, "type": HTML, "href": with_f(href, "html")})
        else:
            out.append(link)
    return out


def _lang_href(lang: str) -> str:
    """This page (a relative, query-only URL) in ``lang``."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return "?" + urlencode([*query, ("lang", lang)])


def render(template: str, doc: dict[str, Any], title: str, home: str, **context: Any) -> Response:
    """``doc`` as the HTML page ``templates/ogc/<template>``; ``home`` is the API root URL ending in ``/``.

    ``Vary`` names what chose the representation and its language.
    """
    lang = current_language()
    links = html_links(doc.get("links", []))
    page = {**base_page_config(lang), **context.pop("page", {})}
    body = render_template(
        f"ogc/{template}",
        doc=doc,
        links=links,
        title=title,
        lang=lang,
        page=page,
        home=home,
        home_collections=f"{home}collections?f=html",
        lang_zh=_lang_href("zh"),
        lang_en=_lang_href("en"),
        **context,
    )
    resp = Response(body, mimetype=HTML)
    resp.vary.update(("Accept", "Cookie"))  # the language may come from the cookie
    return resp
