"""What a GraphQL request may cost, measured before it runs, in time linear in the document.

One walk over the operation's selections measures its **depth**, its **aliases** and its **cost**:
the number of fields it would resolve, counting list fan-out — a list field (or the ``edges`` and
``nodes`` of a connection) multiplies what is below it by its page size (``first``, ``last`` or
``limit``, from the request or the field's default) or, for a list without one, by
:data:`UNPAGED_FAN_OUT`. Each fragment is measured once and remembered, and a fragment spread twice
in one selection counts once (as graphql-core executes it), so no document can make this walk
exponential — the attack it closes was 6 spreads × 12 levels of fragments.

:class:`RequestBudget` refuses an operation over a limit before anything is executed, with
``extensions.code`` ``DEPTH``, ``ALIASES`` or ``COST``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from kxgraph.api.graphql.pagination import DEFAULT_PAGE_SIZE

__all__ = ["UNPAGED_FAN_OUT", "Measure", "RequestBudget", "measure_operation"]

#: what a list without a page size is assumed to hold (nested lists such as a concept's quotes)
UNPAGED_FAN_OUT = 10
PAGE_ARGUMENTS = ("first", "last", "limit")
CONNECTION_LISTS = ("edges", "nodes")
FILTER_ARGUMENTS = ("where", "sort")


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(max(self.depth, other.depth), self.aliases + other.aliases, self.cost + other.cost)


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.memo: dict[tuple[str, int | None], Measure] = {}
        self.active: set[str] = set()

    def selections(self, node: SelectionSetNode | None, parent: GraphQLNamedType | None,
                   page: int | None) -> Measure:
        total = Measure()
        if node is None:
            return total
        spread: set[str] = set()
        for sel in node.selections:
            if isinstance(sel, FieldNode):
                total += self.field(sel, parent, page)
            elif isinstance(sel, InlineFragmentNode):
                cond = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                total += self.selections(sel.selection_set, cond, page)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name in spread:  # spread twice in one selection: executed once
                    continue
                spread.add(name)
                total += self.fragment(name, page)
        return total

    def fragment(self, name: str, page: int | None) -> Measure:
        key = (name, page)
        if key in self.memo:
            return self.memo[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.active:  # unknown or cyclic: validation reports it
            return Measure()
        self.active.add(name)
        try:
            result = self.selections(definition.selection_set,
                                     self.schema.get_type(definition.type_condition.name.value), page)
        finally:
            self.active.discard(name)
        self.memo[key] = result
        return result

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> Measure:
        name = node.name.value
        if name.startswith("__"):  # introspection: bounded by the schema's size (off in production)
            return Measure(depth=1, aliases=1 if node.alias else 0, cost=1)
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(name)
        own_page = self._page(node, definition)
        field_type = definition.type if definition is not None else None
        inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        is_list = isinstance(inner, GraphQLList)
        named = get_named_type(field_type) if field_type is not None else None
        # a page size applies to the list itself, or to the edges/nodes of the connection it returns
        fan = 1
        below_page = None
        if is_list:
            fan = own_page or (page if name in CONNECTION_LISTS and page else None) or UNPAGED_FAN_OUT
        elif own_page is not None and isinstance(named, GraphQLObjectType):
            below_page = own_page
        child = self.selections(node.selection_set, named, below_page)
        reads = self._filters(node, definition)
        return Measure(depth=1 + child.depth, aliases=(1 if node.alias else 0) + child.aliases,
                       cost=1 + fan * (child.cost + reads))

    def _filters(self, node: FieldNode, definition: Any) -> int:
        """What a ``where`` or ``sort`` argument reads per listed node."""
        total = 0
        for arg in node.arguments or ():
            arg_def = definition.args.get(arg.name.value) if definition is not None else None
            if arg_def is not None and arg.name.value in FILTER_ARGUMENTS:
                total += self._filter(arg.value, get_named_type(arg_def.type))
        return total

    def _filter(self, value: Any, typ: Any) -> int:
        """One per condition; a condition on related nodes reads them: one related node, or
        :data:`UNPAGED_FAN_OUT` for a set (``some``/``none``/``all``), times what its own filter reads."""
        if isinstance(value, VariableNode):
            value = self.variables.get(value.name.value)
        if isinstance(value, ListValueNode):
            value = value.values
        if isinstance(value, list):
            return sum(self._filter(v, typ) for v in value)
        if isinstance(value, ObjectValueNode):
            items = [(f.name.value, f.value) for f in value.fields]
        elif isinstance(value, dict):
            items = list(value.items())
        else:
            return 0
        fields = getattr(typ, "fields", {})
        total = 0
        for name, v in items:
            field = fields.get(name)
            if field is None:
                continue
            inner = get_named_type(field.type)
            if not isinstance(inner, GraphQLInputObjectType) or inner.name.endswith("Filter"):
                total += 1
            elif name in ("AND", "OR", "NOT"):
                total += self._filter(v, inner)
            elif typ.name.endswith("ListWhere"):
                total += UNPAGED_FAN_OUT * (1 + self._filter(v, inner))
            elif inner.name.endswith("ListWhere"):
                total += self._filter(v, inner)
            else:
                total += 1 + self._filter(v, inner)
        return total

    def _page(self, node: FieldNode, definition: Any) -> int | None:
        for arg in node.arguments or ():
            if arg.name.value in PAGE_ARGUMENTS:
                value = arg.value
                if isinstance(value, IntValueNode):
                    return _positive(int(value.value))
                if isinstance(value, VariableNode):
                    var = value.name.value
                    raw = self.variables.get(var, self.defaults.get(var))
                    if isinstance(raw, int):
                        return _positive(raw)
        if definition is not None:
            for name in PAGE_ARGUMENTS:
                arg_def = definition.args.get(name)
                if arg_def is not None and isinstance(arg_def.default_value, int):
                    return _positive(arg_def.default_value)
            if "first" in definition.args and "last" in definition.args:  # a connection: 20 without either
                return DEFAULT_PAGE_SIZE
        return None


def _positive(value: int) -> int:
    return max(1, min(int(value), 10_000))


def _variable_defaults(op: OperationDefinitionNode) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for definition in op.variable_definitions or ():
        if isinstance(definition.default_value, IntValueNode):
            out[definition.variable.name.value] = int(definition.default_value.value)
    return out


def measure_operation(schema: GraphQLSchema, document: Any, variables: Mapping[str, Any] | None = None,
                      operation_name: str | None = None) -> Iterator[tuple[str, Measure]]:
    """``(operation name, measure)`` of the operation that runs (every operation without a name)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    for op in document.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        name = op.name.value if op.name else ""
        if operation_name and name != operation_name:
            continue
        root = schema.get_root_type(op.operation)
        walker = _Walker(schema, fragments, variables or {}, _variable_defaults(op))
        yield name, walker.selections(op.selection_set, root, None)


class RequestBudget(SchemaExtension):
    """Refuse an operation deeper, with more aliases or costlier than the settings allow, before
    it runs (an ``on_execute`` step: variables are known there, and it is cheap)."""

    max_depth = 12
    max_aliases = 30
    max_cost = 20_000

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        if document is not None and not ec.result:
            problem = _nul_in(document, ec.variables) or self._problem(document, ec.variables, ec.operation_name)
            if problem is not None:
                ec.result = GraphQLExecutionResult(data=None, errors=[problem])
        yield

    def _problem(self, document: Any, variables: Any, operation_name: str | None) -> GraphQLError | None:
        schema = self.execution_context.schema._schema
        for m in _measures(schema, document, variables, operation_name):
            if m.depth > self.max_depth:
                return GraphQLError(f"the query exceeds maximum operation depth of {self.max_depth} (it is {m.depth})",
                                    extensions={"code": "DEPTH"})
            if m.aliases > self.max_aliases:
                return GraphQLError(f"{m.aliases} aliases found; at most {self.max_aliases} are allowed",
                                    extensions={"code": "ALIASES"})
            if m.cost > self.max_cost:
                return GraphQLError(
                    f"the query would cost {m.cost:,} (fields times list sizes); at most {self.max_cost:,} is allowed: "
                    "ask for smaller pages (first/limit) or fewer nested lists", extensions={"code": "COST"})
        return None


#: measures by (document, operation, variables), and whether a document has a NUL in a literal, kept
#: for the very document object (the parser cache hands the same one to each request of one text;
#: AST nodes compare by structure, which costs a walk)
_MEASURED: dict[tuple[int, str | None, str], tuple[Any, list[Measure]]] = {}
_LITERAL_NUL: dict[int, tuple[Any, bool]] = {}
_KEEP = 512


def _measures(schema: GraphQLSchema, document: Any, variables: Any, operation_name: str | None) -> list[Measure]:
    import json

    key = (id(document), operation_name, json.dumps(variables or {}, sort_keys=True, default=repr))
    hit = _MEASURED.get(key)
    if hit is None or hit[0] is not document:
        if len(_MEASURED) >= _KEEP:
            _MEASURED.clear()
        hit = _MEASURED[key] = (document, [m for _, m in measure_operation(schema, document, variables,
                                                                           operation_name)])
    return hit[1]


def _nul_in_literals(document: Any) -> bool:
    hit = _LITERAL_NUL.get(id(document))
    if hit is None or hit[0] is not document:
        if len(_LITERAL_NUL) >= _KEEP:
            _LITERAL_NUL.clear()
        hit = _LITERAL_NUL[id(document)] = (document, any("\x00" in n.value for n in _string_literals(document)))
    return hit[1]


def _nul_in(document: Any, variables: Any) -> GraphQLError | None:
    """No store is asked anything with a NUL character in it (FalkorDB would read the statement as
    ending there; Neo4j would match it): the same refusal on both."""
    stack: list[Any] = [variables or {}]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                break
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    else:
        if not _nul_in_literals(document):
            return None
    return GraphQLError("an argument holds a NUL character, which kxgraph never stores nor searches for",
                        extensions={"code": "BAD_INPUT"})


def _string_literals(document: Any) -> Iterator[StringValueNode]:
    from graphql import visit
    from graphql.language import Visitor

    found: list[StringValueNode] = []

    class Strings(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            found.append(node)

    visit(document, Strings())
    return iter(found)


def budget(max_depth: int, max_aliases: int, max_cost: int) -> type[RequestBudget]:
    """The extension with the settings' limits."""
    return type("ConfiguredRequestBudget", (RequestBudget,),
                {"max_depth": max_depth, "max_aliases": max_aliases, "max_cost": max_cost})
