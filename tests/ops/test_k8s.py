"""deploy/k8s/: every overlay rendered, validated against the Kubernetes schemas, and
checked for what the schemas cannot see (probes on the app's real paths, settings the
app knows, shutdown timings, labels that select what they should).

Rendering uses tests/fixtures/kustomize_lite.py, so no kustomize binary is needed; where kubectl
is installed, its built-in kustomize must render the very same objects.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import tomllib
from datetime import timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions
from pydantic import TypeAdapter

from keepsake.cli import parser
from keepsake.config import Settings
from tests.fixtures.kustomize_lite import (
    Resource,
    build,
    load_documents,
    split_image,
    strategic_merge,
)

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
ENVIRONMENTS = ("staging", "production")
TARGETS = {
    "staging": K8S / "overlays" / "staging",
    "production": K8S / "overlays" / "production",
    "loadtest": K8S / "loadtest",
}
# From the first release whose pods may use the preStop `sleep` action by default, to
# the newest whose schemas kubernetes-validate carries (EKS offers versions in between).
OLDEST_KUBERNETES = (1, 30)
KUBERNETES_VERSIONS = sorted(
    {
        ".".join(version.split(".")[:2])
        for version in all_versions()
        if tuple(int(n) for n in version.split(".")[:2]) >= OLDEST_KUBERNETES
    },
    key=lambda version: tuple(int(n) for n in version.split(".")),
)
SECRET_NAME = "keepsake-secrets"
SECRET_SETTINGS = {
    "database_url",
    "jwt_keys",
    "storage_signing_key",
    "cloudfront_private_key",
    "smtp_username",
    "smtp_password",
}
# Room for a process to exit once it has drained, before the kubelet kills it.
EXIT_ALLOWANCE = 5
# Room for one clip's transcode after the worker's shutdown timeout has passed.
TRANSCODE_ALLOWANCE = timedelta(minutes=2)
# The read-only root filesystem leaves this one place to write: an emptyDir.
SCRATCH = "/tmp"  # noqa: S108 - a path inside the pods, not on this machine
ECR_IMAGE = re.compile(r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/[a-z0-9._/-]+")


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Overrides conftest's: these tests read files and need no database."""


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Resource]]:
    return {name: build(folder) for name, folder in TARGETS.items()}


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    matches = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} rendered"
    return matches[0]


def pod_specs(resources: list[Resource]) -> list[tuple[Resource, dict[str, Any]]]:
    return [
        (r, r["spec"]["template"]["spec"]) for r in resources if "template" in r.get("spec", {})
    ]


def container(resource: Resource) -> dict[str, Any]:
    containers: list[dict[str, Any]] = resource["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def configmap(resources: list[Resource]) -> dict[str, str]:
    data: dict[str, str] = one(resources, "ConfigMap", "keepsake-config")["data"]
    return data


def duration(value: str) -> timedelta:
    return TypeAdapter(timedelta).validate_python(value)


def selects(selector: dict[str, str], resource: Resource) -> bool:
    labels: dict[str, str] = resource["spec"]["template"]["metadata"]["labels"]
    return selector.items() <= labels.items()


# --- rendering and schemas -----------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_is_valid_kubernetes(
    rendered: dict[str, list[Resource]], version: str
) -> None:
    errors = []
    for target, resources in rendered.items():
        for resource in resources:
            try:
                kubernetes_validate.validate(resource, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(part) for part in error.path)
                where = f"{target} {resource['kind']} {resource['metadata']['name']}"
                errors.append(f"{where}: {path}: {error.message}")
    assert not errors, "\n".join(errors)


def test_renders_the_whole_application(rendered: dict[str, list[Resource]]) -> None:
    # The namespace is deploy/cdk's.
    expected = {
        ("ServiceAccount", "keepsake"),
        ("ConfigMap", "keepsake-config"),
        ("Job", "keepsake-migrate"),
        ("Deployment", "keepsake-api"),
        ("Service", "keepsake-api"),
        ("Ingress", "keepsake-api"),
        ("HorizontalPodAutoscaler", "keepsake-api"),
        ("PodDisruptionBudget", "keepsake-api"),
        ("Deployment", "keepsake-worker"),
        ("PodDisruptionBudget", "keepsake-worker"),
    }
    for environment in ENVIRONMENTS:
        resources = rendered[environment]
        assert {(r["kind"], r["metadata"]["name"]) for r in resources} == expected
        assert {r["metadata"].get("namespace", "keepsake") for r in resources} == {"keepsake"}
        for resource in resources:
            assert resource["metadata"]["labels"]["keepsake.io/environment"] == environment


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_renders_as_kubectl_kustomize_does(
    rendered: dict[str, list[Resource]], target: str
) -> None:
    assert rendered[target] == kubectl_kustomize(TARGETS[target])


def kubectl_kustomize(folder: Path) -> list[Resource]:
    output = subprocess.run(
        ["kubectl", "kustomize", str(folder)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc is not None]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_deploy_pins_the_image_by_digest(environment: str, tmp_path: Path) -> None:
    """What deploy.yml's `kustomize edit set image keepsake=<repository>@<digest>` does
    to the overlay, rendered."""
    shutil.copytree(K8S, tmp_path / "k8s")
    overlay = tmp_path / "k8s" / "overlays" / environment
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    digest = "sha256:" + "0123456789abcdef" * 4
    repository = "999999999999.dkr.ecr.eu-west-1.amazonaws.com/keepsake-" + environment
    kustomization["images"] = [{"name": "keepsake", "newName": repository, "digest": digest}]
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    renderings = [build(overlay)]
    if shutil.which("kubectl"):
        renderings.append(kubectl_kustomize(overlay))
    for resources in renderings:
        images = {c["image"] for _, spec in pod_specs(resources) for c in spec["containers"]}
        assert images == {f"{repository}@{digest}"}


# --- workloads -----------------------------------------------------------------------


def test_every_pod_is_locked_down(rendered: dict[str, list[Resource]]) -> None:
    uid = int((ROOT / "deploy" / "Dockerfile").read_text().split("\nUSER ")[1].split(":")[0])
    for target, resources in rendered.items():
        for resource, spec in pod_specs(resources):
            where = f"{target} {resource['kind']} {resource['metadata']['name']}"
            pod = spec["securityContext"]
            assert pod["runAsNonRoot"] is True, where
            assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, where
            if target != "loadtest":
                assert pod["runAsUser"] == uid, f"{where}: the image's user"
            assert spec["automountServiceAccountToken"] is False, where
            assert spec["enableServiceLinks"] is False, where
            volumes = {v["name"]: v for v in spec["volumes"]}
            for each in spec["containers"]:
                context = each["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["readOnlyRootFilesystem"] is True, where
                assert context["capabilities"] == {"drop": ["ALL"]}, where
                mounts = {m["mountPath"]: m["name"] for m in each["volumeMounts"]}
                assert "emptyDir" in volumes[mounts[SCRATCH]], f"{where}: a writable {SCRATCH}"
                for bound in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(each["resources"][bound]), where


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_api_serves_without_the_worker_and_drains(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    resources = rendered[environment]
    api = one(resources, "Deployment", "keepsake-api")
    main = container(api)
    args = parser().parse_args(main["args"])
    assert args.command == "serve"
    assert args.no_worker is True
    assert ip_address(args.host).is_unspecified
    port = {p["name"]: p["containerPort"] for p in main["ports"]}["http"]
    assert args.port == port
    assert main["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # HPA owns the count; a number here would reset it on every apply.
    assert "replicas" not in api["spec"]
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    # The ALB stops sending before SIGTERM; the requests in flight then finish within
    # the shutdown timeout, while the ALB still holds their connections, and before
    # the kubelet's kill.
    pre_stop = main["lifecycle"]["preStop"]["sleep"]["seconds"]
    draining = duration(configmap(resources)["KEEPSAKE_HTTP_SHUTDOWN_TIMEOUT"]).total_seconds()
    annotations = one(resources, "Ingress", "keepsake-api")["metadata"]["annotations"]
    attributes = annotations["alb.ingress.kubernetes.io/target-group-attributes"]
    delay = re.search(r"deregistration_delay\.timeout_seconds=(\d+)", attributes)
    assert delay, attributes
    deregistration = int(delay[1])
    grace = api["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert pre_stop + draining <= deregistration <= grace - EXIT_ALLOWANCE


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_api_pods_spread_across_zones(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    api = one(rendered[environment], "Deployment", "keepsake-api")
    constraints = api["spec"]["template"]["spec"]["topologySpreadConstraints"]
    zones = [c for c in constraints if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert len(zones) == 1
    assert selects(zones[0]["labelSelector"]["matchLabels"], api)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_worker_gets_time_to_finish_its_job(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    resources = rendered[environment]
    worker = one(resources, "Deployment", "keepsake-worker")
    assert parser().parse_args(container(worker)["args"]).command == "worker"
    shutdown = duration(configmap(resources)["KEEPSAKE_WORKER_SHUTDOWN_TIMEOUT"])
    grace = timedelta(seconds=worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])
    assert grace >= shutdown + TRANSCODE_ALLOWANCE


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_worker_has_more_room_than_the_api(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    resources = rendered[environment]
    api = one(resources, "Deployment", "keepsake-api")
    worker = one(resources, "Deployment", "keepsake-worker")
    for bound, name in [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")]:
        wanted = [parse_quantity(container(d)["resources"][bound][name]) for d in (worker, api)]
        assert wanted[0] > wanted[1], f"{bound}.{name}"

    def scratch(resource: Resource) -> float:
        volumes = resource["spec"]["template"]["spec"]["volumes"]
        return parse_quantity({v["name"]: v for v in volumes}["tmp"]["emptyDir"]["sizeLimit"])

    assert scratch(worker) > scratch(api)


def parse_quantity(value: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return float(value.removesuffix(suffix)) * factor
    return float(value)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_migration_job_runs_once(rendered: dict[str, list[Resource]], environment: str) -> None:
    job = one(rendered[environment], "Job", "keepsake-migrate")
    assert parser().parse_args(container(job)["args"]).command == "migrate"
    spec = job["spec"]
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert spec["backoffLimit"] <= 3
    assert spec["activeDeadlineSeconds"] > 0


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_deploy_prepares_before_it_rolls_out(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    """deploy.yml applies the objects labelled `prepare` and runs the migration Job
    before anything else: exactly what the Job needs, and no workload."""
    prepared = {
        (r["kind"], r["metadata"]["name"])
        for r in rendered[environment]
        if r["metadata"]["labels"].get("keepsake.io/deploy-step") == "prepare"
    }
    assert prepared == {
        ("ServiceAccount", "keepsake"),
        ("ConfigMap", "keepsake-config"),
        ("Job", "keepsake-migrate"),
    }


# --- settings and identity ------------------------------------------------------------


def environment_of(resources: list[Resource], pod: dict[str, Any]) -> dict[str, str]:
    """The KEEPSAKE_ variables a container sees, with made-up values for the secrets."""
    values: dict[str, str] = {}
    (main,) = pod["containers"]
    for source in main["envFrom"]:
        if "configMapRef" in source:
            values.update(configmap(resources))
        else:
            assert source["secretRef"]["name"] == SECRET_NAME
            values.update(
                KEEPSAKE_DATABASE_URL="postgresql://keepsake:secret@db.invalid:5432/keepsake",
                KEEPSAKE_JWT_KEYS=json.dumps({cdk_constants("secrets")["FIRST_JWT_KID"]: "k" * 64}),
                KEEPSAKE_STORAGE_SIGNING_KEY="s" * 48,
                KEEPSAKE_CLOUDFRONT_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----",
            )
    for variable in main.get("env", []):
        if "value" in variable:
            values[variable["name"]] = variable["value"]
    return {name: value for name, value in values.items() if name.startswith("KEEPSAKE_")}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_process_gets_valid_production_settings(
    rendered: dict[str, list[Resource]], environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = rendered[environment]
    for resource, pod in pod_specs(resources):
        for name in [n for n in os.environ if n.startswith("KEEPSAKE_")]:
            monkeypatch.delenv(name)
        for name, value in environment_of(resources, pod).items():
            monkeypatch.setenv(name, value)
        settings = Settings()
        where = resource["metadata"]["name"]
        assert settings.environment == "production", where
        assert settings.storage_backend == "s3"
        assert settings.s3_bucket
        assert settings.s3_region
        assert settings.cloudfront_domain
        assert settings.cloudfront_key_pair_id
        assert settings.public_url.startswith("https://")
        assert settings.trust_forwarded_for is True
        assert settings.log_json is True
        assert settings.worker_in_process is False


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_configmap_holds_only_known_non_secret_settings(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    for key in configmap(rendered[environment]):
        if key.startswith("OTEL_"):
            continue  # read by the OpenTelemetry SDK
        assert key.startswith("KEEPSAKE_"), key
        field = key.removeprefix("KEEPSAKE_").lower()
        assert field in Settings.model_fields, f"{key} is no Keepsake setting"
        assert field not in SECRET_SETTINGS, f"{key} belongs in the Secret"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_secrets_come_from_the_synced_secret(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    for resource, pod in pod_specs(rendered[environment]):
        (main,) = pod["containers"]
        refs = {
            v["name"]: v["valueFrom"]["secretKeyRef"]
            for v in main["env"]
            if "secretKeyRef" in v.get("valueFrom", {})
        }
        # Required by name: without it `keepsake serve` and `keepsake migrate` would
        # quietly use an embedded PostgreSQL.
        assert refs["KEEPSAKE_DATABASE_URL"] == {
            "name": SECRET_NAME,
            "key": "KEEPSAKE_DATABASE_URL",
        }
        assert {"secretRef": {"name": SECRET_NAME}} in main["envFrom"], resource["metadata"]["name"]


def cdk_source(module: str) -> str:
    return (ROOT / "deploy" / "cdk" / "keepsake_cdk" / f"{module}.py").read_text()


def cdk_constants(module: str) -> dict[str, str]:
    """The string constants of a deploy/cdk module, such as the namespace and service
    account that the app's IAM role trusts."""
    return {
        node.targets[0].id: node.value.value
        for node in ast.parse(cdk_source(module)).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_pods_reach_s3_through_the_cdk_role(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    resources = rendered[environment]
    names = cdk_constants("settings")
    account = one(resources, "ServiceAccount", names["APP_SERVICE_ACCOUNT"])
    assert account["metadata"]["namespace"] == names["APP_NAMESPACE"]
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    match = re.fullmatch(r"arn:aws:iam::(\d{12}):role/[\w+=,.@-]+", role)
    assert match, role
    for _, pod in pod_specs(resources):
        assert pod["serviceAccountName"] == names["APP_SERVICE_ACCOUNT"]
        image = ECR_IMAGE.fullmatch(split_image(pod["containers"][0]["image"])[0])
        assert image, "the environment's ECR repository"
        # One AWS account and region per environment.
        assert image[1] == match[1]
        assert image[2] == configmap(resources)["KEEPSAKE_S3_REGION"]


# --- traffic ---------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_alb_routes_to_ready_api_pods(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    resources = rendered[environment]
    api = one(resources, "Deployment", "keepsake-api")
    service = one(resources, "Service", "keepsake-api")
    ingress = one(resources, "Ingress", "keepsake-api")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTPS": 443}]
    readiness = container(api)["readinessProbe"]["httpGet"]["path"]
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == readiness
    certificate = annotations["alb.ingress.kubernetes.io/certificate-arn"]
    region = configmap(resources)["KEEPSAKE_S3_REGION"]
    assert re.fullmatch(rf"arn:aws:acm:{region}:\d{{12}}:certificate/[0-9a-f-]{{36}}", certificate)
    assert service["spec"]["type"] == "ClusterIP"
    assert selects(service["spec"]["selector"], api)
    (rule,) = ingress["spec"]["rules"]
    assert configmap(resources)["KEEPSAKE_PUBLIC_URL"] == f"https://{rule['host']}"
    # One rule, to the API's HTTP port: no path needs blocking, since the app serves
    # Prometheus metrics on a port of their own, which the Service leaves out.
    assert [(p["path"], p["backend"]["service"]) for p in rule["http"]["paths"]] == [
        ("/", {"name": service["metadata"]["name"], "port": {"name": "http"}})
    ]
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    assert not [k for k in annotations if k.startswith("alb.ingress.kubernetes.io/actions.")]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_scaling_and_disruption_target_the_right_pods(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    resources = rendered[environment]
    hpa = one(resources, "HorizontalPodAutoscaler", "keepsake-api")
    target = hpa["spec"]["scaleTargetRef"]
    api = one(resources, target["kind"], target["name"])
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    for name in ("keepsake-api", "keepsake-worker"):
        budget = one(resources, "PodDisruptionBudget", name)
        workload = one(resources, "Deployment", name)
        assert selects(budget["spec"]["selector"]["matchLabels"], workload)
        assert (
            workload["spec"]["selector"]["matchLabels"] == budget["spec"]["selector"]["matchLabels"]
        )
        others = [d for d in resources if d["kind"] == "Deployment" and d is not workload]
        assert not any(selects(budget["spec"]["selector"]["matchLabels"], d) for d in others)
    assert api["metadata"]["name"] == "keepsake-api"


def test_the_environments_differ_where_they_must(rendered: dict[str, list[Resource]]) -> None:
    def facts(environment: str) -> list[Any]:
        resources = rendered[environment]
        ingress = one(resources, "Ingress", "keepsake-api")
        return [
            ingress["spec"]["rules"][0]["host"],
            ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/certificate-arn"],
            one(resources, "ServiceAccount", "keepsake")["metadata"]["annotations"],
            configmap(resources)["KEEPSAKE_S3_BUCKET"],
            container(one(resources, "Deployment", "keepsake-api"))["image"],
        ]

    for staging, production in zip(facts("staging"), facts("production"), strict=True):
        assert staging != production
    production = rendered["production"]
    assert one(production, "Deployment", "keepsake-worker")["spec"]["replicas"] >= 3
    assert one(production, "HorizontalPodAutoscaler", "keepsake-api")["spec"]["minReplicas"] >= 3


# --- load test ---------------------------------------------------------------------------


def test_locust_runs_the_scenarios_against_the_api_service(
    rendered: dict[str, list[Resource]],
) -> None:
    resources = rendered["loadtest"]
    master = one(resources, "Deployment", "locust-master")
    workers = one(resources, "Deployment", "locust-worker")
    service = one(resources, "Service", "locust-master")
    assert selects(service["spec"]["selector"], master)
    assert not selects(service["spec"]["selector"], workers)
    assert workers["spec"]["replicas"] > 1

    def options(resource: Resource) -> dict[str, str]:
        return dict(
            arg.removeprefix("--").partition("=")[::2] for arg in container(resource)["args"]
        )

    api_service = one(rendered["staging"], "Service", "keepsake-api")
    namespace = api_service["metadata"]["namespace"]
    port = api_service["spec"]["ports"][0]["port"]
    host = f"http://{api_service['metadata']['name']}.{namespace}.svc.cluster.local"
    assert options(master)["host"] == (host if port == 80 else f"{host}:{port}")
    assert options(workers)["master-host"] == service["metadata"]["name"]
    service_ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert int(options(workers)["master-port"]) == service_ports["workers"]
    for resource in (master, workers):
        assert options(resource)["locustfile"].startswith("/mnt/locust/")
        volumes = {v["name"]: v for v in resource["spec"]["template"]["spec"]["volumes"]}
        assert volumes["locustfile"]["configMap"]["name"] == "keepsake-locustfile"

    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (locust,) = [p["version"] for p in lock["package"] if p["name"] == "locust"]
    assert {container(r)["image"] for r in (master, workers)} == {f"locustio/locust:{locust}"}


# --- secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_external_secret_fills_the_secret_the_pods_read(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    """deploy/k8s/external-secrets/ (custom resources of the External Secrets Operator,
    which the Kubernetes schemas do not cover) against deploy/cdk's secrets."""
    path = K8S / "external-secrets" / f"{environment}.yaml"
    store, external = yaml.safe_load_all(path.read_text())
    namespace = cdk_constants("settings")["APP_NAMESPACE"]
    assert {store["metadata"]["namespace"], external["metadata"]["namespace"]} == {namespace}
    aws = store["spec"]["provider"]["aws"]
    assert aws["service"] == "SecretsManager"
    assert aws["region"] == configmap(rendered[environment])["KEEPSAKE_S3_REGION"]
    account = cdk_constants("settings")["APP_SERVICE_ACCOUNT"]
    assert aws["auth"]["jwt"]["serviceAccountRef"]["name"] == account
    assert external["spec"]["secretStoreRef"]["name"] == store["metadata"]["name"]
    target = external["spec"]["target"]
    assert target["name"] == SECRET_NAME
    # Every secret setting a pod needs, and only settings.
    keys = set(target["template"]["data"])
    assert {
        f"KEEPSAKE_{s.upper()}" for s in SECRET_SETTINGS - {"smtp_username", "smtp_password"}
    } <= keys
    for key in keys:
        assert key.removeprefix("KEEPSAKE_").lower() in SECRET_SETTINGS, key
    # Every template value comes from a declared secret of deploy/cdk's.
    declared = {item["secretKey"]: item["remoteRef"] for item in external["spec"]["data"]}
    used = set(re.findall(r"{{ \.(\w+) }}", json.dumps(target["template"]["data"])))
    assert used == set(declared)
    cdk_secrets = {
        f"keepsake-{environment}/{suffix}"
        for module in ("secrets", "database")
        for suffix in re.findall(r'secret_name=f"\{env\.prefix\}/([\w-]+)"', cdk_source(module))
    }
    assert {ref["key"] for ref in declared.values()} == cdk_secrets


def test_the_external_secrets_differ_only_by_environment() -> None:
    texts = {e: (K8S / "external-secrets" / f"{e}.yaml").read_text() for e in ENVIRONMENTS}
    assert texts["staging"].replace("staging", "production") == texts["production"]


# --- observability -----------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_pods_carry_the_datadog_annotations(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    """deploy/datadog/pod-annotations.yaml, the agent's instructions, is already in the
    manifests: applied as the patch it is written as, it changes nothing."""
    resources = rendered[environment]
    patches = load_documents(ROOT / "deploy" / "datadog" / "pod-annotations.yaml")
    assert patches
    for patch in patches:
        deployment = one(resources, patch["kind"], patch["metadata"]["name"])
        assert strategic_merge(deployment, patch) == deployment


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_traces_and_metrics_leave_the_pods(
    rendered: dict[str, list[Resource]], environment: str
) -> None:
    resources = rendered[environment]
    assert configmap(resources)["KEEPSAKE_OTEL_ENVIRONMENT"] == environment
    names = set()
    for name in ("keepsake-api", "keepsake-worker"):
        main = container(one(resources, "Deployment", name))
        env = {v["name"]: v for v in main["env"]}
        # The agent's OTLP receiver on this pod's node.
        assert env["HOST_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.hostIP"}}
        endpoint = env["KEEPSAKE_OTEL_EXPORTER_OTLP_ENDPOINT"]["value"]
        assert endpoint == "http://$(HOST_IP):4318"
        assert list(env).index("HOST_IP") < list(env).index("KEEPSAKE_OTEL_EXPORTER_OTLP_ENDPOINT")
        names.add(env["KEEPSAKE_OTEL_SERVICE_NAME"]["value"])
    assert names == {"keepsake-api", "keepsake-worker"}
    for name, setting in (
        ("keepsake-api", "KEEPSAKE_METRICS_PORT"),
        ("keepsake-worker", "KEEPSAKE_WORKER_METRICS_PORT"),
    ):
        deployment = one(resources, "Deployment", name)
        main = container(deployment)
        port = {v["name"]: v.get("value") for v in main["env"]}[setting]
        assert {p["name"]: p["containerPort"] for p in main["ports"]}["metrics"] == int(port)
        checks = deployment["spec"]["template"]["metadata"]["annotations"][
            f"ad.datadoghq.com/{main['name']}.checks"
        ]
        (instance,) = json.loads(checks)["openmetrics"]["instances"]
        assert instance["openmetrics_endpoint"] == f"http://%%host%%:{port}/metrics"
    api = container(one(resources, "Deployment", "keepsake-api"))
    api_env = {v["name"]: v.get("value") for v in api["env"]}
    # The agent scrapes the pod's IP, not its loopback: the listener binds every interface.
    assert api_env["KEEPSAKE_METRICS_HOST"] == "0.0.0.0"  # noqa: S104 (a manifest's value)
