"""A picture: nodes, edges, a legend and options, drawn by vis-network. Built with pyvis's network
model, rendered with the project's own template (autoescaped; vis-network from the app's static
files, or inlined in standalone files): no page refers to an http(s) URL."""

from __future__ import annotations

import html
import math
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kxgraph.api.viz.style import style_of

__all__ = ["GROUP_ABOVE", "LAYOUT_ON_SERVER_ABOVE", "Picture", "vis_asset"]

#: past this many nodes, positions are computed here and physics is off (see shared design notes)
LAYOUT_ON_SERVER_ABOVE = 300
#: past this many nodes, nodes of one kind with exactly the same links are drawn as one group
GROUP_ABOVE = 200
#: the fewest alike nodes worth a group
MIN_GROUP = 3
MAX_LABEL = 40
#: vis-network shapes that draw their label inside themselves
LABEL_INSIDE = ("box", "database", "ellipse", "circle", "text")
MAX_TITLE = 600


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    def luminance(colour: str) -> float:
        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (channel(int(colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _plural(kind: str, n: int) -> str:
    """``EvidenceQuote`` -> "evidence quotes", as a count says it."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in kind).strip()
    if n == 1:
        return words
    if words.endswith("person"):
        return words[:-6] + "people"
    if words.endswith("y") and words[-2:-1] not in "aeiou":
        return words[:-1] + "ies"
    return words + "s"


def _text_colour(background: str) -> str:
    """White or near-black, whichever has the more contrast on ``background`` (#rrggbb)."""
    return max(("#ffffff", "#1f2933"), key=lambda text: contrast(background, text))


@lru_cache(maxsize=4)
def vis_asset(name: str) -> Path:
    """vis-network's files as shipped inside the pyvis package (9.1.2)."""
    import pyvis

    path = Path(pyvis.__file__).parent / "lib" / "vis-9.1.2" / name
    if not path.is_file():  # pragma: no cover - a broken pyvis install
        raise FileNotFoundError(path)
    return path


@dataclass
class Picture:
    kind: str
    title: str
    focus: str | None = None
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    edge_legend: list[tuple[str, str]] = field(default_factory=list)
    #: the picture stops at a limit: there is more to show
    cut: bool = False
    _ids: set[str] = field(default_factory=set)

    # --- building -------------------------------------------------------------------------------
    def node(self, ident: str, kind: str, label: str, detail: str = "", *, size: int | None = None,
             url: str | None = None, level: int | None = None) -> None:
        if ident in self._ids:
            return
        self._ids.add(ident)
        colour, shape = style_of(kind)
        # labels inside the shape take the colour that reads on it; the others sit below, on white
        font = {"color": _text_colour(colour) if shape in LABEL_INSIDE else "#1f2933"}
        title = _short(f"{kind}: {label}" + (f"\n{detail}" if detail else ""), MAX_TITLE)
        self.nodes.append({"id": ident, "label": _short(label, MAX_LABEL), "title": title, "kind": kind,
                           "color": colour, "shape": shape, "font": font, "name": label,
                           "detail": _short(detail, MAX_TITLE), "url": url or f"/node/{ident}",
                           **({"size": size} if size else {}), **({"level": level} if level is not None else {})})

    def edge(self, src: str, dst: str, label: str = "", *, colour: str | None = None, width: float = 1.0,
             title: str = "", dashed: bool = False) -> None:
        if src in self._ids and dst in self._ids:
            e: dict[str, Any] = {"from": src, "to": dst, "label": label, "width": width, "arrows": "to",
                                 "title": title or label}
            if colour:
                e["color"] = colour
            if dashed:
                e["dashes"] = True
            self.edges.append(e)

    # --- output ---------------------------------------------------------------------------------
    def legend(self) -> list[dict[str, str]]:
        kinds = sorted({n["kind"] for n in self.nodes})
        items = [{"kind": k, "color": style_of(k)[0], "shape": style_of(k)[1]} for k in kinds]
        items += [{"kind": label, "color": colour, "shape": "dashed" if "negative" in label else "line", "edge": True}
                  for label, colour in self.edge_legend]
        return items

    def network_data(self) -> dict[str, Any]:
        """Nodes, edges and options through pyvis's network model; big pictures laid out here."""
        from pyvis.network import Network

        net = Network(directed=True, height="650px", width="100%", cdn_resources="in_line")
        net.nodes = self.nodes  # lists given directly: pyvis's add_edge scans lists (slow when big)
        net.edges = self.edges
        big = len(self.nodes) > LAYOUT_ON_SERVER_ABOVE
        layered = bool(self.nodes) and all("level" in n for n in self.nodes)
        groups = self._groups() if len(self.nodes) > GROUP_ABOVE else []
        if big and not layered:
            for n, (x, y) in zip(self.nodes, self._radial_layout(), strict=True):
                n["x"], n["y"] = x, y
        net.options = {
            "physics": {"enabled": not big and not layered, "solver": "barnesHut",
                        "barnesHut": {"gravitationalConstant": -6000, "springLength": 140},
                        "stabilization": {"enabled": True, "iterations": 200}},
            "edges": {"smooth": False, "font": {"size": 10, "align": "middle"}},
            "layout": {"improvedLayout": False, "randomSeed": 7,
                       **({"hierarchical": {"enabled": True, "direction": "LR", "sortMethod": "directed",
                                            "levelSeparation": 340, "nodeSpacing": 70}} if layered else {})},
            "interaction": {"hover": True, "tooltipDelay": 150},
            "nodes": {"font": {"size": 13}},
        }
        nodes, edges, _heading, height, width, options = net.get_network_data()
        import json

        return {"kind": self.kind, "title": self.title, "focus": self.focus, "nodes": nodes, "edges": edges,
                "options": json.loads(options), "legend": self.legend(), "height": height, "width": width,
                "groups": groups}

    def _groups(self) -> list[dict[str, Any]]:
        """Nodes of one kind that have exactly the same links (same other end, label and direction)
        are told apart by nothing but their names: drawn as one group (vis-network's clusters), the
        picture keeps every link and loses only the names, which opening the group gives back.
        Marks each member with its group (``kxGroup``); the focus is never grouped."""
        links: dict[str, set[tuple[str, str, str]]] = {n["id"]: set() for n in self.nodes}
        for e in self.edges:
            links[e["from"]].add(("to", e["to"], e.get("label", "")))
            links[e["to"]].add(("from", e["from"], e.get("label", "")))
        alike: dict[tuple[str, frozenset[tuple[str, str, str]]], list[dict[str, Any]]] = {}
        for n in self.nodes:
            if n["id"] != self.focus and links[n["id"]]:
                alike.setdefault((n["kind"], frozenset(links[n["id"]])), []).append(n)
        groups: list[dict[str, Any]] = []
        for (kind, _), members in alike.items():
            if len(members) < MIN_GROUP:
                continue
            ident = f"g{len(groups)}"
            for n in members:
                n["kxGroup"] = ident
            first = members[0]
            label = f"{len(members)} {_plural(kind, len(members))}"
            groups.append({"id": ident, "kind": kind, "count": len(members), "label": label,
                           "color": first["color"], "shape": first["shape"], "font": first["font"],
                           **({"level": first["level"]} if "level" in first else {}),
                           "names": [m["name"] for m in members[:5]]})
        return groups

    def _radial_layout(self) -> list[tuple[float, float]]:
        """Rings by distance from the focus (or the best-connected node): O(nodes + edges)."""
        index = {n["id"]: i for i, n in enumerate(self.nodes)}
        adj: dict[str, list[str]] = {n["id"]: [] for n in self.nodes}
        for e in self.edges:
            adj[e["from"]].append(e["to"])
            adj[e["to"]].append(e["from"])
        root = self.focus if self.focus in adj else max(adj, key=lambda k: len(adj[k]))
        depth = {root: 0}
        queue = deque([root])
        while queue:
            cur = queue.popleft()
            for nxt in adj[cur]:
                if nxt not in depth:
                    depth[nxt] = depth[cur] + 1
                    queue.append(nxt)
        far = max(depth.values(), default=0) + 1
        for ident in adj:
            depth.setdefault(ident, far)
        rings: dict[int, list[str]] = {}
        for ident, d in depth.items():
            rings.setdefault(d, []).append(ident)
        pos = [(0.0, 0.0)] * len(self.nodes)
        for d, members in rings.items():
            radius = 0 if d == 0 else 120 * d + 6 * math.sqrt(len(members)) * d
            # a group's members side by side: drawn as one, the group sits where they were
            for k, ident in enumerate(sorted(members, key=lambda i: (self.nodes[index[i]].get("kxGroup", ""), i))):
                angle = 2 * math.pi * k / max(1, len(members))
                pos[index[ident]] = (round(radius * math.cos(angle), 1), round(radius * math.sin(angle), 1))
        return pos

    def standalone_html(self) -> str:
        """One self-contained file: vis-network, the drawing script and the data inlined."""
        from kxgraph.api.pages import render_standalone

        return render_standalone(self.network_data())

    def _repr_html_(self) -> str:  # Jupyter
        return (f'<iframe srcdoc="{html.escape(self.standalone_html(), quote=True)}" '
                f'style="width:100%;height:720px;border:0" sandbox="allow-scripts"></iframe>')
