"""Where the code raises each problem and fails each memory, read from the source.

The snapshot test renders these in every language; reading them from the source keeps a
new problem or failure code from slipping past the snapshot.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "keepsake"


@dataclass(frozen=True, order=True)
class Said:
    code: str
    message: str


def _marked(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    """The text of `_("...")`, or of a module constant holding one."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _trees() -> list[ast.Module]:
    return [ast.parse(path.read_text(encoding="utf-8")) for path in sorted(SRC.rglob("*.py"))]


def _constants(trees: list[ast.Module]) -> dict[str, str]:
    """Module-level constants holding a marked message or a plain string (a code)."""
    found: dict[str, str] = {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    text: str | None = value.value
                else:
                    text = _marked(value, {})
                if text is not None:
                    found[node.targets[0].id] = text
    return found


def _classes(trees: list[ast.Module]) -> dict[str, tuple[str, str]]:
    """Each error class by name: its (code, title), inherited where it sets none."""
    defs = {
        node.name: node
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    resolved: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()

    def resolve(name: str) -> tuple[str, str] | None:
        # A class named like its base elsewhere (`class X(module.X)`) must not loop.
        if name in seen or name not in defs:
            return resolved.get(name)
        seen.add(name)
        node = defs[name]
        parents = [resolve(base) for base in filter(None, map(_name, node.bases))]
        parent = next((p for p in parents if p is not None), None)
        if parent is None and name != "AppError":
            return None
        code, title = parent or ("", "")
        for item in node.body:
            if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                target = item.targets[0].id
                if target == "code" and isinstance(item.value, ast.Constant):
                    code = str(item.value.value)
                if target == "title":
                    title = _marked(item.value, {}) or title
        resolved[name] = (code, title)
        return resolved[name]

    for name in defs:
        resolve(name)
    return resolved


def problems() -> tuple[dict[str, str], list[Said]]:
    """Every problem code's title, and every (code, detail) the code raises directly."""
    trees = _trees()
    constants = _constants(trees)
    classes = _classes(trees)
    titles = {code: title for code, title in classes.values() if code}
    said: set[Said] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in classes:
                continue
            code = classes[str(_name(node.func))][0]
            for keyword in node.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    code = str(keyword.value.value)
                if keyword.arg == "code" and isinstance(keyword.value, ast.Name):
                    code = constants.get(keyword.value.id, code)
            message = _marked(node.args[0], constants) if node.args else None
            if message is not None:
                said.add(Said(code, message))
    return titles, sorted(said)


def failures() -> list[Said]:
    """Every (failure code, detail) a memory can fail with."""
    trees = _trees()
    constants = _constants(trees)
    said: set[Said] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in ("MediaRejected", "Failure"):
                code, message = node.args[0], _marked(node.args[1], constants)
                if isinstance(code, ast.Constant) and message is not None:
                    said.add(Said(str(code.value), message))
    return sorted(said)
