"""Changing the collection over HTTP: upload documents, delete one, follow the job.

Off unless the server runs with ``STIQA_ALLOW_UPLOADS=1`` (a portal that only reads
must not be writable); the API key, when one is set, guards these as every /api call.
A change answers 202 at once with a job (``GET /api/jobs/{id}``); the job rebuilds the
index and switches the server to it, and questions are answered throughout.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from stiqa.ingest import MAX_FILE_BYTES
from stiqa.ingest.collection import (
    CollectionError,
    remove_documents,
    safe_relative,
    status_of,
    write_atomically,
)
from stiqa.server.deps import get_assistant
from stiqa.server.jobs import Job, Jobs
from stiqa.server.routers.documents import DOC_PARAM_DESCRIPTION, NAME_PATTERN
from stiqa.server.schemas import ErrorResponse, JobResponse
from stiqa.service.assistant import Assistant

router = APIRouter(tags=["collection"])
OFF = "uploads are off on this server: start it with STIQA_ALLOW_UPLOADS=1 to add and remove documents over HTTP"


async def uploads_allowed(request: Request) -> None:
    """403 unless the server was started with uploads on."""
    if not request.app.state.assistant.settings.allow_uploads:
        raise HTTPException(status_code=403, detail=OFF)


def _jobs(request: Request) -> Jobs:
    return request.app.state.jobs


def _start(request: Request, kind: str, names: list[str]) -> JSONResponse:
    """A job that rebuilds the index, switches the server to it and reports each file."""
    app, loop = request.app, asyncio.get_running_loop()

    def work(job: Job) -> None:
        built = app.state.assistant.rebuild(lambda line: setattr(job, "progress", line))
        job.index = built.build_id
        listed = {row["name"]: row for row in built.documents()}
        for f in job.files:
            row = listed.get(f.name, {"status": "indexed", "passages": 0})
            if kind == "remove":
                f.status = "removed"
            elif row["status"] == "skipped":
                f.status, f.reason = "skipped", row["reason"]
            else:
                f.status, f.passages = "indexed", row["passages"]
        asyncio.run_coroutine_threadsafe(app.state.reloader.reload(), loop).result()

    job = _jobs(request).submit(kind, names, work)
    return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


@router.post(
    "/documents",
    status_code=202,
    response_model=JobResponse,
    responses={403: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 413: {"model": ErrorResponse},
               422: {"model": ErrorResponse}},
    dependencies=[Depends(uploads_allowed)],
    summary="Upload documents (multipart); they are indexed by the job this returns",
)
async def upload(
    request: Request,
    files: list[UploadFile] = File(..., description="One or more documents: PDF, Word, HTML, Markdown or text."),
    folder: str = Form("", description="A folder under corpus/ to put them in."),
    replace: bool = Form(False, description="Replace documents of the same name (else 409)."),
    assistant: Assistant = Depends(get_assistant),
) -> JSONResponse:
    corpus = assistant.settings.corpus_dir
    planned: list[tuple[str, bytes, str]] = []
    for upload_file in files:
        try:
            rel = safe_relative(f"{folder}/{upload_file.filename}" if folder else (upload_file.filename or ""))
        except CollectionError as e:
            raise HTTPException(status_code=422, detail=str(e)) from e
        data = await upload_file.read()
        if len(data) > MAX_FILE_BYTES:
            raise HTTPException(status_code=413, detail=f"{rel} is {len(data):,} bytes, over the limit of {MAX_FILE_BYTES:,}")
        try:
            status = await asyncio.to_thread(status_of, corpus, rel, data, replace, "send replace=true")
        except CollectionError as e:
            raise HTTPException(status_code=409, detail=str(e)) from e
        planned.append((rel.as_posix(), data, status))
    if len({name for name, _, _ in planned}) != len(planned):
        raise HTTPException(status_code=422, detail="two files of the upload have the same name")
    for name, data, status in planned:
        if status != "unchanged":
            await asyncio.to_thread(write_atomically, corpus / name, data)
    return _start(request, "add", [name for name, _, _ in planned])


@router.delete(
    "/documents/{doc:docid}",
    status_code=202,
    response_model=JobResponse,
    responses={403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
    dependencies=[Depends(uploads_allowed)],
    summary="Delete a document from the corpus; the job this returns rebuilds the index without it",
)
async def delete(
    request: Request,
    doc: str = PathParam(..., description=DOC_PARAM_DESCRIPTION, json_schema_extra={"pattern": NAME_PATTERN}),
    assistant: Assistant = Depends(get_assistant),
) -> JSONResponse:
    try:
        await asyncio.to_thread(remove_documents, assistant.settings.corpus_dir, [doc])
    except CollectionError as e:
        raise HTTPException(status_code=404, detail=str(e)) from e
    return _start(request, "remove", [doc])


@router.get("/jobs/{job_id}", response_model=JobResponse, responses={404: {"model": ErrorResponse}},
            summary="A job's progress and, once done, each file's result")
async def job_status(
    request: Request,
    job_id: str = PathParam(..., pattern=r"^[0-9a-f]{12}$", description="The id an upload or deletion answered with."),
) -> dict:
    job = _jobs(request).get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail=f"no job {job_id[:40]!r} (jobs are kept in memory, the last 200)")
    return job.to_dict()
