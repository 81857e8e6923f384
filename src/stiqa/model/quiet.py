"""Keep libraries' chatter about expected things (an unused pooler, export tracing,
quantisation advice) off the user's screen, and their logging set-up out of ours."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet() -> Iterator[None]:
    """Python warnings and log records up to WARNING silenced for the block, transformers'
    progress bars off; handlers a library adds to the root logger (a bare
    ``logging.warning`` call adds one) removed afterwards."""
    from transformers.utils import logging as transformers_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)
        root.handlers[:] = handlers
        root.setLevel(level)
        transformers_logging.enable_progress_bar()
        transformers_logging.set_verbosity(verbosity)
