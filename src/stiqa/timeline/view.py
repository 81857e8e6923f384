"""The documents' dated statements as a table (or JSON), for ``stiqa timeline``.

The rendering takes already-filtered events (``Library.timeline``), so it is usable (and
testable) without the command line.
"""

from __future__ import annotations

import io
import json

from stiqa.timeline.events import Event

__all__ = ["render_timeline"]


def render_timeline(events: list[Event], as_json: bool = False, width: int = 120) -> str:
    """The events as a readable table, or exactly the ``/api/timeline`` response body."""
    if as_json:
        return json.dumps({"events": [e.to_dict() for e in events]}, ensure_ascii=False, indent=2)
    if not events:
        return "no dated statements match (この条件に当てはまる日付の記載はありません)."
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    several = len({e.citation.doc for e in events}) > 1
    table = Table(show_lines=False, header_style="bold", expand=False)
    table.add_column("date", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("event", overflow="fold")
    table.add_column("source", no_wrap=True)
    for e in events:
        when = f"{e.date}–{e.end}" if e.end else e.date
        c = e.citation
        source = f"{c.doc} " if several else ""
        source += f"p.{c.page} {c.start}-{c.end}"
        event = Text(e.text)  # Text, not markup: a clause may hold "[...]"
        if e.wording not in e.text:
            event.append(f"\n{e.wording}", style="dim")
        table.add_row(when, e.status, event, source)
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=False, color_system=None, highlight=False).print(table)
    return out.getvalue().rstrip("\n") + f"\n{len(events)} event(s)"
