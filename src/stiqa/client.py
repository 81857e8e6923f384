"""A client of a running stiqa service's HTTP API (``stiqa ask`` and ``stiqa eval --url`` use it).

Standard library only, so that a command that talks to a server starts in a fraction of a
second: no model, no index, no HTTP library to import.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

DEFAULT_TIMEOUT = 30.0  # seconds; a question under load waits its turn on the server


class Unreachable(OSError):
    """No stiqa service answers at the URL (nothing listens, or what listens is not stiqa)."""


class ClientError(RuntimeError):
    """The service answered with an error; ``status`` is its HTTP status, the message its detail."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Client:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout

    def request(self, path: str, body: dict[str, Any] | None = None) -> bytes:
        """The response body of GET ``path`` (POST with ``body``); Unreachable or ClientError."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            raise ClientError(e.code, _detail(e)) from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", None) or e
            raise Unreachable(f"nothing answers at {self.url} ({reason})") from None

    def ask(
        self, question: str, k: int, mode: str | None = None, docs: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The ``/api/ask`` response: answer, cited passages, timing."""
        body: dict[str, Any] = {"question": question, "k": k}
        if mode:
            body["mode"] = mode
        if docs:
            body["docs"] = list(docs)
        raw = self.request("/api/ask", body)
        try:
            answer = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise Unreachable(f"what answers at {self.url} is not a stiqa service (no JSON)") from None
        if not isinstance(answer, dict) or "passages" not in answer:
            raise Unreachable(f"what answers at {self.url} is not a stiqa service (no passages)")
        return answer

    def text(self, doc: str) -> str | None:
        """A document's extracted text, or None if the service does not give it."""
        try:
            return self.request(f"/api/documents/{urllib.parse.quote(doc)}/text").decode("utf-8")
        except (ClientError, Unreachable, UnicodeDecodeError):
            return None


def _detail(e: urllib.error.HTTPError) -> str:
    try:
        detail = json.loads(e.read().decode("utf-8")).get("detail")
    except (ValueError, AttributeError, OSError):
        detail = None
    if isinstance(detail, list):  # a validation error: the first problem says enough
        detail = "; ".join(str(d.get("msg", d)) for d in detail[:3] if isinstance(d, dict))
    return str(detail or e.reason or f"HTTP {e.code}")
