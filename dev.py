"""Keepsake's developer entry point: needs only Python >= 3.11 and git.

    python3 dev.py serve [keepsake serve options]   install, then run the server
    python3 dev.py test [pytest options]            install with the dev tools, run the suite
    python3 dev.py test --quick [pytest options]    the same without the slow process-level tests
    python3 dev.py check                            ruff lint, ruff format check, mypy,
                                                    import-linter's layer contracts

A pinned `uv` is installed from PyPI into `.tools/` on first use, and every command
first brings `.venv` in line with the committed `uv.lock`, so a fresh clone and a
month-old one run the same code.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import NoReturn

if sys.version_info < (3, 11):  # noqa: UP036 - this file must also speak to older Pythons
    sys.exit("dev.py needs Python 3.11 or newer")

UV_VERSION = "0.13.9"
ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
VENV_BIN = ROOT / ".venv" / "bin"
PYTEST_NO_TESTS = 5


def say(message: str) -> None:
    print(f"dev.py: {message}", file=sys.stderr, flush=True)


def run(*command: str | Path) -> int:
    # Our own tools with arguments from the developer's command line; no shell.
    argv = [str(part) for part in command]
    return subprocess.run(argv, cwd=ROOT, check=False).returncode  # noqa: S603


def uv() -> Path:
    """The pinned uv, installed on first use (and again if the pin moves)."""
    python, uv_binary = TOOLS / "bin" / "python", TOOLS / "bin" / "uv"
    if not python.exists():
        say(f"first run: creating {TOOLS.name}/ for the pinned uv {UV_VERSION}…")
        venv.create(TOOLS, with_pip=True, clear=True)
    if not uv_binary.exists() or installed_uv_version(uv_binary) != UV_VERSION:
        say(f"installing uv {UV_VERSION} from PyPI into {TOOLS.name}/…")
        if run(python, "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}") != 0:
            sys.exit("dev.py: could not install uv; see pip's message above")
    return uv_binary


def installed_uv_version(uv_binary: Path) -> str:
    # `uv --version` prints "uv 0.13.9" (plus build details in some builds).
    output = subprocess.run(  # noqa: S603 - the uv we installed, no shell
        [str(uv_binary), "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    return output[1] if len(output) > 1 else ""


def sync(*, dev: bool) -> None:
    """Install exactly what uv.lock pins, into .venv, with this very Python."""
    uv_binary = uv()
    if not VENV_BIN.exists():
        say("first run: installing Keepsake's dependencies into .venv/…")
    # Serving needs no dev or deploy tools; `--inexact` keeps those a previous `test` installed.
    groups = [] if dev else ["--no-default-groups", "--inexact"]
    command: list[str | Path] = [uv_binary, "sync", "--locked", "--python", sys.executable, *groups]
    if run(*command) != 0:
        sys.exit("dev.py: `uv sync` failed; see its message above")


def exec_venv(tool: str, *args: str) -> NoReturn:
    # exec, not a child process, so Ctrl-C and SIGTERM reach the tool directly.
    program = VENV_BIN / tool
    os.execv(program, [str(program), *args])  # noqa: S606 - .venv's own console script


def serve(args: list[str]) -> NoReturn:
    sync(dev=False)
    exec_venv("keepsake", "serve", *args)


def test(args: list[str]) -> int:
    sync(dev=True)
    # `--quick` is ours, not pytest's: it leaves out the tests marked `slow`.
    selection = ["-m", "not slow"] if "--quick" in args else []
    pytest_args = [arg for arg in args if arg != "--quick"]
    code = run(VENV_BIN / "pytest", "-n", "2", *selection, *pytest_args)
    if code == PYTEST_NO_TESTS:
        say("pytest collected no tests; that counts as a failure")
        return 1
    return code


def check(args: list[str]) -> int:
    if args:
        sys.exit("dev.py: `check` takes no arguments")
    sync(dev=True)
    # Every check runs even after a failure, so one pass shows every problem.
    codes = [
        run(VENV_BIN / "ruff", "check", "."),
        run(VENV_BIN / "ruff", "format", "--check", "."),
        run(VENV_BIN / "mypy"),
        # The import contracts of pyproject.toml's [tool.importlinter].
        run(VENV_BIN / "lint-imports"),
    ]
    return 0 if all(code == 0 for code in codes) else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="dev.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["serve", "test", "check"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed on to the command")
    options = parser.parse_args()
    args: list[str] = options.args
    if options.command == "serve":
        serve(args)
    if options.command == "test":
        return test(args)
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
