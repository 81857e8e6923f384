"""stiqa: cited answers from Japanese science, technology and innovation policy documents.

The two names most callers need::

    from stiqa import Assistant, Settings
    assistant = Assistant.load(Settings.from_env())
    result = assistant.ask("即時オープンアクセスはいつから？")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Assistant", "Settings", "__version__"]

if TYPE_CHECKING:
    from stiqa.config import Settings
    from stiqa.service.assistant import Assistant


def __getattr__(name: str) -> Any:
    # Lazy: importing stiqa must not load torch for `stiqa --help`.
    if name == "Assistant":
        from stiqa.service.assistant import Assistant

        return Assistant
    if name == "Settings":
        from stiqa.config import Settings

        return Settings
    raise AttributeError(name)
