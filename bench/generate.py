"""A deterministic generator of synthetic studies, written in the project's own input format
(``study.yaml``, CSV tables of claims, text documents) so that they go through the real loader.

Proportions follow the bundled study, quotes being the largest part. Per 100 quotes: about 2
concepts (each defined, its definition citing one quote), 1 stakeholder, 0.2 events with two
activities each, 25 discussion points and 25 consequences citing two quotes each. The discussion
points and consequences are written as one CSV table per event (``tables:``), as a research team
would keep the claims of each event; the rest is in ``study.yaml``.

Every concept has about the same number of claims and quotes whatever the scale, so a question
about one concept has an answer of the same size in a study of 1k or 1M quotes.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path
from typing import Any

import yaml

__all__ = ["generate_study"]

WORDS = [
    "holding", "discretion", "boundary", "belonging", "readiness", "patient", "practice", "community",
    "trust", "time", "support", "referral", "session", "training", "outcome", "network", "service",
    "voluntary", "primary", "care",
]
COLUMNS = ("kind", "id", "text", "raised_in", "concepts", "stakeholders", "valence", "quote", "document")


def generate_study(folder: Path, quotes: int, study_id: str = "synthetic", seed: int = 7,
                   quotes_per_document: int = 2000) -> Path:
    """Write a study with about ``quotes`` evidence quotes into ``folder``; returns the folder."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "documents").mkdir(exist_ok=True)
    (folder / "tables").mkdir(exist_ok=True)
    n_concepts = max(3, quotes // 50)
    n_stakeholders = max(3, quotes // 100)
    n_events = max(1, quotes // 500)
    n_points = max(2, quotes // 4)
    n_consequences = max(2, quotes // 4)
    n_docs = max(1, -(-quotes // quotes_per_document))
    many_docs = n_docs > 1

    sentences: list[list[str]] = [[] for _ in range(n_docs)]
    counter = iter(range(10**9))

    def sentence() -> tuple[str, str]:
        i = next(counter)
        doc = i % n_docs
        words = " ".join(rnd.choice(WORDS) for _ in range(8))
        text = f"Delegates at table {i} talked about {words} (note {i})."
        sentences[doc].append(text)
        return text, f"doc-{doc}"

    def evidence(k: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(k):
            text, doc = sentence()
            out.append({"text": text, "document": doc} if many_docs else {"text": text})
        return out

    concepts = [{"id": f"concept-{c}", "name": f"Concept {c}",
                 "definition": {"text": f"Definition of concept {c}.", "evidence": evidence(1)}}
                for c in range(n_concepts)]
    stakeholders = [{"id": f"stakeholder-{s}", "name": f"Stakeholder {s}"} for s in range(n_stakeholders)]
    events = [{"id": f"event-{e}", "name": f"Event {e}", "date": f"2024-{e % 12 + 1:02d}", "ordinal": e}
              for e in range(n_events)]
    activities = [{"id": f"activity-{e}-{a}", "name": f"Activity {a} of event {e}", "event": f"event-{e}",
                   "kind": "round-table", "ordinal": a, "presents": [f"concept-{(e + a) % n_concepts}"]}
                  for e in range(n_events) for a in range(2)]

    tables: list[io.StringIO] = [io.StringIO() for _ in range(n_events)]
    writers = [csv.writer(t, lineterminator="\n") for t in tables]
    for w in writers:
        w.writerow(COLUMNS)

    def claim_rows(event: int, first: list[str]) -> None:
        for k, quote in enumerate(evidence(2)):  # more rows with the same id add quotes
            cells = first if k == 0 else [first[0], first[1], "", "", "", "", ""]
            writers[event].writerow([*cells, quote["text"], quote.get("document", "")])

    for i in range(n_points):
        activity = activities[i % len(activities)]
        claim_rows(int(activity["event"].split("-")[1]),
                   ["discussion_point", f"point-{i}", f"Discussion point {i}.", activity["id"],
                    f"concept-{i % n_concepts}", f"stakeholder-{i % n_stakeholders}", ""])
    for i in range(n_consequences):
        claim_rows(i % n_events,
                   ["consequence", f"consequence-{i}", f"Consequence {i}.", "", f"concept-{i % n_concepts}",
                    f"stakeholder-{i % n_stakeholders}", "positive" if i % 3 else "negative"])
    table_files = []
    for e, table in enumerate(tables):
        name = f"tables/event-{e}.csv"
        (folder / name).write_text(table.getvalue(), encoding="utf-8")
        table_files.append(name)

    continua = [{"id": "continuum-0", "name": "Continuum 0", "left": "concept-0", "right": "concept-1"}]
    elements = [{"id": f"element-{i}", "name": f"Element {i}"} for i in range(5)]
    placements = [{"id": f"placement-{i}", "element": f"element-{i}", "continuum": "continuum-0",
                   "position": round(i / 4, 2), "text": f"Placement {i}.", "evidence": evidence(1)}
                  for i in range(5)]
    documents = []
    for d in range(n_docs):
        name = f"documents/doc-{d}.txt"
        (folder / name).write_text("\n".join(sentences[d]) + "\n", encoding="utf-8")
        documents.append({"id": f"doc-{d}", "file": name, "title": f"Synthetic document {d}"})
    study = {"kxgraph": 1, "study": {"id": study_id, "name": f"Synthetic study {study_id}"},
             "tables": table_files, "documents": documents, "stakeholders": stakeholders,
             "concepts": concepts, "continua": continua, "events": events, "activities": activities,
             "role_elements": elements, "placements": placements}
    (folder / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    return folder
