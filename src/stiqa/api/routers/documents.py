from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Depends

from ...pipeline import Assistant
from ..deps import get_assistant
from ..schemas import DocumentsResponse

router = APIRouter(tags=["documents"])


@router.get("/documents", response_model=DocumentsResponse, summary="The indexed documents")
def documents(assistant: Assistant = Depends(get_assistant)) -> dict:
    counts = Counter(p.citation.doc for p in assistant.index.passages)
    return {
        "documents": [
            {"name": d.name, "title": d.title, "pages": len(d.pages), "passages": counts[d.name]}
            for d in assistant.index.documents
        ]
    }
