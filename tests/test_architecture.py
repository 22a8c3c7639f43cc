"""The package's layers, enforced: who may import whom (an AST walk)."""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "nengo_lmu"

#: Layers from the bottom up; a module may import its own layer and those below.
BASE = {"validation", "io", "metrics", "plots", "version", "_deprecated", "schema"}
MATHS = {"systems"}
MODELS = {"neurons", "networks", "lmu", "readout", "model_dir", "data", "mnist_files"}
BACKENDS = {"backends", "training", "dl_plan", "loihi", "spiking", "batching",
            "batched_emulator", "memory_simulation", "distributed", "keras", "nir_graph",
            "nir_import"}
HEAVY = ("tensorflow", "nengo_dl", "nengo_loihi", "keras_lmu", "keras", "nir")
#: The one exception: `nengo_lmu.data.load_mnist(download=True)` downloads
#: MNIST through Keras (the explicit, documented download), importing
#: TensorFlow inside that function only.
ALLOWED_HEAVY = {"nengo_lmu.data": {"tensorflow"}}


def module_name(path):
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path):
    """Every module ``path`` imports (top level or inside functions)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module
            found.add(mod)
            found.update(f"{mod}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def own(imported):
    """The nengo_lmu modules (top-level names below nengo_lmu) in ``imported``."""
    out = set()
    for name in imported:
        parts = name.split(".")
        if parts[0] == "nengo_lmu" and len(parts) > 1:
            out.add(parts[1])
    return out


def leaf(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_walk_sees_the_package():
    """The walk finds the modules and their imports (else every rule passes)."""
    assert {"nengo_lmu.systems", "nengo_lmu.tasks.psmnist", "nengo_lmu.cli"} <= set(MODULES)
    assert {"readout", "model_dir", "lmu"} <= own(MODULES["nengo_lmu.training"])
    assert "nengo_dl" in {i.split(".")[0] for i in MODULES["nengo_lmu.training"]}


@pytest.mark.parametrize("layer, allowed", [
    (BASE, BASE),
    (MATHS, BASE | MATHS),
    (MODELS, BASE | MATHS | MODELS),
])
def test_lower_layers_import_only_below(layer, allowed):
    for name, imported in MODULES.items():
        if leaf(name) in layer:
            assert own(imported) <= allowed, f"{name} imports {own(imported) - allowed}"


def test_maths_imports_only_numpy_scipy():
    for name, imported in MODULES.items():
        if leaf(name) in MATHS:
            third = {i.split(".")[0] for i in imported} - {"nengo_lmu", "numpy", "scipy",
                                                          "numbers", "math", "functools"}
            assert not third, f"{name} imports {third}"


def test_networks_import_no_backend():
    for name, imported in MODULES.items():
        if leaf(name) in MODELS | MATHS | BASE:
            heavy = {i.split(".")[0] for i in imported} & set(HEAVY)
            heavy -= ALLOWED_HEAVY.get(name, set())
            assert not heavy, f"{name} imports {heavy}"


def test_training_and_deployment_never_import_each_other():
    training = {"training", "dl_plan"}
    deployment = {"spiking", "loihi", "batching", "batched_emulator", "memory_simulation",
                  "distributed"}
    for name in training:
        assert not own(MODULES[f"nengo_lmu.{name}"]) & deployment, name
    for name in deployment:
        assert not own(MODULES[f"nengo_lmu.{name}"]) & training, name


def test_walk_sees_the_split_backend_modules():
    """The walk sees the new modules' imports (else the rule above passes)."""
    assert "nengo_dl" in {i.split(".")[0] for i in MODULES["nengo_lmu.dl_plan"]}
    assert "dl_plan" in own(MODULES["nengo_lmu.training"])
    assert "memory_simulation" in own(MODULES["nengo_lmu.spiking"])


def test_backends_import_no_application():
    for name, imported in MODULES.items():
        if leaf(name) in BASE | MATHS | MODELS | BACKENDS:
            assert not own(imported) & {"tasks", "cli"}, f"{name} imports an application"


def test_tasks_never_import_the_cli():
    for name, imported in MODULES.items():
        if name.startswith("nengo_lmu.tasks"):
            assert "cli" not in own(imported), f"{name} imports nengo_lmu.cli"


def test_nothing_outside_the_package_imports_the_cli():
    root = PACKAGE.parent
    for folder in ("benchmarks", "examples", "notebooks"):
        for path in (root / folder).rglob("*"):
            if path.suffix in (".py", ".ipynb"):
                assert "nengo_lmu.cli" not in path.read_text(), path


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()


def test_import_loads_no_heavy_backend():
    loaded = run("import sys, nengo_lmu, nengo_lmu.tasks.psmnist, nengo_lmu.cli; "
                 f"print(*[m for m in {HEAVY!r} if m in sys.modules])")
    assert loaded == []
