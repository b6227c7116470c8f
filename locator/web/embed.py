"""Blueprint for embeddable maps: ``/embed``, ``/embed/builder`` and ``/oembed``.

- ``/embed``: the worker map without site chrome, set up by its query string
  (see :func:`parse_embed`); other sites may frame it (``locator.web.security``,
  ``EMBED_FRAME_ANCESTORS``). A bad parameter gives a 400 page that explains
  it inside the frame, in Chinese and English.
- ``/embed/builder``: pick the options, see the map, copy an ``<iframe>`` or
  ``<script>`` snippet (``static/embed.js`` inserts a frame that grows with
  its content).
- ``/oembed?url=…&maxwidth=&maxheight=&format=json``: oEmbed 1.0, type
  ``rich``, for this site's ``/embed`` and ``/`` URLs; 404 for any other URL,
  501 for any format but JSON. Errors are problem documents.

Parsing is pure (:func:`parse_embed`, :func:`embed_args_from_url`); the views
supply the districts and venues to check against.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Response, g, json, render_template, request, url_for
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from locator import params
from locator.categories import CATEGORIES, CATEGORY_CODES
from locator.errors import InvalidParameter
from locator.tiles import TILE_PROVIDERS
from locator.web.i18n import current_language, js_catalogue, label
from locator.web.security import embeddable
from locator.web.state import get_register
from locator.web.urls import public_base

__all__ = [
    "EmbedOptions",
    "bp",
    "embed_args_from_url",
    "iframe_snippet",
    "parse_embed",
    "script_snippet",
]

bp = Blueprint("embed", __name__)

LANGS = ("zh", "en")
MIN_ZOOM, MAX_ZOOM = 5, 18
DEFAULT_WIDTH, DEFAULT_HEIGHT = 600, 450
MAX_SIZE = 10_000
MAX_VENUE_ID = 100
TITLE = "海南职工服务阵地地图"
PROVIDER = "海南职工服务阵地"


@dataclass(frozen=True)
class EmbedOptions:
    """A validated ``/embed`` configuration."""

    category: tuple[str, ...] = ()
    district: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    zoom: int | None = None
    lang: str = "zh"
    nearest: bool = False
    venue: str | None = None
    tiles: str | None = None

    def query(self) -> dict[str, str]:
        """The shortest query string (as a dict, in a fixed order) that gives these options."""
        out = {
            "category": ",".join(self.category),
            "district": ",".join(self.district),
            "lat": "" if self.lat is None else f"{self.lat:g}",
            "lon": "" if self.lon is None else f"{self.lon:g}",
            "zoom": "" if self.zoom is None else str(self.zoom),
            "lang": "" if self.lang == "zh" else self.lang,
            "nearest": "1" if self.nearest else "",
            "venue": self.venue or "",
            "tiles": self.tiles or "",
        }
        return {k: v for k, v in out.items() if v}


def parse_embed(
    args: Any,
    districts: Collection[str],
    venue_exists: Callable[[str], bool] = lambda _id: True,
    tiles: Collection[str] = tuple(TILE_PROVIDERS),
) -> EmbedOptions:
    """Validate ``/embed``'s parameters as the API does. Pure.

    ``category`` and ``district`` take one code or a comma list; ``lat`` and
    ``lon`` (WGS-84) come together; ``zoom`` is 5–18; ``lang`` is ``zh`` or
    ``en``; ``nearest`` is ``0`` or ``1``; ``venue`` must name a venue;
    ``tiles`` a base map. A parameter given twice is an error; unknown ones
    are ignored (sites add tracking parameters). Raises InvalidParameter.
    """
    params.reject_repeats(args)
    cats = params.categories_param(args) or []
    dists = params.districts_param(args, districts) or []
    lat = params.float_param(args, "lat", low=-90, high=90)
    lon = params.float_param(args, "lon", low=-180, high=180)
    if (lat is None) != (lon is None):
        missing, given = ("lon", "lat") if lon is None else ("lat", "lon")
        raise InvalidParameter(missing, f"is required when {given} is given")
    zoom_text = params.one(args, "zoom")
    zoom = None if zoom_text is None else params.int_param(args, "zoom", default=0, low=MIN_ZOOM, high=MAX_ZOOM)
    lang = (params.one(args, "lang", "zh") or "zh").strip().lower()
    if lang not in LANGS:
        raise InvalidParameter("lang", f"must be zh or en, got {lang[:20]!r}")
    nearest = params.one(args, "nearest", "0") or "0"
    if nearest not in ("0", "1"):
        raise InvalidParameter("nearest", f"must be 0 or 1, got {nearest[:20]!r}")
    venue = params.one(args, "venue")
    if venue is not None and (len(venue) > MAX_VENUE_ID or not venue_exists(venue)):
        raise InvalidParameter("venue", f"no venue has the id {venue[:40]!r}")
    tile_code = params.one(args, "tiles")
    if tile_code is not None and tile_code not in tiles:
        raise InvalidParameter("tiles", f"unknown base map {tile_code[:20]!r}; expected one of {', '.join(tiles)}")
    return EmbedOptions(
        category=tuple(c for c in CATEGORY_CODES if c in cats),
        district=tuple(dists),
        lat=lat,
        lon=lon,
        zoom=zoom,
        lang=lang,
        nearest=nearest == "1",
        venue=venue,
        tiles=tile_code,
    )


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` in lower case, default ports dropped; None if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    default = 80 if parts.scheme.lower() == "http" else 443
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + ("" if port in (None, default) else f":{port}")


def embed_args_from_url(url: str, origins: Collection[str]) -> MultiDict[str, str] | None:
    """The ``/embed`` parameters a URL of this site stands for; None if it is not one. Pure.

    ``/embed?…`` keeps its parameters; the worker map ``/?cat=…&venue=…&lang=…``
    becomes the same map as an embed (``cat`` is ``category`` there).
    """
    origin = _origin_of(url)
    if origin is None or origin not in {o for o in (_origin_of(x) for x in origins) if o}:
        return None
    parts = urlsplit(url.strip())
    query: MultiDict[str, str] = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.path in ("/embed", "/embed/"):
        return query
    if parts.path in ("", "/"):
        out: MultiDict[str, str] = MultiDict()
        for src, dst in (("cat", "category"), ("venue", "venue"), ("lang", "lang")):
            for value in query.getlist(src):
                if value:
                    out.add(dst, value)
        return out
    return None


def embed_url(opts: EmbedOptions, base: str | None = None) -> str:
    q = opts.query()
    return f"{base if base is not None else public_base()}/embed" + (f"?{urlencode(q)}" if q else "")


def iframe_snippet(src: str, width: int | str, height: int, title: str) -> str:
    """The ``<iframe>`` a site pastes (the oEmbed ``html``)."""
    return (
        f'<iframe src="{escape(src)}" width="{escape(str(width))}" height="{int(height)}" '
        f'style="border:0;max-width:100%" loading="lazy" allow="geolocation" title="{escape(title)}"></iframe>'
    )


def script_snippet(script_src: str, opts: EmbedOptions) -> str:
    """The one-line ``<script>`` that inserts a self-sizing frame (``static/embed.js``)."""
    attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in opts.query().items())
    return f'<script src="{escape(script_src)}"{attrs} async></script>'


def _in(lang: str, zh: str) -> str:
    from locator.web.translations import EN

    return EN.get(zh, zh) if lang == "en" else zh


def _title(opts: EmbedOptions) -> str:
    """The frame's title: the map, then what it shows (category, district, venue)."""
    reg = get_register()
    parts = [_in(opts.lang, TITLE)]
    parts += [label(CATEGORIES[c], opts.lang) for c in opts.category]
    for code in opts.district:
        d = reg.districts.get(code)
        if d is not None:
            parts.append(label(d, opts.lang))
    venue = reg.index.get(opts.venue) if opts.venue else None
    if venue is not None:
        parts.append(venue.name)
    return " · ".join(parts)


def _options(args: Any) -> EmbedOptions:
    reg = get_register()
    return parse_embed(args, [d.adcode for d in reg.districts], lambda vid: reg.index.get(vid) is not None)


def _bounds(codes: tuple[str, ...]) -> list[list[float]] | None:
    """South-west and north-east corners ([lat, lon], WGS-84) around the districts."""
    if not codes:
        return None
    boxes = [d.geometry.bounds for d in (get_register().districts.get(c) for c in codes) if d is not None]
    if not boxes:
        return None
    return [[min(b[1] for b in boxes), min(b[0] for b in boxes)], [max(b[3] for b in boxes), max(b[2] for b in boxes)]]


def _full_map_url(opts: EmbedOptions, base: str) -> str:
    q = {"cat": ",".join(opts.category), "venue": opts.venue or "", "lang": "en" if opts.lang == "en" else ""}
    q = {k: v for k, v in q.items() if v}
    return f"{base}/" + (f"?{urlencode(q)}" if q else "")


@bp.app_template_global()
def oembed_discovery_url() -> str:
    """``/oembed`` for this page's public URL (the ``<link rel="alternate">`` of map pages)."""
    page = public_base() + request.full_path.rstrip("?")
    return f"{public_base()}{url_for('embed.oembed')}?{urlencode({'url': page, 'format': 'json'})}"


# -- /embed ----------------------------------------------------------------------------
def _embed_error(exc: InvalidParameter) -> Response:
    lang = (request.args.get("lang") or "").strip().lower()
    g.lang = lang if lang in LANGS else "zh"
    html = render_template("embed.html", error=exc, lang=g.lang, builder=url_for("embed.builder"))
    resp = Response(html, status=400, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/embed")
@embeddable
def embed() -> Response:
    """The map for other sites' pages: no chrome, configured by the query string."""
    from locator.web.views import SHELL_VERSION, page_config

    try:
        opts = _options(request.args)
    except InvalidParameter as exc:
        return _embed_error(exc)
    g.lang = opts.lang  # the URL alone decides the language, never a cookie
    base = public_base()
    cfg = page_config(opts.lang)  # the worker map's, itself locator.web.pages.base_page_config
    cats = list(opts.category)
    cfg["nearestDefault"] = cats[0] if len(cats) == 1 else "all"
    cfg["urls"]["page"] = f"{base}{url_for('views.index')}"
    cfg["embed"] = {
        "category": cats,
        "district": list(opts.district),
        "center": None if opts.lat is None else [opts.lat, opts.lon],
        "zoom": opts.zoom,
        "bounds": _bounds(opts.district),
        "venue": opts.venue,
        "nearest": opts.nearest,
    }
    html = render_template(
        "embed.html",
        error=None,
        lang=opts.lang,
        page=cfg,
        opts=opts,
        title=_title(opts),
        full_map=_full_map_url(opts, base),
        shell_version=SHELL_VERSION,
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-cache"  # ?lang= also sets the lang cookie (locator.web.i18n): no shared caching
    return resp


# -- /embed/builder ------------------------------------------------------------------
@bp.get("/embed/builder")
def builder() -> Response:
    """Pick the options, preview the map, copy a snippet."""
    lang = current_language()
    base = public_base()
    reg = get_register()
    start = EmbedOptions(category=("outdoor_station",), lang=lang)
    cfg: dict[str, Any] = {
        "lang": lang,
        "base": base,
        "embed": f"{base}{url_for('embed.embed')}",
        "preview": url_for("embed.embed"),
        "script": f"{base}{url_for('static', filename='embed.js')}",
        "oembed": f"{base}{url_for('embed.oembed')}",
        "title": _in(lang, TITLE),
        "i18n": js_catalogue(),
    }
    cats = [(c, label(CATEGORIES[c], lang)) for c in CATEGORY_CODES]
    dists = [(d.adcode, label(d, lang)) for d in reg.districts]
    html = render_template(
        "embed_builder.html",
        lang=lang,
        cfg=cfg,
        cats=cats,
        dists=dists,
        tiles=list(TILE_PROVIDERS),
        start=start,
        preview_src=embed_url(start, ""),
        iframe_code=iframe_snippet(embed_url(start, base), "100%", DEFAULT_HEIGHT, cfg["title"]),
        script_code=script_snippet(cfg["script"], start),
        min_zoom=MIN_ZOOM,
        max_zoom=MAX_ZOOM,
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Vary"] = "Cookie"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


# -- /oembed -----------------------------------------------------------------------------
def _problem(status: int, title: str, detail: str, invalid: list[dict[str, str]] | None = None) -> Response:
    """The app's problem document (``locator.web.problems``), as JSON whatever the Accept header."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if invalid:
        body["invalid_params"] = invalid
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


def _size(args: Mapping[str, Any], name: str) -> int | None:
    value = params.int_param(args, name, default=0, low=1, high=MAX_SIZE)  # type: ignore[arg-type]
    return value or None


@bp.get("/oembed")
def oembed() -> Response:
    """oEmbed 1.0 (JSON, type ``rich``) for this site's map URLs."""
    args = request.args
    try:
        params.reject_repeats(args)
        fmt = (params.one(args, "format", "json") or "json").strip().lower()
        if fmt != "json":
            return _problem(501, "Not Implemented", f"format {fmt[:20]!r} is not supported; use format=json")
        url = params.one(args, "url")
        if url is None:
            raise InvalidParameter("url", "is required")
        maxwidth, maxheight = _size(args, "maxwidth"), _size(args, "maxheight")
    except InvalidParameter as exc:
        return _problem(400, "Invalid parameter", str(exc), [{"name": exc.name, "reason": exc.reason}])
    base = public_base()
    embed_args = embed_args_from_url(url, {base, request.host_url})
    if embed_args is None:
        return _problem(404, "Not Found", f"{url[:200]!r} is not a map of this site ({base}/embed or {base}/)")
    try:
        opts = _options(embed_args)
    except InvalidParameter as exc:
        reason = f"the map's {exc.name}: {exc.reason}"
        return _problem(400, "Invalid parameter", f"url: {reason}", [{"name": "url", "reason": reason}])
    width = min(DEFAULT_WIDTH, maxwidth or DEFAULT_WIDTH)
    height = min(DEFAULT_HEIGHT, maxheight or DEFAULT_HEIGHT)
    title = _title(opts)
    doc = {
        "version": "1.0",
        "type": "rich",
        "title": title,
        "provider_name": _in(opts.lang, PROVIDER),
        "provider_url": f"{base}/",
        "cache_age": 86400,
        "width": width,
        "height": height,
        "html": iframe_snippet(embed_url(opts, base), width, height, title),
    }
    resp = Response(json.dumps(doc), mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp
