"""Bad study files: each gives a clear error naming the file, the place and the fix, and nothing
is written."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kxgraph.errors import DataFormatError, InputError, InputErrors, QuoteError, ValidationError
from kxgraph.graph.store import Store
from kxgraph.loaders.anchoring import anchor_quote
from kxgraph.loaders.pipeline import load, prepare
from tests.helpers import BUNDLED, fingerprint


def broken_copy(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    target = tmp_path / "study"
    shutil.copytree(BUNDLED, target)
    data = yaml.safe_load((target / "study.yaml").read_text(encoding="utf-8"))
    change(data)
    (target / "study.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
    return target


def entry(data: dict[str, Any], section: str, ident: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in data[section] if e["id"] == ident)
    return found


def test_a_quote_not_in_the_document_names_file_entry_and_text(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        entry(d, "discussion_points", "dip-in-and-out")["evidence"] = ["patients may dip in and out"]
    with pytest.raises(QuoteError) as err:
        prepare([broken_copy(tmp_path, change)])
    text = str(err.value)
    assert "study.yaml" in text
    assert "discussion_points[0] (id 'dip-in-and-out').evidence[0]" in text
    assert "'patients may dip in and out'" in text and "not in the document" in text
    assert err.value.fix


DOC = "Caf\u00e9 staff said: \u201cwe hold them\u201d \u2013 the \U0001f469\u200d\u2695\ufe0f nurse agreed.\nThen they left."


@pytest.mark.parametrize("quote,why", [
    ("Cafe\u0301 staff", "same Unicode form"),                      # e + combining accent, the text has \u00e9
    ("\U0001f469\u2695 nurse", "invisible characters"),             # the emoji without its joiner
    ('"we hold them" - the', "typographic"),                        # straight quotes and a hyphen
    ("agreed. Then they", "white space or line breaks"),             # the line break typed as a space
])
def test_a_quote_that_is_almost_there_says_why(quote: str, why: str) -> None:
    with pytest.raises(QuoteError) as err:
        anchor_quote(DOC, quote, file="study.yaml", place="consequences[0].evidence[0]", document="notes")
    assert why in str(err.value) and "the document 'notes'" in str(err.value)


def test_a_quote_that_is_not_there_names_the_nearest_passage_and_its_place() -> None:
    with pytest.raises(QuoteError) as err:
        anchor_quote(DOC, "the nurse agrees", file="study.yaml", place="p", document="notes")
    text = str(err.value)
    start, end = (int(x) for x in text.split("at characters ")[1].split(":")[0].split("-"))
    assert "nurse agree" in DOC[start:end] and f"{DOC[start:end]!r}" in text
    with pytest.raises(QuoteError) as err:
        anchor_quote(DOC, "zzzz qqqq xxxx", file="study.yaml", place="p")
    assert "nearest" not in str(err.value)  # nothing alike: no passage offered


def test_an_ambiguous_quote_is_an_error_and_occurrence_resolves_it(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        entry(d, "activities", "holding-presentation")["evidence"] = ["Debra Westlake presenting"]
    with pytest.raises(QuoteError, match="ambiguous: it occurs 2 times") as err:
        prepare([broken_copy(tmp_path, change)])
    assert "occurrence" in (err.value.fix or "")

    def fixed(d: dict[str, Any]) -> None:
        entry(d, "activities", "holding-presentation")["evidence"] = [
            {"text": "Debra Westlake presenting", "occurrence": 2}]
    prepare([broken_copy(tmp_path / "ok", fixed)])


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: entry(d, "consequences", "discretion-trust").update(valence="neutral"),
     "consequences[5] (id 'discretion-trust'): 'valence' must be positive or negative"),
    (lambda d: entry(d, "placements", "place-community-time").update(position=1.5),
     "placements[2] (id 'place-community-time'): 'position' is a number from 0 (left pole) to 1"),
    (lambda d: entry(d, "reflections", "stayed-to-share").update(evidence=[]),
     "reflections[1] (id 'stayed-to-share'): a claim must cite at least one evidence quote"),
    (lambda d: entry(d, "concepts", "holding")["definition"].update(evidence=[]),
     "concepts[5] (id 'holding').definition: a claim must cite at least one evidence quote"),
])
def test_shacl_rejects_broken_data_in_plain_words(tmp_path: Path, change: Callable[[dict[str, Any]], None],
                                                  expected: str) -> None:
    with pytest.raises(ValidationError) as err:
        prepare([broken_copy(tmp_path, change)])
    assert any(p.startswith(expected) for p in err.value.problems), err.value.problems
    assert "study.yaml" in str(err.value)


@pytest.mark.parametrize(("change", "place", "words"), [
    (lambda d: entry(d, "discussion_points", "dip-in-and-out").update(concerns=["holdin"]),
     "discussion_points[0] (id 'dip-in-and-out').concerns", "did you mean 'holding'?"),
    (lambda d: entry(d, "discussion_points", "dip-in-and-out").update(affects=["holding"]),
     "discussion_points[0] (id 'dip-in-and-out').affects", "is in concepts, but 'affects' must name stakeholders"),
    (lambda d: entry(d, "concepts", "holding").update(colour="red"),
     "concepts[5] (id 'holding')", "unknown field 'colour'"),
    (lambda d: entry(d, "consequences", "discretion-trust").pop("stakeholder"),
     "consequences[5] (id 'discretion-trust')", "required field 'stakeholder' is missing"),
    (lambda d: d["people"].append({"id": "debra-westlake", "name": "Again"}),
     "people[2] (id 'debra-westlake')", "used twice"),
    (lambda d: d.update(stakeholdres=[]), "stakeholdres", "did you mean 'stakeholders'?"),
    (lambda d: d.update(kxgraph=2), "kxgraph", "format version 2 is not supported"),
])
def test_format_errors_name_the_place_and_the_fix(tmp_path: Path, change: Callable[[dict[str, Any]], None],
                                                  place: str, words: str) -> None:
    with pytest.raises(DataFormatError) as err:
        prepare([broken_copy(tmp_path, change)])
    assert err.value.place is not None and err.value.place.startswith(place), err.value
    assert words in str(err.value)


def test_yaml_syntax_errors_give_line_and_column(tmp_path: Path) -> None:
    target = tmp_path / "s"
    shutil.copytree(BUNDLED, target)
    lines = (target / "study.yaml").read_text(encoding="utf-8").splitlines()
    lines[10] = "  name: [unclosed"
    (target / "study.yaml").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"line \d+, column \d+"):
        prepare([target])


@pytest.mark.parametrize("text,said,fix", [
    ("kxgraph: 1\nstudy:\n  id: a\n  name: A\nconcepts:\n  - id: x\n    name: X\n   - id: y\n",
     "line 8, column 4: not valid YAML: the indentation changes here", "indent it like the entries above it"),
    ("kxgraph: 1\nstudy:\n  id: a\n  name: Note: this breaks\n",
     "line 4, column 13: not valid YAML: a ':' inside a value that is not in quotes", "put the value in quotes"),
    ("kxgraph: 1\nstudy:\n\tid: a\n", "line 3, column 1: not valid YAML: a tab", "indent with spaces only"),
    ("kxgraph: 1\nstudy:\n  id: a\n  name: \"unclosed\n", "a quote opened but never closed (it starts at line 4)",
     "close the quote"),
])
def test_yaml_slips_are_said_in_plain_words(tmp_path: Path, text: str, said: str, fix: str) -> None:
    (tmp_path / "study.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        prepare([tmp_path])
    assert said in str(err.value) and "the parser says:" in str(err.value)
    assert fix in (err.value.fix or "")


def test_a_document_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    target = tmp_path / "s"
    shutil.copytree(BUNDLED, target)
    doc = target / "documents" / "exeter-knowledge-exchange-blog.txt"
    doc.write_bytes(doc.read_text(encoding="utf-8").encode("cp1252", errors="replace"))
    with pytest.raises(InputError, match="not valid UTF-8") as err:
        prepare([target])
    assert err.value.file == str(doc)


@pytest.mark.anyio
async def test_bad_input_never_touches_the_served_graph(bundled: Store, tmp_path: Path) -> None:
    before = await fingerprint(bundled)

    def change(d: dict[str, Any]) -> None:
        entry(d, "consequences", "discretion-trust")["valence"] = "neutral"
    with pytest.raises(ValidationError):
        await load(bundled, [broken_copy(tmp_path, change)], force=True)
    assert await fingerprint(bundled) == before


def test_quotes_across_line_breaks_as_the_format_documents_them(tmp_path: Path) -> None:
    """docs/data-format.md: a quote breaks where the document does, with \\n or as a block."""
    (tmp_path / "notes.txt").write_text("Before.\nthey\nwaited for weeks\nAfter.", encoding="utf-8")
    (tmp_path / "study.yaml").write_text(
        "kxgraph: 1\nstudy: {id: wrap, name: Wrapped}\ndocuments:\n  - {id: notes, file: notes.txt, title: Notes}\n"
        "concepts:\n  - id: waiting\n    name: Waiting\n    definition:\n      text: Waiting.\n      evidence:\n"
        '        - "they\\nwaited for weeks"\n        - |-\n          they\n          waited\n',
        encoding="utf-8")
    prep = prepare([tmp_path])
    quotes = [r["props"] for label, rows in prep.projected.nodes.items() if label.value == "EvidenceQuote" for r in rows]
    assert sorted(q["exact"] for q in quotes) == ["they\nwaited", "they\nwaited for weeks"]
    assert all(q["start"] == 8 for q in quotes)


def test_broader_and_narrower_in_yaml_are_one_link(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Care and support and holding.", encoding="utf-8")
    (tmp_path / "study.yaml").write_text(
        "kxgraph: 1\nstudy: {id: tree, name: Tree}\ndocuments:\n  - {id: notes, file: notes.txt, title: Notes}\n"
        "concepts:\n  - {id: care, name: Care, narrower: [support]}\n  - {id: support, name: Support}\n"
        "  - {id: holding, name: Holding, broader: [support]}\n", encoding="utf-8")
    prep = prepare([tmp_path])
    rels = {(r["src"], r["dst"]) for (_, t, _), rows in prep.projected.relationships.items() if t.value == "BROADER"
            for r in rows}
    assert rels == {("tree/concept/support", "tree/concept/care"), ("tree/concept/holding", "tree/concept/support")}
    (tmp_path / "study.yaml").write_text((tmp_path / "study.yaml").read_text().replace("[support]}\n  - {id: s",
                                                                                      "[suport]}\n  - {id: s"))
    with pytest.raises(DataFormatError) as err:
        prepare([tmp_path])
    assert "concepts[0] (id 'care').narrower" in str(err.value) and "did you mean 'support'" in (err.value.fix or "")


def test_every_problem_of_a_file_is_said_in_one_pass(tmp_path: Path) -> None:
    """A researcher fixes a file once, not once per error: shapes, unknown references and quotes
    not in their documents are all listed, each with its place and its fix."""
    def change(d: dict[str, Any]) -> None:
        entry(d, "concepts", "holding")["colour"] = "red"                       # an unknown field
        entry(d, "discussion_points", "dip-in-and-out")["concerns"] = ["holdin"]  # a misspelt reference
        entry(d, "discussion_points", "dip-in-and-out")["evidence"] = ["words nobody said"]
        entry(d, "consequences", "holding-risks-dependence")["stakeholder"] = "nobody"
    with pytest.raises(InputErrors) as err:
        prepare([broken_copy(tmp_path, change)])
    text = str(err.value)
    places = [p.place for p in err.value.problems]
    assert len(places) == 3, text  # shapes and references first; quotes are checked once those are right
    assert any("(id 'holding')" in (p or "") for p in places) and "unknown field 'colour'" in text
    assert "did you mean 'holding'?" in text and "'nobody' is not an id in stakeholders" in text
    assert text.count("fix:") == 4  # each problem's own, and the file's

    def quotes_only(d: dict[str, Any]) -> None:
        entry(d, "discussion_points", "dip-in-and-out")["evidence"] = ["words nobody said"]
        entry(d, "consequences", "holding-risks-dependence")["evidence"] = ["nor this", "nor that"]
    with pytest.raises(InputErrors) as err:
        prepare([broken_copy(tmp_path / "q", quotes_only)])
    assert [p.message.split(" is not")[0] for p in err.value.problems] == [
        "the quote 'words nobody said'", "the quote 'nor this'", "the quote 'nor that'"]


def test_a_file_with_hundreds_of_problems_shows_the_first_fifty_and_counts_the_rest(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["stakeholders"] += [{"id": f"s{i}", "name": f"S{i}", "shade": "x"} for i in range(120)]
    with pytest.raises(InputErrors) as err:
        prepare([broken_copy(tmp_path, change)])
    assert len(err.value.problems) == InputErrors.MAX_PROBLEMS and err.value.more == 70
    assert str(err.value).startswith(f"{err.value.problems[0].file}: 120 problems (the first 50 shown)")
