"""Fail when any module of the project imports itself through others (an import cycle), and name them.

import-linter's contracts check layers and boundaries between packages; a cycle inside one package, or
between a package's __init__ and its children, is found here from grimp's module graph.
Usage: python scripts/import_cycles.py [PACKAGE ...]   (exit 1 when a cycle exists)
"""

from __future__ import annotations

import sys

import grimp
import networkx as nx

PACKAGES = ("swapengine", "adstudio", "evals")


def import_cycles(packages: tuple[str, ...] = PACKAGES) -> list[list[str]]:
    """Each strongly connected group of modules (two or more that reach each other), sorted."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    digraph = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            digraph.add_edge(module, imported)
    groups = [sorted(group) for group in nx.strongly_connected_components(digraph) if len(group) > 1]
    return sorted(groups)


def main(argv: list[str]) -> int:
    cycles = import_cycles(tuple(argv) or PACKAGES)
    for group in cycles:
        print("import cycle: " + " <-> ".join(group))
    print(f"{len(cycles)} import cycles")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
