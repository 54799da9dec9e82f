"""The AWS CDK app in deploy/cdk: synthesized offline by `python app.py`, as the deploy
does it, then its templates asserted and linted with cfn-lint."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

# Process-level (CDK synth in subprocesses, then cfn-lint): `--quick` leaves these out.
pytestmark = pytest.mark.slow

CDK_DIR = Path(__file__).resolve().parents[2] / "deploy" / "cdk"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
ACCOUNT, REGION = "111111111111", "eu-west-1"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/keepsake-admin"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/keepsake-deploy"
CONTEXT = {
    # What the CDK CLI would look up and pin in cdk.context.json for this account.
    f"availability-zones:account={ACCOUNT}:region={REGION}": [f"{REGION}{z}" for z in "abc"],
    "alarmEmail": "ops@example.com",
    "adminRoleArn": ADMIN_ROLE,
    "deployRoleArn": DEPLOY_ROLE,
}
Json = dict[str, Any]


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """No database here: replaces conftest's cleanup, which would start PostgreSQL."""


def synthesize(outdir: Path, **env: str) -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "KEEPSAKE_"))}
    command = [sys.executable, "app.py"]
    environ = {**inherited, "CDK_OUTDIR": str(outdir), **env}
    subprocess.run(command, cwd=CDK_DIR, env=environ, check=True, timeout=300)


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Synthesized once per run (JSII and synthesis take ~20 s of a core): under xdist
    the first worker writes it while the other waits on the lock, then reads it."""
    root = tmp_path_factory.getbasetemp()
    root = root if worker_id == "master" else root.parent
    with (root / "cdk.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "cdk.out" / "manifest.json").exists():
            synthesize(
                root / "cdk.out",
                CDK_DEFAULT_ACCOUNT=ACCOUNT,
                CDK_DEFAULT_REGION=REGION,
                CDK_CONTEXT_JSON=json.dumps(CONTEXT),
            )
    return root / "cdk.out"


@pytest.fixture(scope="module")
def templates(cdk_out: Path) -> dict[str, Json]:
    return {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in cdk_out.glob("*.template.json")
    }


@pytest.fixture(params=["staging", "production"])
def environment(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def raw(templates: dict[str, Json], environment: str) -> Json:
    return templates[f"keepsake-{environment}"]


def of_type(raw: Json, resource_type: str) -> dict[str, Json]:
    return {k: r for k, r in raw["Resources"].items() if r["Type"] == resource_type}


def only(raw: Json, resource_type: str) -> tuple[str, Json]:
    [(logical_id, resource)] = of_type(raw, resource_type).items()
    return logical_id, resource


def props(raw: Json, resource_type: str) -> Json:
    properties: Json = only(raw, resource_type)[1]["Properties"]
    return properties


def test_synthesizes_every_stack_without_warnings(cdk_out: Path) -> None:
    manifest = json.loads((cdk_out / "manifest.json").read_text())
    artifacts = manifest["artifacts"].values()
    stacks = {a["displayName"]: a["environment"] for a in artifacts if "environment" in a}
    main, edge = f"aws://{ACCOUNT}/{REGION}", f"aws://{ACCOUNT}/us-east-1"
    assert stacks == {
        "keepsake-staging": main,
        "keepsake-production": main,
        # CloudFront's metrics exist only in us-east-1, so its alarm lives there.
        "keepsake-staging-edge": edge,
        "keepsake-production-edge": edge,
    }
    notes = [
        entry["data"]
        for artifact in artifacts
        for entries in artifact.get("metadata", {}).values()
        for entry in entries
        if entry["type"] in {"aws:cdk:error", "aws:cdk:warning"}
    ]
    assert notes == []
    assert "missing" not in manifest, "a context lookup was left unanswered"


def test_cfn_lint_is_clean(cdk_out: Path) -> None:
    # From deploy/cdk, so that its .cfnlintrc (the checks it skips, and why) applies.
    files = [str(path) for path in sorted(cdk_out.glob("*.template.json"))]
    result = subprocess.run(
        [CFN_LINT, *files], cwd=CDK_DIR, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_offline_synth_without_an_account(tmp_path: Path) -> None:
    synthesize(tmp_path, KEEPSAKE_DEPLOY_ENV="staging")
    assert [p.name for p in tmp_path.glob("*.template.json")] == ["keepsake-staging.template.json"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stack = manifest["artifacts"]["keepsake-staging"]
    assert stack["environment"] == "aws://unknown-account/unknown-region"


def test_vpc_subnets_nat_and_endpoints(raw: Json, environment: str) -> None:
    azs, nats = (3, 3) if environment == "production" else (2, 1)
    subnets = of_type(raw, "AWS::EC2::Subnet")
    assert len(subnets) == 3 * azs  # public, private, isolated
    # The load balancer controller finds its subnets by these tags.
    roles = {k: {t["Key"] for t in s["Properties"]["Tags"]} for k, s in subnets.items()}
    assert all(("kubernetes.io/role/elb" in tags) == ("public" in k) for k, tags in roles.items())
    assert sum("kubernetes.io/role/internal-elb" in tags for tags in roles.values()) == azs
    assert len(of_type(raw, "AWS::EC2::NatGateway")) == nats
    endpoints = [r["Properties"] for r in of_type(raw, "AWS::EC2::VPCEndpoint").values()]
    services = {
        kind: [json.dumps(e["ServiceName"]) for e in endpoints if e["VpcEndpointType"] == kind]
        for kind in ("Gateway", "Interface")
    }
    [gateway] = services["Gateway"]
    assert ".s3" in gateway
    for service in ("ecr.api", "ecr.dkr", "secretsmanager"):
        assert sum(service in name for name in services["Interface"]) == 1


def test_media_bucket_is_private_encrypted_versioned_and_tls_only(raw: Json) -> None:
    blocks = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    expected = {
        "PublicAccessBlockConfiguration": dict.fromkeys(blocks, True),
        "VersioningConfiguration": {"Status": "Enabled"},
    }
    Template.from_json(raw).has_resource(
        "AWS::S3::Bucket", {"DeletionPolicy": "Retain", "Properties": Match.object_like(expected)}
    )
    encryption = props(raw, "AWS::S3::Bucket")["BucketEncryption"]
    [default] = encryption["ServerSideEncryptionConfiguration"]
    assert default["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    deny_plain_http = {
        "Effect": "Deny",
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    statements = props(raw, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    assert any(deny_plain_http.items() <= s.items() for s in statements)


def test_media_bucket_lifecycle_rules(raw: Json) -> None:
    rules = {r["Id"]: r for r in props(raw, "AWS::S3::Bucket")["LifecycleConfiguration"]["Rules"]}
    assert {r["Status"] for r in rules.values()} == {"Enabled"}
    abort = rules["abort-incomplete-multipart-uploads"]
    assert abort == {
        "Id": "abort-incomplete-multipart-uploads",
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
    uploads = rules["expire-raw-uploads"]
    assert uploads["Prefix"] == "uploads/"
    assert 1 <= uploads["ExpirationInDays"] <= 7
    old_versions = rules["expire-noncurrent-versions"]
    assert old_versions["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    assert old_versions["ExpiredObjectDeleteMarker"] is True


def test_cdn_reads_the_bucket_through_origin_access_control(raw: Json) -> None:
    signs_every_request = {"OriginAccessControlOriginType": "s3", "SigningBehavior": "always"}
    Template.from_json(raw).has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {"OriginAccessControlConfig": Match.object_like(signs_every_request)},
    )
    oac_id, _ = only(raw, "AWS::CloudFront::OriginAccessControl")
    assert of_type(raw, "AWS::CloudFront::CloudFrontOriginAccessIdentity") == {}
    distribution_id, distribution = only(raw, "AWS::CloudFront::Distribution")
    [origin] = distribution["Properties"]["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    statements = props(raw, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    [grant] = [s for s in statements if s["Principal"] == {"Service": "cloudfront.amazonaws.com"}]
    assert (grant["Effect"], grant["Action"]) == ("Allow", "s3:GetObject")
    # Only this distribution may read: its ARN is the condition.
    assert distribution_id in json.dumps(grant["Condition"]["StringEquals"]["AWS:SourceArn"])


def test_cdn_serves_signed_urls_only_over_https_with_a_long_cache(raw: Json) -> None:
    key_id, public_key = only(raw, "AWS::CloudFront::PublicKey")
    encoded = public_key["Properties"]["PublicKeyConfig"]["EncodedKey"]
    assert encoded == {"Ref": "CloudFrontPublicKeyPem"}
    group_id, group = only(raw, "AWS::CloudFront::KeyGroup")
    assert group["Properties"]["KeyGroupConfig"]["Items"] == [{"Ref": key_id}]
    config = props(raw, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert "CacheBehaviors" not in config  # the default behaviour is the only one
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["TrustedKeyGroups"] == [{"Ref": group_id}]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    policy_id, policy = only(raw, "AWS::CloudFront::CachePolicy")
    assert behaviour["CachePolicyId"] == {"Ref": policy_id}
    cache = policy["Properties"]["CachePolicyConfig"]
    assert cache["DefaultTTL"] == cache["MaxTTL"] == 365 * 24 * 3600
    # The signature's query string stays out of the cache key: one copy per object.
    in_key = cache["ParametersInCacheKeyAndForwardedToOrigin"]
    assert in_key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_aurora_is_serverless_v2_encrypted_and_protected(raw: Json, environment: str) -> None:
    production = environment == "production"
    _, cluster = only(raw, "AWS::RDS::DBCluster")
    db = cluster["Properties"]
    assert db["Engine"] == "aurora-postgresql"
    assert int(db["EngineVersion"].split(".")[0]) >= 15
    assert db["StorageEncrypted"] is True
    assert db["DeletionProtection"] is production
    assert cluster["DeletionPolicy"] == ("Retain" if production else "Snapshot")
    assert db["BackupRetentionPeriod"] == (30 if production else 7)
    assert db["ServerlessV2ScalingConfiguration"] == (
        {"MinCapacity": 1, "MaxCapacity": 16}
        if production
        else {"MinCapacity": 0.5, "MaxCapacity": 4}
    )
    instances = of_type(raw, "AWS::RDS::DBInstance").values()
    assert [i["Properties"]["DBInstanceClass"] for i in instances] == ["db.serverless"] * (
        2 if production else 1  # production's reader takes over if the writer's AZ fails
    )
    subnets = props(raw, "AWS::RDS::DBSubnetGroup")["SubnetIds"]
    assert subnets
    assert all("isolated" in subnet["Ref"] for subnet in subnets)
    assert props(raw, "AWS::RDS::DBClusterParameterGroup")["Parameters"] == {"rds.force_ssl": "1"}


def test_production_data_can_be_brought_back(raw: Json, environment: str) -> None:
    """The README's backup story: Aurora's point-in-time recovery over the retention
    period (its automated backups), and every overwritten or deleted media object kept
    as a noncurrent version for a while before the lifecycle removes it."""
    template = Template.from_json(raw)
    template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {"BackupRetentionPeriod": 30 if environment == "production" else 7},
    )
    old_versions = {
        "Id": "expire-noncurrent-versions",
        "Status": "Enabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
    }
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {
                "Rules": Match.array_with([Match.object_like(old_versions)])
            },
        },
    )


def test_postgres_is_open_only_to_the_cluster_security_group(raw: Json) -> None:
    rules = [r["Properties"] for r in of_type(raw, "AWS::EC2::SecurityGroupIngress").values()]
    for group in of_type(raw, "AWS::EC2::SecurityGroup").values():
        rules += group["Properties"].get("SecurityGroupIngress", [])
    # The ALB's security groups belong to the controller, which makes them from the Ingress.
    assert [r for r in rules if r.get("CidrIp") == "0.0.0.0/0" or "CidrIpv6" in r] == []
    to_postgres = [
        r
        for r in rules
        if r["IpProtocol"] == "-1" or r.get("FromPort", 0) <= 5432 <= r.get("ToPort", -1)
    ]
    eks_id, _ = only(raw, "AWS::EKS::Cluster")
    [rule] = to_postgres
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [eks_id, "ClusterSecurityGroupId"]}
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 5432, 5432)
    assert "Database" in rule["GroupId"]["Fn::GetAtt"][0]


def test_ecr_scans_on_push_and_keeps_tags_immutable(raw: Json, environment: str) -> None:
    repository = props(raw, "AWS::ECR::Repository")
    assert repository["RepositoryName"] == f"keepsake-{environment}"
    assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert repository["ImageTagMutability"] == "IMMUTABLE"
    [rule] = json.loads(repository["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["selection"]["countNumber"] == (100 if environment == "production" else 30)


def test_eks_cluster_nodes_controller_and_access(raw: Json, environment: str) -> None:
    production = environment == "production"
    cluster = props(raw, "AWS::EKS::Cluster")
    assert (cluster["Name"], cluster["Version"]) == (f"keepsake-{environment}", "1.36")
    assert all("private" in s["Ref"] for s in cluster["ResourcesVpcConfig"]["SubnetIds"])
    Template.from_json(raw).has_resource_properties(
        "AWS::EKS::Nodegroup",
        {
            "CapacityType": "ON_DEMAND",
            "InstanceTypes": ["m7i.large", "m6i.large"] if production else ["t3.large"],
            "ScalingConfig": {"MinSize": 3, "DesiredSize": 3, "MaxSize": 9}
            if production
            else {"MinSize": 2, "DesiredSize": 2, "MaxSize": 4},
        },
    )
    assert props(raw, "AWS::EKS::Addon")["AddonName"] == "metrics-server"
    _, chart = only(raw, "Custom::AWSCDK-EKS-HelmChart")
    assert chart["Properties"]["Chart"] == "aws-load-balancer-controller"
    # Its Helm install waits for the controller's pods, which need the nodes.
    assert only(raw, "AWS::EKS::Nodegroup")[0] in chart["DependsOn"]
    trusts = json.dumps([r["Properties"] for r in of_type(raw, "Custom::AWSCDKCfnJson").values()])
    assert "system:serviceaccount:kube-system:aws-load-balancer-controller" in trusts
    entries = {
        json.dumps(e["Properties"]["PrincipalArn"]): e["Properties"]["AccessPolicies"]
        for e in of_type(raw, "AWS::EKS::AccessEntry").values()
    }
    [deploy] = entries[json.dumps(DEPLOY_ROLE)]
    assert deploy["AccessScope"] == {"Type": "namespace", "Namespaces": ["keepsake"]}
    assert "AmazonEKSAdminPolicy" in json.dumps(deploy["PolicyArn"])
    [admin] = entries[json.dumps(ADMIN_ROLE)]
    assert admin["AccessScope"] == {"Type": "cluster"}


def test_app_role_trusts_only_the_app_service_account(raw: Json) -> None:
    role_id = raw["Outputs"]["AppRoleArn"]["Value"]["Fn::GetAtt"][0]
    provider_id, _ = only(raw, "AWS::IAM::OIDCProvider")
    trust = raw["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]
    [statement] = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": {"Ref": provider_id}}
    condition_id, _ = statement["Condition"]["StringEquals"]["Fn::GetAtt"]
    # A CfnJson: its keys are "<issuer>:sub" and "<issuer>:aud", the issuer known at deploy.
    parts = raw["Resources"][condition_id]["Properties"]["Value"]["Fn::Join"][1]
    literals = "".join(p for p in parts if isinstance(p, str))
    assert ':sub":"system:serviceaccount:keepsake:keepsake"' in literals
    assert ':aud":"sts.amazonaws.com"' in literals
    issuers = [json.dumps(p) for p in parts if not isinstance(p, str)]
    assert len(issuers) == 2
    assert all(provider_id in issuer for issuer in issuers)


def test_app_role_reaches_only_the_media_bucket_and_its_secrets(raw: Json) -> None:
    role_id = raw["Outputs"]["AppRoleArn"]["Value"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in raw["Resources"][role_id]["Properties"]
    [statements] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in of_type(raw, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    bucket = {"Fn::GetAtt": [only(raw, "AWS::S3::Bucket")[0], "Arn"]}
    secrets = [{"Ref": s} for s in sorted(of_type(raw, "AWS::SecretsManager::Secret"))]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
        (
            "Allow",
            ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            {"Fn::Join": ["", [bucket, "/*"]]},
        ),
        ("Allow", "s3:ListBucket", bucket),
        ("Allow", ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], secrets),
    ]


def test_secrets_are_generated(raw: Json, environment: str) -> None:
    secrets = {
        s["Properties"]["Name"].removeprefix(f"keepsake-{environment}/"): s["Properties"]
        for s in of_type(raw, "AWS::SecretsManager::Secret").values()
    }
    assert sorted(secrets) == [
        "cloudfront-private-key",
        "database",
        "jwt-keys",
        "storage-signing-key",
    ]
    generated = {name: s["GenerateSecretString"] for name, s in secrets.items()}
    # The JWT secret's value is KEEPSAKE_JWT_KEYS itself: {"k1": "<64 random characters>"}.
    assert generated["jwt-keys"]["SecretStringTemplate"] == "{}"
    assert generated["jwt-keys"]["GenerateStringKey"] == "k1"
    # The database password goes into a URL unquoted.
    assert set("@:/?#%&+=") <= set(generated["database"]["ExcludeCharacters"])
    assert only(raw, "AWS::SecretsManager::SecretTargetAttachment")


def test_database_alarms_notify_the_topic(raw: Json) -> None:
    topic_id, _ = only(raw, "AWS::SNS::Topic")
    assert props(raw, "AWS::SNS::Subscription")["Endpoint"] == "ops@example.com"
    cluster = {"Name": "DBClusterIdentifier", "Value": {"Ref": only(raw, "AWS::RDS::DBCluster")[0]}}
    alarms = [a["Properties"] for a in of_type(raw, "AWS::CloudWatch::Alarm").values()]
    assert {a["MetricName"] for a in alarms} == {
        "CPUUtilization",
        "FreeableMemory",
        "ACUUtilization",
    }
    for alarm in alarms:
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic_id}]
        assert (alarm["Namespace"], alarm["Dimensions"]) == ("AWS/RDS", [cluster])


def test_cdn_5xx_alarm_lives_in_us_east_1(templates: dict[str, Json], environment: str) -> None:
    edge = templates[f"keepsake-{environment}-edge"]
    alarm = props(edge, "AWS::CloudWatch::Alarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/CloudFront", "5xxErrorRate")
    # CloudFront publishes with Region=Global; a metric without it never gets a point.
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions["Region"] == "Global"
    assert dimensions.keys() == {"DistributionId", "Region"}
    assert alarm["AlarmActions"] == [{"Ref": only(edge, "AWS::SNS::Topic")[0]}]


def test_outputs_name_what_the_deploy_needs(raw: Json) -> None:
    # A superset: the cross-region reference to the edge stack adds one of its own.
    assert set(raw["Outputs"]) >= {
        *("MediaBucketName", "CdnDomainName", "CdnSigningKeyId", "EcrRepositoryUri"),
        *("ClusterName", "AppRoleArn", "AlarmTopicArn", "DatabaseSecretArn", "JwtKeysSecretArn"),
        *("StorageSigningKeySecretArn", "CloudFrontPrivateKeySecretArn"),
    }
