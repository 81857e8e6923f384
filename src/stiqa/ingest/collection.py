"""Adding files to the corpus folder and removing them: what `stiqa add` and `stiqa remove`
do before the index is rebuilt (which reads only what changed).

A file is copied under a temporary name and renamed into place, so a reader of the folder
never sees half of one; an existing document is replaced only when asked; nothing is ever
written or removed outside the corpus folder.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from stiqa.ingest.files import corpus_files, doc_id


class CollectionError(ValueError):
    """A change to the corpus folder that is refused; the message says why."""


@dataclass
class Added:
    doc: str  # the new document's id
    status: str  # "added", "replaced" or "unchanged"


def safe_relative(name: str) -> PurePosixPath:
    """``name`` as a relative path inside the corpus folder: no absolute paths, no "..",
    no control characters, no hidden parts; CollectionError otherwise."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/")).strip()
    path = PurePosixPath(name)
    bad = (
        not name or path.is_absolute() or any(p in ("", ".", "..") or p.startswith(".") for p in path.parts)
        or any(unicodedata.category(c)[0] == "C" for c in name)
    )
    if bad:
        raise CollectionError(f"{name!r} cannot be a document's name under the corpus folder")
    return path


def add_files(corpus_dir: Path, sources: list[Path], folder: str = "", replace: bool = False) -> list[Added]:
    """Copy ``sources`` (files, or folders of files) into ``corpus_dir``/``folder``; the whole
    call is refused, before anything is copied, if a source is missing or would replace a
    different document without ``replace``."""
    under = safe_relative(folder) if folder else PurePosixPath()
    plan: list[tuple[Path, PurePosixPath]] = []
    for source in sources:
        if source.is_dir():
            plan.extend((f, under / safe_relative(f.relative_to(source).as_posix())) for f in corpus_files(source))
        elif source.is_file():
            plan.append((source, under / safe_relative(source.name)))
        else:
            raise CollectionError(f"{source} is not a file or folder")
    statuses = [status_of(corpus_dir, rel, source.read_bytes(), replace, "add it with --replace") for source, rel in plan]
    for (source, rel), status in zip(plan, statuses):
        if status != "unchanged":
            write_atomically(corpus_dir / rel, source.read_bytes())
    return [Added(rel.as_posix(), status) for (_, rel), status in zip(plan, statuses)]


def status_of(corpus_dir: Path, rel: PurePosixPath, data: bytes, replace: bool, how_to_replace: str) -> str:
    """What writing ``data`` as ``rel`` would do: "added", "replaced" or "unchanged";
    CollectionError for a document of that name with other content unless ``replace`` (the
    message says ``how_to_replace``), or where a folder has that name."""
    target = corpus_dir / rel
    if not target.exists():
        return "added"
    if not target.is_file():
        raise CollectionError(f"{rel} is a folder in the corpus, not a document")
    if target.read_bytes() == data:
        return "unchanged"
    if not replace:
        raise CollectionError(f"{rel} is already in the corpus with other content; {how_to_replace} to replace it")
    return "replaced"


def write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_documents(corpus_dir: Path, docs: list[str]) -> list[str]:
    """Delete the documents ``docs`` (ids) from ``corpus_dir``; refused as a whole if one is
    not a document there."""
    known = {doc_id(f, corpus_dir): f for f in corpus_files(corpus_dir)}
    missing = [d for d in docs if d not in known]
    if missing:
        raise CollectionError(f"not in the corpus: {', '.join(missing)} (`stiqa documents` lists the documents)")
    for d in docs:
        known[d].unlink()
        parent = known[d].parent
        while parent != corpus_dir and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return docs
