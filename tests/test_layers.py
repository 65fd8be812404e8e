"""The arrows point one way: each package imports only the rings below it (read from the
source, lazy imports inside functions included).

    core          ivr, routing          pure flow and routing; no web, no telephony library
    application   hotline               the call lifecycle both drivers share; no Flask, no driver
    adapters      telephony, webhooks   each driver in one home; the Flask blueprints
    top           onecall, devtools     composition root and CLI; development stand-ins
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ivr", "routing", "hotline", "telephony", "webhooks", "onecall", "devtools")

# package -> the packages of ours it may import (besides itself)
ALLOWED = {
    "ivr": set(),
    "routing": set(),
    "hotline": {"ivr", "routing"},
    "telephony": {"ivr", "routing", "hotline"},
    "webhooks": {"ivr", "routing", "hotline", "telephony.twilio.urls"},  # the paths it serves, no driver internals
    "devtools": {"telephony"},
    "onecall": {"ivr", "routing", "hotline", "telephony", "webhooks", "devtools"},
}
# package -> outside libraries it must not import (the web framework and the telephony
# libraries belong to the adapters)
FORBIDDEN_LIBRARIES = {
    "ivr": {"flask", "werkzeug", "twilio", "panoramisk", "redis", "requests", "gunicorn"},
    "routing": {"flask", "werkzeug", "twilio", "panoramisk", "requests", "gunicorn"},
    "hotline": {"flask", "werkzeug", "twilio", "panoramisk", "gunicorn"},
    "telephony": {"flask", "werkzeug", "gunicorn"},
}


def imports_of(path: Path, module: str) -> set[str]:
    """Every module name `path` imports, relative imports resolved."""
    found: set[str] = set()
    package = module.rsplit(".", 1)[0] if not path.name == "__init__.py" else module
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return found


def product_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[dotted.removesuffix(".__init__")] = path
    return modules


def ring_of(name: str) -> str | None:
    top = name.split(".")[0]
    return top if top in PACKAGES else None


def allowed(importer: str, imported: str) -> bool:
    """May `importer` import `imported` (a module, or a name `from` a module)? A package on
    the way to an allowed module (`from telephony.twilio import urls`) is allowed too."""
    ring, target = ring_of(importer), ring_of(imported)
    if target is None or target == ring:
        return True
    return any(imported == rule or imported.startswith(rule + ".") or rule.startswith(imported + ".")
               for rule in ALLOWED[ring])


MODULES = product_modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_the_rings_below_it(module):
    wrong = sorted(name for name in imports_of(MODULES[module], module) if not allowed(module, name))
    assert not wrong, f"{module} imports {wrong}: see the layers in tests/test_layers.py"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if ring_of(m) in FORBIDDEN_LIBRARIES))
def test_inner_rings_import_no_web_or_telephony_library(module):
    libraries = {name.split(".")[0] for name in imports_of(MODULES[module], module)}
    wrong = sorted(libraries & FORBIDDEN_LIBRARIES[ring_of(module)])
    assert not wrong, f"{module} imports {wrong}"


def test_the_twilio_and_asterisk_drivers_do_not_import_each_other():
    for module, path in MODULES.items():
        for driver, other in (("telephony.twilio", "telephony.asterisk"), ("telephony.asterisk", "telephony.twilio")):
            if module.startswith(driver):
                assert not any(name.startswith(other) for name in imports_of(path, module)), module


def test_no_cycle_between_packages():
    edges = defaultdict(set)
    for module, path in MODULES.items():
        for name in imports_of(path, module):
            if ring_of(name) and ring_of(name) != ring_of(module):
                edges[ring_of(module)].add(ring_of(name))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(step == goal or (step not in seen and reaches(step, goal, seen | {step})) for step in edges[start])

    cycles = [package for package in PACKAGES if reaches(package, package, {package})]
    assert not cycles, f"packages on an import cycle: {cycles} ({dict(edges)})"


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The rule fails when someone adds `import webhooks` to the application or the core."""
    for module in ("hotline.calls", "routing.store", "ivr.interpreter"):
        assert not allowed(module, "webhooks")
        assert not allowed(module, "webhooks.app")
        assert not allowed(module, "telephony.twilio.voice")
    assert not allowed("webhooks.desk", "telephony.asterisk.driver")
    assert not allowed("webhooks.desk", "onecall.composition")
    assert not allowed("webhooks.twilio_voice", "telephony.twilio.voice")
    assert allowed("webhooks.twilio_voice", "telephony.twilio.urls")
    source = tmp_path / "calls.py"
    source.write_text("import json\nfrom webhooks.app import create_app\n", encoding="utf-8")
    assert "webhooks.app" in imports_of(source, "hotline.calls")
