"""The ``kxgraph`` command (typer + rich): the app and the commands that run the store and the API;
the others live beside it (``cli_studies``, ``cli_outputs``) and are registered here."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.table import Table

from kxgraph import __version__
from kxgraph.api import cli_outputs, cli_studies
from kxgraph.api.cli_common import BackendOpt, DataDirOpt, console, fail, out, settings_from, with_store
from kxgraph.errors import KxError, StoreLockedError
from kxgraph.graph import Store
from kxgraph.settings import Backend

__all__ = ["app", "main"]


app = typer.Typer(name="kxgraph", help="A knowledge graph for qualitative research.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


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

    settings = settings_from(backend, data_dir, host=host, port=port,
                         load_bundled_study=False if no_load else None)
    if settings.backend is Backend.falkordb:
        from kxgraph.graph.falkordb_server import folder_in_use

        owner = folder_in_use(settings.data_dir)
        if owner is not None:  # said plainly here, before uvicorn would print a traceback of it
            raise fail(StoreLockedError(
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
        raise fail(exc) from None


@app.command()
def status(backend: BackendOpt = None, data_dir: DataDirOpt = None) -> None:
    """Which store, whether it answers, and what the served graph holds."""
    from kxgraph.graph.cypher import COUNT_BY_LABEL, COUNT_RELATIONSHIPS

    settings = settings_from(backend, data_dir)

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
    settings = settings_from(backend, data_dir)
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


# the commands of the other modules, in the order --help lists them
app.command()(cli_studies.validate)
app.command()(cli_studies.load)
app.command("import-qdpx")(cli_studies.import_qdpx)
app.command("new-study")(cli_studies.new_study_command)
app.command("add-document")(cli_studies.add_document)
app.command("replace-document")(cli_studies.replace_document)
app.command()(cli_studies.template)
app.command()(cli_outputs.export)
app.command()(cli_outputs.viz)
app.command("graphql-schema")(cli_outputs.graphql_schema)
app.command("n10s-script")(cli_outputs.n10s_script)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
            add_help_option=False)(cli_outputs.bench)
app.add_typer(cli_outputs.model_app, name="model")
