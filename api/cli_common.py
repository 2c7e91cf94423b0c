"""What the ``kxgraph`` commands share: where they write, the options they take, how they open the
store, report progress and fail (one clear line)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from kxgraph.errors import KxError
from kxgraph.graph import Store, open_store
from kxgraph.settings import Backend, Settings, get_settings

__all__ = ["BackendOpt", "DataDirOpt", "PathsArg", "console", "fail", "out", "plural", "print_warnings", "progress",
           "settings_from", "study_file", "with_store"]

console = Console(stderr=True, soft_wrap=True)  # a command in a message is never cut in two
out = Console(soft_wrap=True)
T = TypeVar("T")

BackendOpt = Annotated[Backend | None, typer.Option("--backend", help="falkordb (embedded) or neo4j")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="embedded store folder")]
PathsArg = Annotated[list[Path], typer.Argument(help="study folders, study.yaml files or .ttl/.jsonld RDF",
                                                exists=False)]


def settings_from(backend: Backend | None = None, data_dir: Path | None = None, **kw: object) -> Settings:
    try:
        return get_settings(backend=backend, data_dir=data_dir, **kw)
    except Exception as exc:  # pydantic's ValidationError: a setting is wrong
        console.print(f"[red]error:[/red] settings: {exc}")
        raise typer.Exit(2) from None


def fail(exc: KxError) -> typer.Exit:
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
        raise fail(exc) from None


def progress() -> tuple[object, Callable[[str], None]]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                   console=console, transient=True)
    task = bar.add_task("starting", total=None)
    return bar, lambda msg: bar.update(task, description=msg)


def print_warnings(warnings: list[str], limit: int = 40) -> None:
    for w in warnings[:limit]:
        console.print(f"warning: {w}", style="yellow", markup=False, highlight=False, soft_wrap=True)
    if len(warnings) > limit:
        console.print(f"... and {plural(len(warnings) - limit, 'more warning')}", style="yellow")


def study_file(study: Path) -> Path:
    path = study / "study.yaml" if study.is_dir() else study
    if not path.is_file() or path.suffix.lower() not in (".yaml", ".yml"):
        console.print(f"error: {study}: no study.yaml there - give a study folder or its study.yaml", style="red")
        raise typer.Exit(1)
    return path


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 quote``, ``2 quotes``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
