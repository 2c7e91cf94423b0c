"""REFI-QDA's XML as kxgraph reads it: elements by their local name (projects and codebooks have
namespaces of their own), GUIDs as kept, dates, and the standard's XSD."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from xml.etree.ElementTree import Element

__all__ = ["LINK_DIRECTIONS", "MAX_SCHEMA_PROBLEMS", "child_named", "children_named", "date_time", "guid_of", "local",
           "schema_errors", "study_id_from_name", "text_of"]

MAX_SCHEMA_PROBLEMS = 20


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children_named(el: Element, name: str) -> Iterator[Element]:
    for child in el:
        if local(child.tag) == name:
            yield child


def child_named(el: Element, name: str) -> Element | None:
    return next(children_named(el, name), None)


def text_of(el: Element, name: str) -> str | None:
    child = child_named(el, name)
    if child is None or child.text is None:
        return None
    return child.text


def guid_of(value: str | None) -> str | None:
    """A GUID as kxgraph keeps it: lower case, no braces (ATLAS.ti writes upper case)."""
    if not value:
        return None
    g = value.strip().strip("{}").lower()
    return g if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", g) else None


#: the directions a REFI-QDA link can have
LINK_DIRECTIONS = ("Associative", "OneWay", "Bidirectional")


def date_time(value: str) -> str | None:
    """An ``xsd:dateTime`` as written (trimmed) when it is one, else None."""
    text = value.strip()
    if not re.fullmatch(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", text):
        return None
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return text


def study_id_from_name(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    return slug or "imported-study"


@lru_cache(maxsize=2)
def _schema(kind: str) -> Any:
    import xmlschema

    name = "Project.xsd" if kind == "project" else "Codebook.xsd"
    path = resources.files("kxgraph.ontology").joinpath("refi-qda").joinpath(name)
    with resources.as_file(path) as p:
        return xmlschema.XMLSchema(str(p))


def schema_errors(root: Element, kind: str, limit: int = MAX_SCHEMA_PROBLEMS) -> list[str]:
    """What does not fit the REFI-QDA XSD, as 'path: reason' lines (at most ``limit`` and a count)."""
    problems: list[str] = []
    total = 0
    for err in _schema(kind).iter_errors(root):
        total += 1
        if len(problems) < limit:
            reason = (err.reason or str(err)).splitlines()[0]
            problems.append(f"{err.path or '/'}: {reason}")
    if total > limit:
        problems.append(f"... and {total - limit} more")
    return problems
