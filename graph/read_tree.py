"""One read statement for a whole tree of nodes: the part of the Cypher catalogue that the GraphQL
compiler (``api/graphql/compiler.py``) uses, and that the resolvers' own statements come from too.

A tree is a root (one node by id, a page of a label, or consequences grouped by stakeholder) with
the values it projects and its children; each child is a :class:`Walk` from its parent (one or more
hops along the ontology's relationship types) with its own values and children. Every child becomes
one ``CALL { WITH parent … }`` subquery that sorts, limits and collects its nodes, so the store
returns the answer's shape in one statement. Both stores accept this form
(``../shared/design/cypher-dialects.md``: FalkorDB refuses ``CALL (x) {}``, and a pattern
comprehension nested in another one returns null there). Labels and types come from the closed sets
only; every value is a parameter.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kxgraph.graph.queries import stakeholders
from kxgraph.ontology.vocabulary import NodeLabel, RelType, check_label, check_rel_type, single_valued

__all__ = [
    "DOCUMENT_WALK",
    "WINDOW_MAX_CHARS",
    "Child",
    "DocumentPart",
    "Emitter",
    "Hop",
    "Part",
    "Select",
    "Walk",
    "by_id",
    "combined",
    "consequence_groups",
    "order_keys",
    "quote_paragraph",
    "quote_window",
    "split_combined",
    "walk_batch",
    "window_chars",
]

Direction = Literal["out", "in", "both"]
Order = Literal["ordinal", "start", "position", "none"]


@dataclass(frozen=True)
class Hop:
    """One step: along any of ``rels`` in ``direction`` to a node with any of ``labels`` (any node
    when empty). ``or_self``: the step may also be taken zero times (an event or its activities)."""

    rels: tuple[RelType, ...]
    direction: Direction
    labels: tuple[NodeLabel, ...] = ()
    or_self: bool = False

    def pattern(self, target: str) -> str:
        rels = "|".join(check_rel_type(r).value for r in self.rels)
        span = "*0..1" if self.or_self else ""
        left, right = ("<-", "-") if self.direction == "in" else ("-", "->" if self.direction == "out" else "-")
        label = f":{check_label(self.labels[0]).value}" if len(self.labels) == 1 else ""
        return f"{left}[:{rels}{span}]{right}({target}{label})"

    def where(self, var: str) -> str | None:
        if len(self.labels) < 2:
            return None
        return "(" + " OR ".join(f"{var}:{check_label(x).value}" for x in self.labels) + ")"


@dataclass(frozen=True)
class Walk:
    """How a field reaches its nodes from its parent, and in which order they come."""

    hops: tuple[Hop, ...]
    order: Order = "ordinal"

    @property
    def distinct(self) -> bool:
        return len(self.hops) > 1 or any(h.or_self or h.direction == "both" for h in self.hops)

    def parts(self, start: str, target: str, label: NodeLabel | None = None) -> tuple[str, str | None]:
        """The pattern from ``start`` hop by hop to ``target`` (given ``label`` when the last hop
        names none), and the condition on the target's label alternatives."""
        last = self.hops[-1]
        end = f"{target}:{check_label(label).value}" if label is not None and not last.labels else target
        pattern = start + "".join(h.pattern(end if i == len(self.hops) - 1 else "") for i, h in enumerate(self.hops))
        return pattern, last.where(target)

    def at_most_one(self, label: NodeLabel | None) -> bool:
        """Whether a node of ``label`` reaches at most one node by this walk: one hop out along a
        relationship the shapes allow it once (``vocabulary.single_valued``)."""
        if label is None or len(self.hops) != 1:
            return False
        hop = self.hops[0]
        return (hop.direction == "out" and not hop.or_self and len(hop.rels) == 1
                and (label, hop.rels[0]) in single_valued())

    def match(self, start: str, target: str) -> str:
        """``start`` hop by hop to ``target``, with the target's label alternatives as a WHERE."""
        pattern, where = self.parts(start, target)
        return f"{pattern} WHERE {where}" if where else pattern


def order_keys(var: str, order: Order) -> list[str]:
    """The sort keys of each order, the same ones the resolvers sort by (``types.build_many``)."""
    if order == "start":
        return [f"coalesce({var}.start, 0)", f"{var}.id"]
    if order == "position":
        return [f"coalesce({var}.position, 0)", f"{var}.id"]
    if order == "none":
        return [f"{var}.id"]
    return [f"{var}.ordinal IS NULL", f"coalesce({var}.ordinal, 0)", f"coalesce({var}.name, {var}.text, '')",
            f"{var}.id"]


@dataclass
class Select:
    """What one node gives: values (response key, Cypher expression over ``$v``, the node's variable,
    or a :class:`DocumentPart`) and children."""

    values: list[tuple[str, str | DocumentPart]] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)


@dataclass
class Child:
    key: str
    walk: Walk
    many: bool
    select: Select
    #: the name of the parameter that caps how many nodes each parent gets (a nested page)
    limit_param: str | None = None
    #: the walk reaches at most one node (:meth:`Walk.at_most_one`): no order to choose it by
    single: bool = False


def _key(name: str) -> str:
    if not name.replace("_", "a").isalnum() or name[:1].isdigit():
        raise ValueError(f"{name!r} cannot be a key of a projected map")
    return f"`{name}`"


class Emitter:
    def __init__(self) -> None:
        self._n = itertools.count()

    def var(self) -> str:
        return f"n{next(self._n)}"

    def projection(self, var: str, select: Select, fields: dict[str, str]) -> str:
        """The node's map: its values, then its children's answers (``fields``, from :meth:`calls`,
        which also holds the document parts cut where the node's document is read)."""
        parts = [f"{_key(k)}: {fields[k] if isinstance(expr, DocumentPart) and k in fields else _text(expr, var)}"
                 for k, expr in select.values]
        parts += [f"{_key(c.key)}: {fields[c.key]}" for c in select.children]
        return f"{var} {{{', '.join(parts)}}}"

    def calls(self, var: str, select: Select) -> tuple[str, dict[str, str], list[str]]:
        """The subqueries of a node's children, the expressions that give their answers and the
        variables those are made of (to carry through a ``WITH``). A quote's document parts are cut
        in the subquery of its ``document`` when the request reads that too: one match of the
        document for both."""
        text: list[str] = []
        fields: dict[str, str] = {}
        carried: list[str] = []
        cuts = [(k, e) for k, e in select.values if isinstance(e, DocumentPart)]
        if {k for k, _ in cuts} & {c.key for c in select.children}:
            cuts = []  # a key that is both: each stays where it is
        for child in select.children:
            out = f"f_{var}_{len(text)}"
            shared = cuts if type(child) is Child and not child.many and child.walk == DOCUMENT_WALK else []
            part, fields[child.key], defined = self.child(var, child, out, shared)
            fields.update({k: f"{out}_{i}" for i, (k, _) in enumerate(shared)})
            cuts = [] if shared else cuts
            text.append(part)
            carried += defined
        return " ".join(text), fields, carried

    def child(self, parent: str, child: Child, out: str,
              cuts: Sequence[tuple[str, DocumentPart]] = ()) -> tuple[str, str, list[str]]:
        """The subquery of one child (its variables named from ``out``), the expression of its answer
        and the variables it defines; ``cuts``: the parent quote's document parts, cut from this
        child (its document) as ``{out}_0`` …"""
        if type(child) is not Child:
            raise TypeError(f"{type(child).__name__} children need the emitter that knows them")
        v = self.var()
        distinct = f" WITH DISTINCT {v}" if child.walk.distinct else ""
        inner, fields, defined = self.calls(v, child.select)
        carried = ", ".join([v, *defined, *([parent] if cuts else [])])
        limit = f" LIMIT ${child.limit_param}" if child.limit_param else ""
        ordered = child.many or not child.single or bool(limit)
        order = f"WITH {carried} ORDER BY {', '.join(order_keys(v, child.walk.order))}{limit} " if ordered else ""
        collected = f"collect({self.projection(v, child.select, fields)})"
        result = collected if child.many else f"head({collected})"
        more = "".join(f", {cut.on(v, parent)} AS {out}_{i}" for i, (_, cut) in enumerate(cuts))
        defined_here = [out, *(f"{out}_{i}" for i in range(len(cuts)))]
        return (f"CALL {{ WITH {parent} MATCH {child.walk.match(f'({parent})', v)}{distinct} {inner} "
                f"{order}RETURN {result} AS {out}{more} }}").replace("  ", " "), out, defined_here


def by_id(label: NodeLabel | str, select: Select, e: Emitter | None = None) -> str:
    """One node of a label by ``$id``, with its tree: no row when it is absent."""
    e = e or Emitter()
    v = e.var()
    inner, fields, _ = e.calls(v, select)
    return (f"MATCH ({v}:{check_label(label).value} {{id: $id}}) {inner} "
            f"RETURN {e.projection(v, select, fields)} AS node").replace("  ", " ")


def walk_batch(label: NodeLabel | str, walk: Walk) -> str:
    """The resolvers' form of a walk: its nodes for a batch of ``$ids``, rows ``id, label, props``."""
    distinct = "DISTINCT " if walk.distinct else ""
    return (f"UNWIND $ids AS id MATCH {walk.match(f'(a:{check_label(label).value} {{id: id}})', 'b')} "
            f"RETURN {distinct}id, labels(b)[0] AS label, properties(b) AS props")


#: the parts of a window or paragraph besides ``before`` and ``after`` (``types.TextWindow``)
_QUOTE_PARTS = {"exact": "substring(kx_doc.content, $v.start, $v.end - $v.start)", "start": "$v.start", "end": "$v.end"}
#: how a quote reaches its document (``types.EvidenceQuote.document``)
DOCUMENT_WALK = Walk((Hop((RelType.IN_DOCUMENT,), "out"),))


@dataclass(frozen=True)
class DocumentPart:
    """A map cut from the text of the quote ``$v``'s document in the store (a window, a paragraph),
    null when the quote has no position or no document text (as ``types.text_window`` gives):
    ``body`` is the map over ``kx_doc``, the document. Alone, it matches the document itself
    (:meth:`alone`); the emitter cuts it where the quote's document is read anyway (:meth:`on`)."""

    body: str

    def alone(self) -> str:
        return (f"CASE WHEN $v.start IS NULL OR $v.end IS NULL THEN null ELSE "
                f"head([($v)-[:{RelType.IN_DOCUMENT.value}]->(kx_doc:{NodeLabel.SourceDocument.value}) "
                f"WHERE kx_doc.content IS NOT NULL | {self.body}]) END")

    def on(self, doc: str, quote: str) -> str:
        """The part, as an aggregate over the rows of the quote's documents ``doc`` (the first one
        with a text, as :meth:`alone` takes it; ``collect`` leaves out the nulls)."""
        body = self.body.replace("kx_doc", doc).replace("$v", quote)
        return (f"head(collect(CASE WHEN {quote}.start IS NULL OR {quote}.end IS NULL OR "
                f"NOT {doc}:{NodeLabel.SourceDocument.value} OR {doc}.content IS NULL THEN null ELSE {body} END))")


def _text(expr: str | DocumentPart, var: str) -> str:
    return (expr.alone() if isinstance(expr, DocumentPart) else expr).replace("$v", var)


def _document_part(before: str, after: str, asked: Collection[str] | None) -> DocumentPart:
    """The parts the request reads (``asked``; None: all), so that a substring nobody reads is not cut."""
    parts = {"before": before, "after": after, **_QUOTE_PARTS}
    chosen = [k for k in parts if asked is None or k in asked] or ["start"]  # a map has a key at least
    return DocumentPart("{" + ", ".join(f"{k}: {parts[k]}" for k in chosen) + "}")


#: the most characters a window gives either side of its quote
WINDOW_MAX_CHARS = 2000


def window_chars(chars: int) -> int:
    """``chars`` as a window takes it: 0 to ``WINDOW_MAX_CHARS``."""
    return max(0, min(int(chars), WINDOW_MAX_CHARS))


def quote_window(chars: int, asked: Collection[str] | None = None) -> DocumentPart:
    """The quote with up to ``chars`` characters of its document either side, cut in the store: both
    stores count a string's characters as code points, as the quotes' positions do."""
    n = window_chars(chars)
    return _document_part(
        f"substring(kx_doc.content, CASE WHEN $v.start < {n} THEN 0 ELSE $v.start - {n} END, "
        f"CASE WHEN $v.start < {n} THEN $v.start ELSE {n} END)", f"substring(kx_doc.content, $v.end, {n})", asked)


def quote_paragraph(asked: Collection[str] | None = None) -> DocumentPart:
    """The quote inside the line of its document it is on (``types.text_paragraph``), cut in the store."""
    return _document_part("coalesce(last(split(substring(kx_doc.content, 0, $v.start), '\\n')), '')",
                          "coalesce(head(split(substring(kx_doc.content, $v.end), '\\n')), '')", asked)

#: the display text list pages sort on when no sort is given (``filtering.page_statement``)
LIST_KEY = "coalesce({v}.name, {v}.title, {v}.text, {v}.exact, {v}.id)"


def consequence_groups(stakeholder: Select, concept: Select, consequences: Select | None,
                       e: Emitter | None = None, *, by_id: bool = True, by_study: bool = True) -> str:
    """Consequences grouped by stakeholder, concept and valence (``queries.consequence_groups``'
    groups and order), each part with its tree; rows ``stakeholder, concept, valence, count, items``.
    ``by_id``, ``by_study``: whether ``$stakeholder``, ``$study`` are given (``queries.stakeholders``)."""
    e = e or Emitter()
    s, k = e.var(), e.var()
    s_calls, s_fields, _ = e.calls(s, stakeholder)
    k_calls, k_fields, _ = e.calls(k, concept)
    items = "[] AS items"
    c_text = ""
    if consequences is not None:
        c = e.var()
        c_calls, c_fields, c_defined = e.calls(c, consequences)
        carried = ", ".join([c, *c_defined])
        c_text = (f"CALL {{ WITH cs UNWIND cs AS {c} {c_calls} WITH {carried} "
                  f"ORDER BY {', '.join(order_keys(c, 'ordinal'))} "
                  f"RETURN collect({e.projection(c, consequences, c_fields)}) AS items }}")
        items = "items"
    return (f"{stakeholders(s, by_id=by_id, by_study=by_study)} "
            f"MATCH (c:Consequence)-[:FOR_STAKEHOLDER]->({s}) MATCH (c)-[:OF_CONCEPT]->({k}) "
            f"WITH {s}, {k}, c.valence AS valence, collect(c) AS cs "
            f"{s_calls} {k_calls} {c_text} "
            f"RETURN {e.projection(s, stakeholder, s_fields)} AS stakeholder, "
            f"{e.projection(k, concept, k_fields)} AS concept, valence, size(cs) AS count, {items}, "
            f"{s}.name AS sort_s, {k}.name AS sort_k "
            "ORDER BY sort_s, sort_k, valence DESC").replace("  ", " ")


@dataclass(frozen=True)
class Part:
    """One read statement of a request, with its parameters and the columns its rows have."""

    statement: str
    params: Mapping[str, Any]
    columns: tuple[str, ...]
    #: the statement returns more columns than ``columns`` (a page's sort keys when no cursor is
    #: asked for): only these are read, so it is wrapped even alone
    trim: bool = False


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def combined(parts: Sequence[Part]) -> tuple[str, dict[str, Any]]:
    """The statements of ``parts`` as one statement and its parameters, so that a request with
    several root fields (or a list with its page, count and groups) is one round trip. Each part
    runs in its own ``CALL { … }`` (it sees nothing of the others) and its rows come back collected
    as maps in the order it gave them, in column ``part<i>`` of one row; each part's parameters are
    renamed ``$p<i>_<name>``. One part that reads all its columns is its own statement, unchanged.
    :func:`split_combined` turns the answer back into each part's rows."""
    if not _wrapped(parts):
        return parts[0].statement, dict(parts[0].params)
    text: list[str] = []
    params: dict[str, Any] = {}
    for i, part in enumerate(parts):
        def rename(m: re.Match[str], i: int = i, part: Part = part) -> str:
            return f"$p{i}_{m[1]}" if m[1] in part.params else m[0]
        params.update({f"p{i}_{k}": v for k, v in part.params.items()})
        row = ", ".join(f"{c}: {c}" for c in part.columns)
        # collected inside its own subquery, which has no grouping key: one row even when the
        # part has none (a grouping WITH over no rows would end the whole statement)
        text.append(f"CALL {{ CALL {{ {_PARAM.sub(rename, part.statement)} }} RETURN collect({{{row}}}) AS part{i} }}")
    return " ".join(text) + " RETURN " + ", ".join(f"part{i}" for i in range(len(parts))), params


def split_combined(parts: Sequence[Part], rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each part's rows from the rows of :func:`combined`'s statement."""
    if not _wrapped(parts):
        return [rows]
    row = rows[0] if rows else {}
    return [list(row.get(f"part{i}") or []) for i in range(len(parts))]


def _wrapped(parts: Sequence[Part]) -> bool:
    return len(parts) > 1 or parts[0].trim
