"""The Flask app: ``app.create_app``, its one ``state.AppState`` and typed ``settings``, the
blueprints (api, ogc, mapdata, views, embed, coverage, admin, admin_api, reports, health), the HTTP
hooks (``http``, ``security``), problem+json errors and the OpenAPI document assembled from fragments.
"""
