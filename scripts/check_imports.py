"""Checks DESIGN.md's dependency rule: a package imports only from lower layers (and itself)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

# core <- {routing, voice, storage, flows, bus, crm} <- {config, channels, dialer, reporting, planning} <- api <- app
LAYERS = {
    "core": 0,
    "routing": 1,
    "voice": 1,
    "storage": 1,
    "flows": 1,
    "bus": 1,
    "crm": 1,
    "config": 2,
    "channels": 2,
    "dialer": 2,
    "reporting": 2,
    "planning": 2,
    "api": 3,
    "app": 4,
}
ROOT = Path(__file__).resolve().parent.parent / "src" / "callboard"


def imported_packages(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "callboard" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def main() -> int:
    errors = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if len(relative.parts) < 2:
            continue
        package = relative.parts[0]
        if package not in LAYERS:
            errors.append(f"{path}: package {package!r} has no layer in scripts/check_imports.py")
            continue
        for line, target in imported_packages(path):
            if target == package:
                continue
            if target not in LAYERS:
                errors.append(f"{path}:{line}: imports unknown package callboard.{target}")
            elif LAYERS[target] >= LAYERS[package]:
                errors.append(f"{path}:{line}: {package} (layer {LAYERS[package]}) must not import {target}")
    for error in errors:
        print(error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
