"""Web pages served by this server itself: public share pages, the pages email links
open, and the app-link files. Server-rendered with Jinja2 (autoescaped), static files
vendored under `static/`, nothing loaded from another origin but this server's media.
"""
