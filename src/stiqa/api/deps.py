"""Dependencies shared by the routers."""

from __future__ import annotations

from fastapi import Request

from ..pipeline import Assistant


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant
