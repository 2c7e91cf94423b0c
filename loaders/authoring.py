"""Changes to a study's own files: a new document added to ``study.yaml`` (comments and layout kept,
by ruamel.yaml's round trip), checked by the loader, and undone if the study no longer validates."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from kxgraph.errors import InputError, KxError
from kxgraph.loaders.documents import read_new_document
from kxgraph.loaders.yaml_format import ID_PATTERN

__all__ = ["Added", "add_document", "new_study"]

STUDY_TEMPLATE = """# A kxgraph study (see docs/data-format.md). Add documents with
#   kxgraph add-document FILE --study {folder}
# then concepts, stakeholders, events and their claims, each claim with the exact words that back it.
kxgraph: 1
study:
  id: {ident}
  name: {name}
"""


@dataclass(frozen=True)
class Added:
    doc_id: str
    text_path: Path
    length: int
    media_type: str


def new_study(folder: Path, *, ident: str | None = None, name: str | None = None) -> Path:
    """A new study folder: ``study.yaml`` with its id and name, and empty ``documents/`` and
    ``tables/``. Refuses a folder that already holds a study."""
    import json

    ident = ident or _slug(folder.resolve().name)
    if not re.match(ID_PATTERN, ident):
        raise InputError(f"{ident!r} is not a study id", place="--id",
                         fix="ids are lower-case letters, digits and hyphens, e.g. 'interviews-2024'")
    study_file = folder / "study.yaml"
    if study_file.exists():
        raise InputError("the folder already holds a study", file=str(study_file),
                         fix="choose another folder, or edit that study.yaml")
    (folder / "documents").mkdir(parents=True, exist_ok=True)
    (folder / "tables").mkdir(exist_ok=True)
    title = name or ident.replace("-", " ").capitalize()
    study_file.write_text(STUDY_TEMPLATE.format(folder=folder, ident=ident, name=json.dumps(title)), encoding="utf-8")
    return study_file


def _slug(stem: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60].strip("-") or "document"


def add_document(study_file: Path, source: Path, *, doc_id: str | None = None, title: str | None = None,
                 source_url: str | None = None, date: str | None = None, language: str | None = None) -> Added:
    """Convert ``source``, store its text beside the study, list it in ``study.yaml``, validate."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    text, media = read_new_document(source)
    ident = doc_id or _slug(source.stem)
    if not re.match(ID_PATTERN, ident):
        raise InputError(f"{ident!r} is not an id", place="--id",
                         fix="ids are lower-case letters, digits and hyphens, e.g. 'interview-3'")
    yaml = YAML()  # round trip: comments, order and quoting of the file are kept
    yaml.preserve_quotes = True
    original = study_file.read_bytes()
    data = yaml.load(original.decode("utf-8"))
    if not isinstance(data, dict):
        raise InputError("the study file is not a mapping of sections", file=str(study_file),
                         fix="check it with 'kxgraph validate'")
    docs = data.get("documents")
    if docs is None:
        docs = CommentedSeq()
        data["documents"] = docs
    if not isinstance(docs, list):
        raise InputError("'documents' is not a list", file=str(study_file), place="documents",
                         fix="write each document as '- id: ...'")
    taken = {str(d.get("id")) for d in docs if isinstance(d, dict)}
    if ident in taken:
        raise InputError(f"the study already has a document {ident!r}", file=str(study_file), place="documents",
                         fix="give another --id, or use 'kxgraph replace-document' for a new version")
    relative = Path("documents") / f"{ident}.txt"
    target = study_file.parent / relative
    if target.exists():
        raise InputError(f"{target} already exists", file=str(target), fix="give another --id")
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), ident)
    entry = CommentedMap()
    entry["id"] = ident
    entry["file"] = relative.as_posix()
    entry["title"] = title or first_line.lstrip("#").strip()[:120] or ident
    entry["media_type"] = "text/plain"
    entry["description"] = f"Converted from {source.name} ({media}) by kxgraph add-document"
    for key, value in (("source", source_url), ("date", date), ("language", language)):
        if value:
            entry[key] = value
    docs.append(entry)
    buf = io.StringIO()
    yaml.dump(data, buf)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="")
    study_file.write_text(buf.getvalue(), encoding="utf-8")
    try:
        from kxgraph.loaders.pipeline import prepare

        prepare([study_file])
    except KxError:
        # never leave the study half-changed: the file and the entry go together or not at all
        study_file.write_bytes(original)
        target.unlink(missing_ok=True)
        raise
    return Added(doc_id=ident, text_path=target, length=len(text), media_type=media)
