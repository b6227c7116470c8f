"""Two import-linter contract types that the built-in ones do not cover.

- ``no_cycles``: no import cycle between any two modules of the package,
  imports inside functions (lazy imports) included. import-linter's own
  ``acyclic_siblings`` looks at packages, not modules.
- ``no_private_imports``: no module imports a leading-underscore name from
  another module (``from locator.web.views import _origin``). A helper that two
  modules need lives, public, in a third.

Both read grimp's graph, the one import-linter has already built.
"""

from __future__ import annotations

import re

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck

_NAMES = re.compile(r"^\s*from\s+[\w.]+\s+import\s+\(?\s*(?P<names>[^#)]*)")


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(edges[node])):
                nxt = edges[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


class NoCyclesContract(Contract):
    """No import cycles between the modules of ``containers`` (lazy imports included)."""

    type_name = "no_cycles"
    containers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        modules: set[str] = set()
        for c in self.containers:  # type: ignore[attr-defined]
            modules |= {c} | graph.find_descendants(c)
        cycles = _cycles(graph, modules)
        details = []
        for comp in cycles:
            members = set(comp)
            links = [f"{a} -> {b}" for a in comp for b in sorted(graph.find_modules_directly_imported_by(a) & members)]
            details.append(links)
        return ContractCheck(kept=not cycles, metadata={"cycles": details})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for links in check.metadata["cycles"]:
            output.print_error("A cycle: " + "; ".join(links))
            output.new_line()


class NoPrivateImportsContract(Contract):
    """No module of ``containers`` imports a leading-underscore name from another module."""

    type_name = "no_private_imports"
    containers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        modules: set[str] = set()
        for c in self.containers:  # type: ignore[attr-defined]
            modules |= {c} | graph.find_descendants(c)
        bad = []
        for importer in sorted(modules):
            for imported in sorted(graph.find_modules_directly_imported_by(importer) & modules):
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    m = _NAMES.match(detail["line_contents"])
                    if not m:
                        continue
                    names = [n.strip().split(" as ")[0].strip() for n in m.group("names").split(",")]
                    private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                    if private:
                        bad.append(f"{importer}:{detail['line_number']} imports {', '.join(private)} from {imported}")
        return ContractCheck(kept=not bad, metadata={"bad": bad})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["bad"]:
            output.print_error(line)
            output.new_line()


class PureCoreContract(Contract):
    """The flat modules of ``container`` (not in ``layers``) import nothing of ``layers``, not even indirectly.

    The core is "every module directly in the package that is not one of the
    layered subpackages", found afresh each run, so a new core module is
    covered without anyone remembering to list it.
    """

    type_name = "pure_core"
    container = fields.StringField()
    layers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        container: str = self.container  # type: ignore[assignment]
        layers: list[str] = list(self.layers)  # type: ignore[arg-type]
        core = sorted(m for m in graph.find_children(container) if m not in layers)
        chains = []
        for module in core:
            for layer in layers:
                for target in {layer} | graph.find_descendants(layer):
                    chain = graph.find_shortest_chain(importer=module, imported=target)
                    if chain:
                        chains.append(" -> ".join(chain))
                        break
        return ContractCheck(kept=not chains, metadata={"chains": chains, "core": core})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for chain in check.metadata["chains"]:
            output.print_error(chain)
            output.new_line()
