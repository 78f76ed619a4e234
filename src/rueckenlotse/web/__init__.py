"""The web app: server-rendered pages and the REST API (``create_app(settings)``)."""
