"""A deterministic generator of synthetic studies, written in the project's own input format
(``study.yaml`` + documents) so that they go through the real loader.

Proportions follow the bundled study, quotes being the largest part: per 100 quotes about 2
concepts, 1 stakeholder, 25 discussion points and 25 consequences, each claim citing two quotes.
"""

from __future__ import annotations

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


def generate_study(folder: Path, quotes: int, study_id: str = "synthetic", seed: int = 7,
                   quotes_per_document: int = 2000) -> Path:
    """Write a study with about ``quotes`` evidence quotes into ``folder``; returns the folder."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "documents").mkdir(exist_ok=True)
    n_concepts = max(3, quotes // 50)
    n_stakeholders = max(3, quotes // 100)
    n_events = max(1, quotes // 500)
    n_points = max(2, quotes // 4)
    n_consequences = max(2, quotes // 4)
    n_docs = max(1, -(-quotes // quotes_per_document))

    sentences: list[list[str]] = [[] for _ in range(n_docs)]

    def sentence(i: int) -> dict[str, Any]:
        doc = i % n_docs
        words = " ".join(rnd.choice(WORDS) for _ in range(8))
        text = f"Delegates at table {i} talked about {words} (note {i})."
        sentences[doc].append(text)
        return {"text": text, "document": f"doc-{doc}"} if n_docs > 1 else {"text": text}

    counter = iter(range(10**9))

    def evidence(k: int = 2) -> list[dict[str, Any]]:
        return [sentence(next(counter)) for _ in range(k)]

    concepts = [{"id": f"concept-{c}", "name": f"Concept {c}",
                 "definition": {"text": f"Definition of concept {c}.", "evidence": evidence(1)}}
                for c in range(n_concepts)]
    stakeholders = [{"id": f"stakeholder-{s}", "name": f"Stakeholder {s}"} for s in range(n_stakeholders)]
    events = [{"id": f"event-{e}", "name": f"Event {e}", "date": f"2024-{e % 12 + 1:02d}", "ordinal": e}
              for e in range(n_events)]
    activities = [{"id": f"activity-{e}-{a}", "name": f"Activity {a} of event {e}", "event": f"event-{e}",
                   "kind": "round-table", "ordinal": a, "presents": [f"concept-{(e + a) % n_concepts}"]}
                  for e in range(n_events) for a in range(2)]
    points = [{"id": f"point-{i}", "text": f"Discussion point {i}.", "ordinal": i,
               "raised_in": activities[i % len(activities)]["id"], "concerns": [f"concept-{i % n_concepts}"],
               "affects": [f"stakeholder-{i % n_stakeholders}"], "evidence": evidence()}
              for i in range(n_points)]
    consequences = [{"id": f"consequence-{i}", "text": f"Consequence {i}.",
                     "concept": f"concept-{i % n_concepts}",
                     "stakeholder": f"stakeholder-{i % n_stakeholders}",
                     "valence": "positive" if i % 3 else "negative", "evidence": evidence()}
                    for i in range(n_consequences)]
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
             "documents": documents, "stakeholders": stakeholders, "concepts": concepts,
             "continua": continua, "events": events, "activities": activities, "role_elements": elements,
             "discussion_points": points, "consequences": consequences, "placements": placements}
    (folder / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    return folder
