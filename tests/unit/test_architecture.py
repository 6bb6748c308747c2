"""The library's shape: stage sub-packages, imports that only run downward, no cycle, small modules, and a README
layout that matches the tree."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "segmentation"
MAX_LINES = 600

# Two floors around the pipeline: the stages it calls sit below it and never import it or anything above it.
BELOW = {"common", "config", "errors", "paths", "lazy", "ingest", "represent", "segment", "understand", "value"}
ABOVE = {"pipeline", "warmup", "choose", "plots", "act", "store", "cli"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(LIB.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every library module ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target != "segmentation":
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_the_library_has_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node, trail):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_stages_below_the_pipeline_never_import_upward():
    upward = sorted(f"{a} -> {b}" for a, deps in _graph().items() for b in deps
                    if _room(a) in BELOW and _room(b) in ABOVE)
    assert not upward, "stages below the pipeline import from above it: " + ", ".join(upward)


def test_every_module_sits_in_a_known_room_and_stays_small():
    modules = _modules()
    rooms = {_room(m) for m in modules} - {"__init__", "__main__"}
    assert rooms <= BELOW | ABOVE, f"modules outside the layout: {sorted(rooms - BELOW - ABOVE)}"
    too_long = {m: n for m, p in modules.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_the_readme_layout_lists_the_tree_exactly():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Layout\s+```\n(.*?)```", readme, re.S)
    assert block, "the README has a Layout section with a code block"
    text = block.group(1)
    listed = set(re.findall(r"^  (\w+)/", text, re.M))
    packages = {p.parent.name for p in LIB.glob("*/__init__.py")}
    assert listed == packages, f"README lists {sorted(listed)}, the tree has {sorted(packages)}"
    for package in packages:
        line = re.search(rf"^  {package}/\s+(.*(?:\n    .*)*)", text, re.M).group(1)
        named = set(re.findall(r"\b(\w+)\b", line))
        files = {p.stem for p in (LIB / package).glob("*.py") if p.stem != "__init__"}
        assert files <= named, f"README's {package}/ line misses {sorted(files - named)}"
    top = {p.stem for p in LIB.glob("*.py") if p.stem not in ("__init__", "__main__")}
    assert all(re.search(rf"\b{m}\b", text) for m in top), f"README layout misses one of {sorted(top)}"


def test_the_public_api_is_declared_and_importable():
    import segmentation

    assert segmentation.__all__, "segmentation.__all__ lists the public API"
    for name in segmentation.__all__:
        assert getattr(segmentation, name) is not None, name
