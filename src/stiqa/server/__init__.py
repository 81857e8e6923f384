"""Stage 5, the HTTP API (FastAPI): ``create_app`` builds the application. The routers call
the :class:`stiqa.service.Assistant` facade only; they may import the foundation modules and
:mod:`stiqa.ingest` (the files of the corpus folder) besides, never the index or the qa stage."""

from stiqa.server.app import create_app

__all__ = ["create_app"]
