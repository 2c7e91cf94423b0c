"""The ``kxgraph`` commands that read and write studies: validate, load, import-qdpx, new-study,
add-document, replace-document, template."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kxgraph.api.cli_common import (
    BackendOpt,
    DataDirOpt,
    PathsArg,
    console,
    fail,
    out,
    plural,
    print_warnings,
    progress,
    settings_from,
    study_file,
    with_store,
)
from kxgraph.errors import KxError
from kxgraph.graph import Store


def validate(paths: PathsArg) -> None:
    """Check study files (format, quotes against their documents, SHACL rules); write nothing."""
    from kxgraph.loaders.pipeline import check

    bar, say = progress()
    try:
        with bar:  # type: ignore[attr-defined]
            studies, counts = check(paths, say)
    except KxError as exc:
        raise fail(exc) from None
    out.print(f"valid: {', '.join(studies)} - {plural(counts.nodes, 'node')}, "
              f"{plural(counts.relationships, 'relationship')}, "
              f"{plural(counts.quotes, 'evidence quote')} anchored in their documents", highlight=False)


def load(
    paths: PathsArg,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
    force: Annotated[bool, typer.Option("--force", help="write even if the files are unchanged")] = False,
) -> None:
    """Load studies into the store: each named study is replaced whole, or nothing changes."""
    from kxgraph.loaders.pipeline import LoadReport
    from kxgraph.loaders.pipeline import load as load_studies

    settings = settings_from(backend, data_dir)
    bar, say = progress()

    async def work(store: Store) -> LoadReport:
        with bar:  # type: ignore[attr-defined]
            return await load_studies(store, paths, progress=say, force=force, meaning=settings.meaning)

    report = with_store(settings, work)
    verb = "loaded" if report.changed else "unchanged (already loaded from these files)"
    out.print(f"{verb}: {', '.join(report.studies)} - {plural(report.nodes, 'node')}, "
              f"{plural(report.relationships, 'relationship')}, {plural(report.quotes, 'evidence quote')}",
              highlight=False)


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
    bar, say = progress()
    if dry_run:
        try:
            with bar:  # type: ignore[attr-defined]
                prep = prepare([file], say, study_id=study_id)
        except KxError as exc:
            raise fail(exc) from None
        counts, warnings, studies = prep.sources[0].counts, prep.warnings, prep.study_ids
        verb = "checked (nothing written)"
    else:
        settings = settings_from(backend, data_dir)

        async def work(store: Store) -> LoadReport:
            with bar:  # type: ignore[attr-defined]
                return await load_studies(store, [file], progress=say, force=force, study_id=study_id,
                                          meaning=settings.meaning)

        report = with_store(settings, work)
        counts, warnings, studies = report.counts, report.warnings, report.studies
        verb = "imported" if report.changed else "unchanged (already imported from this file)"
    print_warnings(warnings)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    out.print(f"{verb}: study {', '.join(studies)} - {summary} ({time.perf_counter() - started:.1f} s, "
              f"{plural(len(warnings), 'warning')})", highlight=False)


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
        raise fail(exc) from None
    out.print(f"wrote {made}; now add its documents: kxgraph add-document FILE --study {folder}", highlight=False)


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
        added = add(study_file(study), file, doc_id=doc_id, title=title, source_url=source, date=date,
                    language=language)
    except KxError as exc:
        raise fail(exc) from None
    out.print(f"added document {added.doc_id!r} ({added.length} characters, from {added.media_type}) as "
              f"{added.text_path}; quote it by its exact words in study.yaml or in a table "
              f"('kxgraph template claims'), then 'kxgraph load {study}'", highlight=False)


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

    settings = settings_from(backend, data_dir)

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
