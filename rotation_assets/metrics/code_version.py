"""The version of an analytics table's code: what a change to it must rebuild.

A table's rows depend on its build function, on what that function calls, and on the project
modules those reach (a shared SQL fragment in ``window_returns``, the source column in
``provenance``). The version is an md5 of all of that source, found by following names from the
build function and from the table's metric modules through every ``rotation_assets`` module
they import, so that editing any of them rebuilds the table whole (``metrics.refresh``).

It is computed when a refresh first asks for it, not at import: loading the definitions (the
UI, ``dg check defs``) never reads source files.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from collections.abc import Callable, Iterator
from types import CodeType, FunctionType, ModuleType

PROJECT = "rotation_assets"


def _in_project(name: str | None, project: str) -> bool:
    return name is not None and (name == project or name.startswith(project + "."))


def _names(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names(const)


def _module_of(value: object, project: str) -> ModuleType | None:
    """The project module that defines ``value`` (a module, function or class), if any."""
    if isinstance(value, ModuleType):
        return value if _in_project(value.__name__, project) else None
    name = getattr(value, "__module__", None)
    if isinstance(value, (FunctionType, type)) and _in_project(name, project):
        return sys.modules.get(name)
    return None


def _reached(
    build: Callable[..., object], modules: tuple[ModuleType, ...], project: str
) -> list[str]:
    """Source of ``build``, the project functions it calls in its own module, and every project
    module reachable from those and from ``modules``; in a stable order."""
    home = inspect.getmodule(build)
    functions: dict[str, FunctionType] = {}
    found: dict[str, ModuleType] = {}
    todo_functions: list[FunctionType] = [build]  # type: ignore[list-item]
    todo_modules = list(modules)
    while todo_functions or todo_modules:
        if todo_functions:
            function = todo_functions.pop()
            key = f"{function.__module__}.{function.__qualname__}"
            if key in functions:
                continue
            functions[key] = function
            for name in set(_names(function.__code__)):
                value = function.__globals__.get(name)
                module = _module_of(value, project)
                if module is None:
                    continue
                if module is home and isinstance(value, FunctionType):
                    # A helper beside the build function: only it, not its whole module.
                    todo_functions.append(value)
                elif module is not home:
                    todo_modules.append(module)
            continue
        module = todo_modules.pop()
        if module.__name__ in found:
            continue
        found[module.__name__] = module
        for value in vars(module).values():
            reached = _module_of(value, project)
            if reached is not None and reached is not module:
                todo_modules.append(reached)
    sources = [f"# {key}\n{inspect.getsource(f)}" for key, f in sorted(functions.items())]
    sources += [f"# {name}\n{inspect.getsource(m)}" for name, m in sorted(found.items())]
    return sources


@functools.cache
def code_version(
    build: Callable[..., object], modules: tuple[ModuleType, ...], project: str = PROJECT
) -> str:
    """md5 of the source a table built by ``build`` from ``modules`` depends on: the modules
    and functions of the package ``project`` that they reach."""
    return hashlib.md5("\n".join(_reached(build, modules, project)).encode()).hexdigest()


def code_reached(
    build: Callable[..., object], modules: tuple[ModuleType, ...], project: str = PROJECT
) -> list[str]:
    """Names of the modules and functions ``code_version`` hashes."""
    sources = _reached(build, modules, project)
    return [source.split("\n", 1)[0].removeprefix("# ") for source in sources]
