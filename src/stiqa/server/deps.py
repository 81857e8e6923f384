"""Dependencies shared by the routers."""

from __future__ import annotations

from fastapi import Request

from stiqa.service.assistant import Assistant


async def get_assistant(request: Request) -> Assistant:
    """The app's assistant. ``async`` so that FastAPI calls it on the event loop: a plain
    function would be sent to a worker thread on every request (measured: 1.9 ms of CPU
    per request at 8 clients)."""
    return request.app.state.assistant
