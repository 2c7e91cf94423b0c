"""Claims written as a table: the discussion points and consequences of an event, one row per
evidence quote, in a CSV file that ``study.yaml`` lists under ``tables:``.

Columns (``kxgraph template claims`` writes the header)::

    kind, id, text, raised_in, concepts, stakeholders, valence, quote, document, hint, occurrence

- ``kind``: ``discussion_point`` or ``consequence``;
- ``id``: the claim's id; more rows with the same id add more quotes (their other cells may be empty);
- ``concepts`` / ``stakeholders``: ids separated by ``;`` (a consequence names exactly one of each);
- ``valence``: ``positive`` or ``negative`` (consequences);
- ``quote``: the exact words of the document, found as in ``study.yaml``; ``document``, ``hint`` and
  ``occurrence`` as there.

Each row becomes an entry of the ``discussion_points`` or ``consequences`` section, so the same
checks apply and errors name the CSV file and row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kxgraph.errors import DataFormatError
from kxgraph.loaders.files import inside, read_limited

__all__ = ["COLUMNS", "read_tables", "template"]

COLUMNS = ("kind", "id", "text", "raised_in", "concepts", "stakeholders", "valence", "quote", "document",
           "hint", "occurrence")
KINDS = {"discussion_point": "discussion_points", "consequence": "consequences"}
MAX_TABLE_BYTES = 16 * 1024 * 1024


def template() -> str:
    return ",".join(COLUMNS) + "\n"


def _ids(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def read_tables(study_file: Path, tables: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(section, place, entry)`` for every claim of the tables a study file lists."""
    if not isinstance(tables, list) or not all(isinstance(t, str) for t in tables):
        raise DataFormatError("'tables' must be a list of CSV files", file=str(study_file), place="tables",
                              fix="write e.g. 'tables: [tables/exeter-2024.csv]' (paths relative to the study file)")
    for i, name in enumerate(tables):
        path = inside(study_file.parent, name, what="table", file=str(study_file), place=f"tables[{i}]")
        yield from _read(path, name, str(study_file))


def _read(path: Path, name: str, cited_from: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    raw = read_limited(path, MAX_TABLE_BYTES, what="table", file=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError("the table is not valid UTF-8", file=str(path), place=f"byte {exc.start}",
                              fix="save it as UTF-8 CSV (spreadsheet programs offer 'CSV UTF-8')") from None
    reader = csv.DictReader(text.splitlines(), strict=True)
    header = reader.fieldnames or []
    missing = [c for c in ("kind", "id", "quote") if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise DataFormatError(
            f"the header {'lacks ' + ', '.join(missing) if missing else 'has unknown columns ' + ', '.join(unknown)}",
            file=str(path), place="row 1", fix=f"use the columns {', '.join(COLUMNS)} ('kxgraph template claims')")
    entries: dict[str, tuple[str, str, dict[str, Any]]] = {}
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise DataFormatError(f"not valid CSV: {exc}", file=str(path), place=f"line {reader.line_num}",
                              fix="check the quoting of that row") from None
    for n, row in enumerate(rows, start=2):
        if None in row:
            raise DataFormatError("the row has more cells than the header", file=str(path), place=f"row {n}",
                                  fix="put cells containing commas in double quotes")
        cells = {k: (v or "").strip() for k, v in row.items()}
        if not any(cells.values()):
            continue
        where = f"{name} row {n}"
        kind, ident = cells["kind"], cells["id"]
        if kind not in KINDS:
            raise DataFormatError(f"kind {kind!r} is not discussion_point or consequence", file=str(path),
                                  place=f"row {n}, column kind", fix="write discussion_point or consequence")
        if not ident:
            raise DataFormatError("the row has no id", file=str(path), place=f"row {n}, column id",
                                  fix="give the claim an id (rows with the same id add quotes to it)")
        evidence = _evidence(row=cells, path=path, n=n)
        if ident in entries:
            earlier_section, _, earlier = entries[ident]
            if earlier_section != KINDS[kind]:
                raise DataFormatError(f"the id {ident!r} is a {earlier_section[:-1]} in an earlier row",
                                      file=str(path), place=f"row {n}, column id", fix="give each claim its own id")
            if evidence:
                earlier["evidence"].append(evidence)
            continue
        entry: dict[str, Any] = {"id": ident, "evidence": [evidence] if evidence else []}
        for key in ("text", "raised_in"):
            if cells.get(key):
                entry[key] = cells[key]
        if kind == "discussion_point":
            entry["concerns"] = _ids(cells.get("concepts", ""))
            if cells.get("stakeholders"):
                entry["affects"] = _ids(cells["stakeholders"])
        else:
            for key, column in (("concept", "concepts"), ("stakeholder", "stakeholders")):
                ids = _ids(cells.get(column, ""))
                if len(ids) > 1:
                    raise DataFormatError(f"a consequence names one {key}, this row names {len(ids)}",
                                          file=str(path), place=f"row {n}, column {column}",
                                          fix="write one id, or one row per consequence")
                if ids:
                    entry[key] = ids[0]
            if cells.get("valence"):
                entry["valence"] = cells["valence"]
        entries[ident] = (KINDS[kind], f"{where} (id {ident!r})", entry)
    yield from entries.values()


def _evidence(*, row: dict[str, str], path: Path, n: int) -> dict[str, Any] | None:
    if not row.get("quote"):
        return None
    spec: dict[str, Any] = {"text": row["quote"]}
    for key in ("document", "hint"):
        if row.get(key):
            spec[key] = row[key]
    if row.get("occurrence"):
        try:
            spec["occurrence"] = int(row["occurrence"])
        except ValueError:
            raise DataFormatError(f"occurrence {row['occurrence']!r} is not a whole number", file=str(path),
                                  place=f"row {n}, column occurrence",
                                  fix="write 1 for the first, 2 for the second") from None
    return spec
