"""Industry chain graphs: segments linked upstream → downstream must form a DAG."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence


class CycleError(ValueError):
    """The links would make a segment its own upstream."""

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__("cycle: " + " → ".join(cycle))
        self.cycle = tuple(cycle)


def topological_order(nodes: Iterable[str], links: Iterable[tuple[str, str]]) -> list[str]:
    """Nodes ordered upstream first (Kahn's algorithm, ties broken by name so the order is stable)."""
    node_list = sorted(set(nodes))
    downstream: dict[str, list[str]] = defaultdict(list)
    indegree = dict.fromkeys(node_list, 0)
    for up, down in links:
        if up not in indegree or down not in indegree:
            raise ValueError(f"link {up} → {down} names an unknown segment")
        downstream[up].append(down)
        indegree[down] += 1
    ready = deque(sorted(n for n, d in indegree.items() if d == 0))
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for nxt in sorted(downstream[node]):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    if len(order) != len(node_list):
        raise CycleError(_find_cycle({n for n, d in indegree.items() if d > 0}, downstream))
    return order


def _find_cycle(remaining: set[str], downstream: dict[str, list[str]]) -> list[str]:
    start = min(remaining)
    path: list[str] = [start]
    seen = {start: 0}
    node = start
    while True:
        node = min(n for n in downstream[node] if n in remaining)
        if node in seen:
            return path[seen[node] :] + [node]
        seen[node] = len(path)
        path.append(node)


def would_create_cycle(links: Iterable[tuple[str, str]], new_link: tuple[str, str]) -> bool:
    """True when adding `new_link` (up, down) closes a cycle, i.e. `up` is already reachable from `down`."""
    up, down = new_link
    if up == down:
        return True
    downstream: dict[str, list[str]] = defaultdict(list)
    for a, b in links:
        downstream[a].append(b)
    stack, seen = [down], {down}
    while stack:
        node = stack.pop()
        if node == up:
            return True
        for nxt in downstream[node]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def depth(
    nodes: Iterable[str], links: Iterable[tuple[str, str]], at_least: dict[str, int] | None = None
) -> dict[str, int]:
    """Longest distance from a source: 0 for the most upstream segments. Used to lay the chain out left → right.
    `at_least` holds a node to a column no further left (a midstream segment nothing links into stays midstream);
    every link still points right."""
    link_list = list(links)
    order = topological_order(nodes, link_list)
    floor = at_least or {}
    result = {node: floor.get(node, 0) for node in order}
    upstream: dict[str, list[str]] = defaultdict(list)
    for up, down in link_list:
        upstream[down].append(up)
    for node in order:
        if upstream[node]:
            result[node] = max(result[node], 1 + max(result[u] for u in upstream[node]))
    return result
