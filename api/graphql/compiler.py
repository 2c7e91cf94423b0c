"""A whole GraphQL query as one store statement, shaped in one pass.

The fields declare how they read the graph (``reads.py``); from those declarations and the request's
selections (fragments, aliases, ``@skip``/``@include`` and type conditions, as graphql-core collects
them) the compiler builds a tree (``graph/read_tree.py``) that the store answers in one statement,
and a plan that shapes the answer into the response: each value serialized by its GraphQL type, in
the request's order, with ``__typename`` from the node's label. Quote windows and paragraphs are cut
from their documents in the store (``read_tree.quote_window``), so only the pieces asked for travel.
Each root field prepares its statements (a list: its page, its count and each of its groups), and
every root's statements go to the store as one (``read_tree.combined``): a question is one round
trip, however many root fields and lists it has.

What the compiler cannot answer exactly it leaves to the resolvers: a field it has no declaration
for, arguments the resolvers would refuse (they give the error), a null where the schema promises a
value, a node whose label the field's type does not allow. The resolvers then run the request as
before, with the same answer (``tests/test_compiled.py`` compares both on every example).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    OperationType,
    get_named_type,
    is_abstract_type,
    located_error,
)
from graphql.execution.collect_fields import FieldDetails, collect_subfields
from graphql.execution.values import get_argument_values
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from kxgraph.api.graphql import listing
from kxgraph.api.graphql.errors import RequestError
from kxgraph.api.graphql.reads import READ
from kxgraph.graph import filtering, queries, read_tree
from kxgraph.graph.filtering import Connection, Via
from kxgraph.graph.read_tree import Child, Select
from kxgraph.ontology.vocabulary import NodeLabel as L
from kxgraph.ontology.vocabulary import label_of_id

__all__ = ["CompiledExecution", "matrix_parts"]

#: root fields that take one node by id, and the label they allow (None: any)
BY_ID: dict[str, L | None] = {
    "node": None, "study": L.Study, "concept": L.Concept, "continuum": L.Continuum,
    "stakeholder": L.Stakeholder, "event": L.Event, "document": L.SourceDocument, "quote": L.EvidenceQuote,
}
#: root fields that page through one label
LISTS: dict[str, L] = {
    "studies": L.Study, "concepts": L.Concept, "stakeholders": L.Stakeholder, "events": L.Event,
    "discussionPoints": L.DiscussionPoint, "consequences": L.Consequence, "evidenceQuotes": L.EvidenceQuote,
    "documents": L.SourceDocument,
}
_LABEL = "labels($v)[0]"


class NotCompiled(Exception):
    """The request is left to the resolvers."""


def matrix_parts(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The consequence matrix from ``queries.consequence_matrix``' rows (the resolver uses it too)."""
    concepts = {r["concept"]: r["concept_name"] for r in rows}
    stakeholders = {r["stakeholder"]: r["stakeholder_name"] for r in rows}
    return {
        "concepts": [{"id": k, "name": v} for k, v in sorted(concepts.items(), key=lambda x: x[1])],
        "stakeholders": [{"id": k, "name": v} for k, v in sorted(stakeholders.items(), key=lambda x: x[1])],
        "cells": [{"concept": {"id": r["concept"], "name": r["concept_name"]},
                   "stakeholder": {"id": r["stakeholder"], "name": r["stakeholder_name"]},
                   "positive": int(r["positive"]), "negative": int(r["negative"]), "total": int(r["total"])}
                  for r in rows],
    }


# --- plans --------------------------------------------------------------------------------------------
@dataclass
class Field:
    key: str  # the response key
    source: str  # where the value is in the store's map (the key) or in a plain answer (the field name)
    kind: str  # leaf | typename | anchor | node | connection
    nullable: bool
    serialize: Callable[[Any], Any] | None = None
    leaf_list: bool = False
    many: bool = False
    child: Plan | None = None
    request: listing.PageRequest | None = None  # a nested connection's
    numeric: tuple[str, ...] = ()  # its aggregate's numeric fields
    groups: tuple[str, ...] = ()  # its aggregate's groupBy response keys


@dataclass
class Plan:
    """Per runtime type, the fields to give in order; ``fixed``: the one type of a plain answer, or of a node
    whose label the statement names (``_label_known``)."""

    types: dict[str, list[Field]] = field(default_factory=dict)
    fixed: str | None = None


def _merge(a: Select, b: Select) -> None:
    """Adds ``b``'s values and children to ``a``; one key with two meanings cannot be compiled."""
    values = dict(a.values)
    for k, expr in b.values:
        if k in values and values[k] != expr:
            raise NotCompiled(f"{k} means two things")
        if k not in values:
            a.values.append((k, expr))
            values[k] = expr
    children = {c.key: c for c in a.children}
    for c in b.children:
        old = children.get(c.key)
        if old is None:
            a.children.append(c)
            children[c.key] = c
        elif type(old) is not type(c) or (old.walk, old.many) != (c.walk, c.many) or (
                isinstance(old, Connection) and isinstance(c, Connection) and (
                    old.spec() != c.spec() or old.groups != c.groups
                    or (None not in (old.figures, c.figures) and old.figures != c.figures))):
            # the figures and groups are read by position: one set of them per connection
            raise NotCompiled(f"{c.key} means two things")
        else:
            _merge(old.select, c.select)
            if isinstance(old, Connection) and isinstance(c, Connection):
                old.page = old.page or c.page
                old.figures = old.figures if old.figures is not None else c.figures


class _Compiler:
    def __init__(self, exe: StrawberryGraphQLCoreExecutionContext, store_types: frozenset[str]) -> None:
        self.exe = exe
        self.store_types = store_types
        #: the fields with arguments inside plain answers (a connection's groupBy), by path and key
        self.asked: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}

    def subfields(self, runtime: GraphQLObjectType, details: Sequence[FieldDetails]) -> dict[str, list[FieldDetails]]:
        e = self.exe
        collected = collect_subfields(e.schema, e.fragments, e.variable_values, e.operation, runtime,
                                      list(details), e.hide_suggestions)
        if collected.new_defer_usages:
            raise NotCompiled("@defer")
        return dict(collected.grouped_field_set)

    def args(self, fdef: Any, details: FieldDetails) -> dict[str, Any]:
        return get_argument_values(fdef, details.node, self.exe.variable_values, details.fragment_variable_values,
                                   self.exe.hide_suggestions)

    @staticmethod
    def leaf(typ: Any) -> tuple[Callable[[Any], Any], bool]:
        inner = typ.of_type if isinstance(typ, GraphQLNonNull) else typ
        if isinstance(inner, GraphQLList):
            item = inner.of_type.of_type if isinstance(inner.of_type, GraphQLNonNull) else inner.of_type
            if not isinstance(item, (GraphQLScalarType, GraphQLEnumType)):
                raise NotCompiled("list of objects")
            return item.serialize, True
        if not isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
            raise NotCompiled("not a leaf")
        return inner.serialize, False

    def node(self, typ: Any, details: Sequence[FieldDetails]) -> tuple[Plan, Select]:
        """The plan and the tree of a store node (any type among the ontology's)."""
        named = get_named_type(typ)
        runtimes = self.exe.schema.get_possible_types(named) if is_abstract_type(named) else [named]
        plan, select = Plan(), Select(values=[("__l", _LABEL)])
        for runtime in runtimes:
            fields, own = [], Select()
            for key, group in self.subfields(runtime, details).items():
                fields.append(self.node_field(runtime, key, group, own))
            _merge(select, own)
            plan.types[runtime.name] = fields
        return plan, select

    def node_field(self, runtime: GraphQLObjectType, key: str, group: list[FieldDetails], select: Select) -> Field:
        name = group[0].node.name.value
        if name == "__typename":
            return Field(key, "__l", "typename", False)
        if key.startswith("__"):
            raise NotCompiled("reserved key")
        fdef = runtime.fields[name]
        definition = (fdef.extensions or {}).get("strawberry-definition")
        read = definition.metadata.get(READ) if definition is not None else None
        if read is None:
            raise NotCompiled(f"{runtime.name}.{name} has no read declaration")
        nullable = not isinstance(fdef.type, GraphQLNonNull)
        args = self.args(fdef, group[0])
        if read.prop is not None:
            serialize, many = self.leaf(fdef.type)
            select.values.append((key, f"$v.`{read.prop}`"))
            return Field(key, key, "leaf", nullable, serialize, many)
        if read.computed == "label":
            serialize, _ = self.leaf(fdef.type)
            return Field(key, "__l", "leaf", nullable, serialize)
        if read.computed == "anchor_status":
            select.values.append((key, "$v.anchorStatus"))
            return Field(key, key, "anchor", nullable)
        if read.computed in ("window", "paragraph"):
            plan = self.plain(fdef.type, group, {})
            asked = {f.source for fields in plan.types.values() for f in fields}  # only these are cut
            select.values.append((key, read_tree.quote_window(args.get("chars", 200), asked)
                                  if read.computed == "window" else read_tree.quote_paragraph(asked)))
            return Field(key, key, "node", nullable, child=plan)
        if read.connection is not None:
            return self.connection(runtime, key, group, fdef, read, args, select)
        if read.walk is not None:
            if args:
                raise NotCompiled("arguments on a walk")
            plan, sub = self.node(fdef.type, group)
            last = read.walk.hops[-1].labels
            _label_known(plan, sub, last[0].value if len(last) == 1 else None)
            parent = L(runtime.name) if runtime.name in L.__members__ else None
            select.children.append(Child(key, read.walk, read.many, sub,
                                         single=not read.many and read.walk.at_most_one(parent)))
            return Field(key, key, "node", nullable, many=read.many, child=plan)
        raise NotCompiled(f"{runtime.name}.{name}")

    def connection(self, runtime: GraphQLObjectType, key: str, group: list[FieldDetails], fdef: Any, read: Any,
                   args: dict[str, Any], select: Select) -> Field:
        """A nested connection: its page and figures become a child of the parent's tree."""
        target = read.connection
        label = L(target) if target in L.__members__ else None
        parent = L(runtime.name) if runtime.name in L.__members__ else None
        if parent is None:
            raise NotCompiled(f"a connection on {runtime.name}")
        request = listing.parse(label, args, self.exe.context_value.settings.max_page_size, type_name=target,
                                via=Via(parent, read.walk))
        saved, self.asked = self.asked, {}
        nodes: dict[tuple[str, ...], Select] = {}
        try:
            plan = self.plain(fdef.type, group, nodes)
            asked = self.asked
        finally:
            self.asked = saved
        if set(asked) - {("aggregate",)}:
            raise NotCompiled("arguments inside a nested connection")
        groups = {k: str(getattr(a["field"], "value", a["field"])) for k, a in asked.get(("aggregate",), {}).items()}
        sub = Select(values=[("__l", _LABEL)])
        for path, part in nodes.items():
            if path not in (("edges", "node"), ("nodes",)):
                raise NotCompiled(str(path))
            _merge(sub, part)
        fields = next(iter(plan.types.values()))
        wanted = {f.source for f in fields}
        # the figures of the numeric fields the aggregate asks for, and only those
        numeric = listing.numeric_fields(target)
        asked_figures = {f.source for a in fields if a.source == "aggregate" and a.child is not None
                         for f in next(iter(a.child.types.values()))}
        figures = tuple(n for n in numeric if n in asked_figures)
        select.children.append(listing.nested(request, sub, key, page=bool(wanted & {"edges", "nodes", "pageInfo"}),
                                              aggregate=bool(wanted & {"totalCount", "aggregate"}),
                                              numeric=figures, groups=groups))
        return Field(key, key, "connection", False, child=plan, request=request, numeric=figures,
                     groups=tuple(groups))

    def plain(self, typ: Any, details: Sequence[FieldDetails], nodes: dict[tuple[str, ...], Select],
              path: tuple[str, ...] = ()) -> Plan:
        """The plan of an answer built in Python (a connection, a group, a window); the trees of the
        store nodes inside it are merged into ``nodes`` by their path of field names."""
        runtime = get_named_type(typ)
        if not isinstance(runtime, GraphQLObjectType):
            raise NotCompiled("abstract plain type")
        fields = []
        for key, group in self.subfields(runtime, details).items():
            name = group[0].node.name.value
            if name == "__typename":
                fields.append(Field(key, name, "typename", False))
                continue
            fdef = runtime.fields[name]
            args = self.args(fdef, group[0]) if fdef.args else {}
            if args:
                if name != "groupBy":
                    raise NotCompiled("arguments inside a plain answer")
                asked = self.asked.setdefault(path, {})
                if asked.get(key, args) != args:
                    raise NotCompiled(f"{key} means two things")
                asked[key] = args
                fields.append(Field(key, key, "node", False, many=True, child=self.plain(fdef.type, group, nodes)))
                continue
            nullable = not isinstance(fdef.type, GraphQLNonNull)
            inner = get_named_type(fdef.type)
            many = isinstance(fdef.type.of_type if isinstance(fdef.type, GraphQLNonNull) else fdef.type, GraphQLList)
            if inner.name in self.store_types:
                plan, sub = self.node(fdef.type, group)
                here = (*path, name)
                if here in nodes:
                    _merge(nodes[here], sub)
                else:
                    nodes[here] = sub
                fields.append(Field(key, name, "node", nullable, many=many, child=plan))
            elif isinstance(inner, GraphQLObjectType):
                fields.append(Field(key, name, "node", nullable, many=many,
                                    child=self.plain(fdef.type, group, nodes, (*path, name))))
            else:
                serialize, leaf_list = self.leaf(fdef.type)
                fields.append(Field(key, name, "leaf", nullable, serialize, leaf_list))
        return Plan(types={runtime.name: fields}, fixed=runtime.name)


def _label_known(plan: Plan, select: Select, label: str | None) -> None:
    """Where the statement's pattern names the node's one label (a type the field allows), the store
    need not say the label of each node (``__l``) unless a field gives it (``kind``)."""
    if label is None or label not in plan.types or any(
            f.source == "__l" and f.kind != "typename" for f in plan.types[label]):
        return
    plan.fixed = label
    select.values.remove(("__l", _LABEL))


# --- shaping ------------------------------------------------------------------------------------------
class _Inexact(Exception):
    """The answer is not one the compiled path can give exactly: the resolvers answer instead."""


def _shape(value: dict[str, Any], plan: Plan) -> dict[str, Any]:
    tname = plan.fixed or value.get("__l")
    fields = plan.types.get(tname)  # type: ignore[arg-type]
    if fields is None:
        raise _Inexact(f"a {tname} where the type does not allow one")
    out: dict[str, Any] = {}
    for f in fields:
        v = value.get(f.source)
        if f.kind == "leaf":
            if v is not None:
                v = [f.serialize(x) for x in v] if f.leaf_list else f.serialize(v)  # type: ignore[misc]
        elif f.kind == "typename":
            v = tname
        elif f.kind == "node":
            assert f.child is not None
            if f.many:
                v = [_shape(x, f.child) for x in v or []]
            elif v is not None:
                v = _shape(v, f.child)
        elif f.kind == "connection":
            assert f.child is not None and f.request is not None
            v = _shape(listing.nested_answer(f.request, v or {}, f.numeric, f.groups), f.child)
        else:  # the anchor status
            from kxgraph.api.graphql.types import AnchorStatus

            v = AnchorStatus(v or "exact").name
        if v is None and not f.nullable:
            raise _Inexact(f"null for {f.key}")
        out[f.key] = v
    return out


# --- root fields --------------------------------------------------------------------------------------
@dataclass
class Prepared:
    """A root field's statements for one request's arguments, and how its answer is made from their
    rows (one list of rows per part, in order). No parts: the answer needs no read (``finish([])``)."""

    parts: list[read_tree.Part]
    finish: Callable[[list[list[dict[str, Any]]]], Any]


Prepare = Callable[[dict[str, Any], Any], Prepared]  # (arguments, settings) -> what to read


@dataclass
class _Root:
    key: str
    name: str
    plan: Plan
    prepare: Prepare
    many: bool = False
    nullable: bool = True


@dataclass
class _Compiled:
    """One operation compiled, for the variable values its selections depend on."""

    document: Any  # kept: the cache is keyed by its identity
    roots: list[_Root] | None  # None: the resolvers answer


class CompiledExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, which hands a query it can compile to the store in one statement,
    and everything else to the resolvers."""

    def execute_collected_root_fields(self, root_type: GraphQLObjectType, root_value: Any, grouped_field_set: Any,
                                      serially: bool, new_defer_usages: Sequence[Any]) -> Any:
        fallback = (root_type, root_value, grouped_field_set, serially, new_defer_usages)
        if self.operation.operation != OperationType.QUERY or new_defer_usages:
            return super().execute_collected_root_fields(*fallback)
        roots = _compiled(self, root_type, grouped_field_set)
        if roots is None:
            return super().execute_collected_root_fields(*fallback)
        return self._answer(roots, grouped_field_set, fallback)

    async def _answer(self, roots: list[_Root], grouped_field_set: Any, fallback: tuple[Any, ...]) -> Any:
        store, settings = self.context_value.store, self.context_value.settings
        try:
            prepared: list[Prepared | Exception] = []
            for root in roots:
                group = grouped_field_set[root.key]
                fdef = self.schema.query_type.fields[root.name]  # type: ignore[union-attr]
                args = get_argument_values(fdef, group[0].node, self.variable_values,
                                           group[0].fragment_variable_values, self.hide_suggestions)
                try:
                    prepared.append(root.prepare(args, settings))
                except (NotCompiled, RequestError) as exc:  # the resolvers give the error
                    raise _Inexact(str(exc)) from None
                except Exception as exc:
                    prepared.append(exc)
            answers = await self._read(store, prepared)
            data: dict[str, Any] = {}
            for root, answer in zip(roots, answers, strict=True):
                if isinstance(answer, (NotCompiled, RequestError, _Inexact)):
                    raise _Inexact(str(answer))
                if isinstance(answer, Exception):
                    error = located_error(answer, [d.node for d in grouped_field_set[root.key]], [root.key])
                    if not root.nullable:
                        raise error
                    self.collected_errors.add(error, None)
                    data[root.key] = None
                elif root.many:
                    data[root.key] = [_shape(a, root.plan) for a in answer]
                else:
                    data[root.key] = _shape(answer, root.plan) if answer is not None else None
        except _Inexact:
            result = super().execute_collected_root_fields(*fallback)
            return await result if self.is_awaitable(result) else result
        return data

    @staticmethod
    async def _read(store: Any, prepared: list[Prepared | Exception]) -> list[Any]:
        """Every root's parts read in one statement (``read_tree.combined``); each root's answer,
        or the error that stopped it."""
        parts = [part for p in prepared if isinstance(p, Prepared) for part in p.parts]
        rows: list[list[dict[str, Any]]] | Exception = []
        if parts:
            try:
                statement, params = read_tree.combined(parts)
                rows = read_tree.split_combined(parts, await store.read(statement, params))
            except Exception as exc:
                rows = exc
        answers: list[Any] = []
        at = 0
        for p in prepared:
            if not isinstance(p, Prepared):
                answers.append(p)
                continue
            if isinstance(rows, Exception) and p.parts:
                answers.append(rows)
                continue
            mine = [] if isinstance(rows, Exception) else rows[at:at + len(p.parts)]
            at += len(p.parts)
            try:
                answers.append(p.finish(mine))
            except Exception as exc:
                answers.append(exc)
        return answers


#: compiled operations by (document, operation, the values of variables outside root arguments)
_CACHE: dict[tuple[int, int, str], _Compiled] = {}
_CACHE_SIZE = 256


def _compiled(exe: CompiledExecution, root_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Root] | None:
    document = exe.operation
    inner = _by_identity(document)
    for fragment in exe.fragments.values():
        inner = inner | _by_identity(fragment.definition)
    values = exe.variable_values.coerced
    key = (id(document), id(root_type), repr(sorted((k, repr(values.get(k))) for k in inner)))
    entry = _CACHE.get(key)
    if entry is None or entry.document is not document:
        try:
            roots: list[_Root] | None = [_compile_root(exe, root_type, k, g) for k, g in grouped_field_set.items()]
        except (NotCompiled, RequestError):
            roots = None
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        entry = _CACHE[key] = _Compiled(document, roots)
    return entry.roots


_SEEN: dict[int, tuple[Any, frozenset[str]]] = {}


def _by_identity(node: Any) -> frozenset[str]:
    """``_variables(node)``, remembered for this very node (AST nodes hash and compare by structure,
    which costs a walk of the tree)."""
    hit = _SEEN.get(id(node))
    if hit is None or hit[0] is not node:
        if len(_SEEN) >= 4 * _CACHE_SIZE:
            _SEEN.clear()
        hit = _SEEN[id(node)] = (node, _variables(node))
    return hit[1]


def _variables(node: Any) -> frozenset[str]:
    """The variables the compiled plan of ``node`` (an operation or a fragment) depends on: every
    variable it uses, but for an operation's root field arguments, which are read at each run."""
    from graphql import FieldNode, OperationDefinitionNode, visit
    from graphql.language import Visitor

    skip = {id(arg) for sel in node.selection_set.selections if isinstance(sel, FieldNode)
            for arg in sel.arguments or ()} if isinstance(node, OperationDefinitionNode) else set()
    found: set[str] = set()

    class Find(Visitor):
        def enter_argument(self, arg: Any, *_: Any) -> Any:
            return False if id(arg) in skip else None

        def enter_variable(self, var: Any, key: Any, parent: Any, *_: Any) -> Any:
            if getattr(parent, "kind", "") != "variable_definition":
                found.add(var.name.value)

    visit(node, Find())
    return frozenset(found)


def _compile_root(exe: CompiledExecution, root_type: GraphQLObjectType, key: str, group: list[FieldDetails]) -> _Root:
    name = group[0].node.name.value
    fdef = root_type.fields.get(name)
    if fdef is None or name.startswith("__"):
        raise NotCompiled(name)
    c = _Compiler(exe, store_types())
    nullable = not isinstance(fdef.type, GraphQLNonNull)
    if name in BY_ID:
        return _by_id(c, key, name, group, fdef, BY_ID[name], nullable)
    if name in LISTS:
        return _list(c, key, name, group, fdef, LISTS[name])
    if name == "stakeholderConsequences":
        return _groups(c, key, name, group, fdef)
    if name == "consequenceMatrix":
        def matrix(args: dict[str, Any], _: Any) -> Prepared:
            study = args.get("study")
            part = read_tree.Part(queries.consequence_matrix(by_study=study is not None), {"study": study},
                                  queries.CONSEQUENCE_MATRIX_COLUMNS)
            return Prepared([part], lambda rows: matrix_parts(rows[0]))
        return _Root(key, name, c.plain(fdef.type, group, {}), matrix, nullable=nullable)
    raise NotCompiled(name)


def _by_id(c: _Compiler, key: str, name: str, group: list[FieldDetails], fdef: Any, allowed: L | None,
           nullable: bool) -> _Root:
    plan, select = c.node(fdef.type, group)
    _label_known(plan, select, allowed.value if allowed is not None else None)
    statements: dict[L, tuple[str, dict[str, Any]]] = {}

    def prepare(args: dict[str, Any], _: Any) -> Prepared:
        ident = str(args["id"])
        label = label_of_id(ident)
        if label is None or (allowed is not None and label is not allowed):
            return Prepared([], lambda _: None)
        if label not in statements:
            try:
                statements[label] = filtering.tree_by_id(listing.catalogue(), label, select)
            except filtering.FilterError as exc:
                raise NotCompiled(str(exc)) from None
        statement, params = statements[label]
        part = read_tree.Part(statement, {**params, "id": ident}, ("node",))
        return Prepared([part], lambda rows: rows[0][0]["node"] if rows[0] else None)
    return _Root(key, name, plan, prepare, nullable=nullable)


def _list(c: _Compiler, key: str, name: str, group: list[FieldDetails], fdef: Any, label: L) -> _Root:
    nodes: dict[tuple[str, ...], Select] = {}
    plan = c.plain(fdef.type, group, nodes)
    select = Select(values=[("__l", _LABEL)])
    for path, sub in nodes.items():
        if path not in (("edges", "node"), ("nodes",)):
            raise NotCompiled(str(path))
        _merge(select, sub)
    top = next(iter(plan.types.values()))
    wanted = {f.source for f in top}
    paging = bool(wanted & {"edges", "nodes", "pageInfo"})
    cursors = _asks_cursors(top)
    grouped = c.asked.get(("aggregate",), {})
    if set(c.asked) - {("aggregate",)}:
        raise NotCompiled("arguments inside a plain answer")

    counting = "totalCount" in wanted or "aggregate" in wanted
    numeric = _numeric_asked(top, listing.numeric_fields(label.value))

    def prepare(args: dict[str, Any], settings: Any) -> Prepared:
        request = listing.parse(label, args, settings.max_page_size)
        parts: list[read_tree.Part] = []
        page = figures = None
        # a first page counts the nodes it sorts: no second pass over them for the count
        fused = paging and counting and not numeric and request.cursor is None
        if paging:
            page = listing.page_part(request, select, cursors, total=fused)
            parts.append(page)
        if counting and not fused:
            figures, names = listing.aggregate_part(request, numeric)
            parts.append(figures)
        parts += [listing.groups_part(request, getattr(a["field"], "value", a["field"])) for a in grouped.values()]

        def finish(rows: list[list[dict[str, Any]]]) -> Any:
            rest = iter(rows)
            out: dict[str, Any] = {"totalCount": None}
            counted: dict[str, Any] | None = None
            if page is not None:
                page_rows = next(rest)
                read = listing.page_from(request, page, page_rows)
                out.update(edges=read.edges, nodes=[e["node"] for e in read.edges], pageInfo=read.info())
                if fused:
                    counted = {"count": listing.total_from(page_rows)}
            if figures is not None:
                counted = listing.aggregate_from(names, next(rest))
            if counted is not None:
                out["totalCount"] = counted["count"]
                if "aggregate" in wanted:
                    out["aggregate"] = {**counted, **{k: listing.groups_from(next(rest)) for k in grouped}}
            return out
        return Prepared(parts, finish)
    return _Root(key, name, plan, prepare, nullable=False)


def _numeric_asked(fields: list[Field], numeric: dict[str, str]) -> tuple[str, ...]:
    """The numeric fields a connection's ``aggregate`` asks figures of."""
    asked = {g.source for f in fields if f.source == "aggregate" and f.child is not None
             for fs in f.child.types.values() for g in fs}
    return tuple(n for n in numeric if n in asked)


def _groups(c: _Compiler, key: str, name: str, group: list[FieldDetails], fdef: Any) -> _Root:
    nodes: dict[tuple[str, ...], Select] = {}
    plan = c.plain(fdef.type, group, nodes)
    for path in nodes:
        if path not in (("stakeholder",), ("concept",), ("consequences",)):
            raise NotCompiled(str(path))
    parts = {}
    for part in ("stakeholder", "concept", "consequences"):
        parts[part] = Select(values=[("__l", _LABEL)])
        if (part,) in nodes:
            _merge(parts[part], nodes[(part,)])
    e = filtering.TreeEmitter(listing.catalogue())
    statements = {(by_id, by_study): read_tree.consequence_groups(
        parts["stakeholder"], parts["concept"], parts["consequences"] if ("consequences",) in nodes else None, e,
        by_id=by_id, by_study=by_study) for by_id in (False, True) for by_study in (False, True)}

    def prepare(args: dict[str, Any], _: Any) -> Prepared:
        stakeholder, study = args.get("stakeholder"), args.get("study")
        params = {**e.params, "stakeholder": str(stakeholder) if stakeholder else None, "study": study}
        part = read_tree.Part(statements[(bool(stakeholder), study is not None)], params,
                              ("stakeholder", "concept", "valence", "count", "items"))
        return Prepared([part], lambda rows: [
            {"stakeholder": r["stakeholder"], "concept": r["concept"], "valence": r["valence"],
             "count": r["count"], "consequences": r["items"]} for r in rows[0]])
    return _Root(key, name, plan, prepare, many=True, nullable=False)


def _asks_cursors(fields: list[Field]) -> bool:
    """Whether a connection's answer holds a cursor (an edge's, or the page's first or last)."""
    for f in fields:
        if f.child is not None and f.source in ("edges", "pageInfo"):
            inner = {g.source for fs in f.child.types.values() for g in fs}
            if inner & {"cursor", "startCursor", "endCursor"}:
                return True
    return False




def store_types() -> frozenset[str]:
    """The GraphQL types of store nodes: one per label, and their interfaces."""
    return frozenset(listing.store_classes())
