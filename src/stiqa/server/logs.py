"""The server's log on stderr: one line per request (``stiqa.access``, already JSON) and
one per index switch or refused build (``stiqa.server.reload``)."""

from __future__ import annotations

import logging
import sys
from typing import TextIO


def configure_logging(stream: TextIO | None = None) -> None:
    """Print stiqa's log lines at INFO and above, as they are, once per process."""
    logger = logging.getLogger("stiqa")
    if not logger.handlers:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.INFO)
