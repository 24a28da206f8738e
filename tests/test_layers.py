"""The library's layers import only downward, with no import cycle (docs/architecture.md).

Every ``import`` in posture/ is read from the source (also those inside functions), so an
import hidden in a function to dodge a cycle is caught too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "posture"

# Lowest first. A module may import modules of its own layer or below, never above.
# (Each entry is a module or a package prefix; the longest matching prefix decides.)
LAYERS: tuple[tuple[str, ...], ...] = (
    # 0: settings, errors, the table of measures, frames from files, the landmark types
    ("posture", "posture.errors", "posture.options", "posture.arrays", "posture.progress",
     "posture.settings", "posture.measures", "posture.io", "posture.landmarks.types"),
    # 1: pure geometry on landmark arrays
    ("posture.geometry",),
    # 2: model backends behind the Landmarker protocol
    ("posture.landmarks",),
    # 3: time series: filtering, neutral, range of motion
    ("posture.signals",),
    # 4: norms, findings, red flags (pure Python over the report dict)
    ("posture.clinical",),
    # 5: the typed report and its schema
    ("posture.report", "posture.report_schema"),
    # 6: the frame stream, overlays
    ("posture.stream", "posture.annotate"),
    # 7: report assembly
    ("posture.assemble",),
    # 8: runners
    ("posture.runners",),
    # 9: the entry point that picks a runner
    ("posture.pipeline",),
    # 10: applications of the library. posture.live (the live protocol, on the same frame
    # stream) is here, not in 9: it applies a camera profile (posture.calibration.options,
    # which needs the profile files of posture.calibration.profiles).
    ("posture.calibration", "posture.batch", "posture.export", "posture.store",
     "posture.summary_text", "posture.cli", "posture.dashboard", "posture.live"),
)  # fmt: skip


def _modules() -> dict[str, Path]:
    out = {}
    for f in ROOT.rglob("*.py"):
        parts = list(f.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = _modules()


def _imports_posture(package: str) -> bool:
    """Whether a package's __init__ imports posture modules (then importing any module
    of the package runs those imports too)."""
    path = MODULES.get(package)
    if path is None or path.name != "__init__.py":
        return False
    text = path.read_text(encoding="utf-8")
    return "from posture" in text or "import posture" in text


def _imports(name: str, path: Path) -> set[str]:
    """The posture modules ``name`` imports (packages imported on the way included)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        for t in targets:
            found.add(t)
            parts = t.split(".")
            # Importing a module runs its packages' __init__: count those that import.
            found.update(
                p for i in range(1, len(parts)) if _imports_posture(p := ".".join(parts[:i]))
            )
    own_packages = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return {m for m in found if m in MODULES and m != name and m not in own_packages}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for rank, prefixes in enumerate(LAYERS):
        for p in prefixes:
            inside = module.startswith(p + ".") and p != "posture"  # "posture": __init__ only
            if (module == p or inside) and len(p) > best_len:
                best, best_len = rank, len(p)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return best


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_there_is_no_import_cycle():
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {k: set(v) for k, v in GRAPH.items()}
    graph["posture.options"].add("posture.pipeline")  # pipeline imports options
    assert any("posture.options" in c and "posture.pipeline" in c for c in cycles(graph))


def test_every_import_goes_to_the_same_layer_or_below():
    upward = [
        f"{a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})"
        for a, deps in sorted(GRAPH.items())
        for b in sorted(deps)
        if layer_of(b) > layer_of(a)
    ]
    assert upward == []


def test_the_layer_check_sees_an_import_inside_a_function(tmp_path):
    src = "def f():\n    from posture.pipeline import analyze\n    return analyze\n"
    (tmp_path / "x.py").write_text(src)
    assert "posture.pipeline" in _imports("posture.geometry.x", tmp_path / "x.py")
    assert layer_of("posture.pipeline") > layer_of("posture.geometry.x")


def importers_of(package: str) -> list[str]:
    """The posture modules that import ``package`` (or a module of it) anywhere."""
    return sorted(
        name
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            (getattr(node, "module", None) or a.name).split(".")[0] == package for a in node.names
        )
    )


def test_the_library_never_imports_streamlit():
    assert importers_of("streamlit") == []


@pytest.mark.parametrize("module", ["posture.options", "posture.report"])
def test_light_modules_load_no_numerical_or_model_library(module):
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('cv2', 'mediapipe', 'onnxruntime', 'av', 'scipy') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_only_the_adapter_imports_mediapipe():
    assert importers_of("mediapipe") == ["posture.landmarks.mediapipe_adapter"]
