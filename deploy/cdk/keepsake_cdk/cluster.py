"""The EKS cluster: a managed node group, the AWS Load Balancer Controller, and the
IAM role of the app's service account."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnJson, aws_eks
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.lambda_layer_kubectl_v36 import KubectlV36Layer
from constructs import Construct

from keepsake_cdk.settings import APP_NAMESPACE, APP_SERVICE_ACCOUNT, EnvironmentSettings

# The kubectl layer's minor version must stay within one of the cluster's.
KUBERNETES_VERSION = eks.KubernetesVersion.V1_36
ALB_CONTROLLER_VERSION = eks.AlbControllerVersion.V3_2_2


class Cluster(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: EnvironmentSettings,
        vpc: ec2.IVpc,
        admin_role_arn: str | None,
        deploy_role_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        # aws_eks_v2 makes the cluster, node group and access entries as plain
        # CloudFormation resources; only Kubernetes objects (the controller's chart and
        # service account, the app's namespace) go through its kubectl Lambda.
        self.cluster = eks.Cluster(
            self,
            "Cluster",
            cluster_name=env.prefix,
            version=KUBERNETES_VERSION,
            vpc=vpc,
            vpc_subnets=[private],
            # Public so that GitHub's runners can roll out manifests; nodes talk to the
            # control plane privately.
            endpoint_access=eks.EndpointAccess.PUBLIC_AND_PRIVATE,
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            default_capacity=0,
            cluster_logging=[
                eks.ClusterLoggingTypes.API,
                eks.ClusterLoggingTypes.AUDIT,
                eks.ClusterLoggingTypes.AUTHENTICATOR,
            ],
            secrets_encryption_key=kms.Key(
                self, "SecretsKey", enable_key_rotation=True, description=f"{env.prefix} etcd"
            ),
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=KubectlV36Layer(self, "Kubectl")
            ),
            alb_controller=eks.AlbControllerOptions(version=ALB_CONTROLLER_VERSION),
        )
        self.nodegroup = self.cluster.add_nodegroup_capacity(
            "Nodes",
            instance_types=[ec2.InstanceType(name) for name in env.node_instance_types],
            capacity_type=eks.CapacityType.ON_DEMAND,
            ami_type=eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
            min_size=env.node_min,
            desired_size=env.node_desired,
            max_size=env.node_max,
            disk_size=50,
            subnets=private,
            enable_node_auto_repair=True,
        )
        # The controller's Helm install waits for its pods, which need nodes.
        if self.cluster.alb_controller is not None:
            self.cluster.alb_controller.node.add_dependency(self.nodegroup)
        # HorizontalPodAutoscalers read CPU from metrics-server, whose pods need nodes.
        # The plain resource: aws_eks_v2.Addon wants an ICluster, which the Python
        # bindings of aws_eks_v2.Cluster do not satisfy (no kubectl_provider_options).
        metrics_server = aws_eks.CfnAddon(
            self,
            "MetricsServer",
            cluster_name=self.cluster.cluster_name,
            addon_name="metrics-server",
        )
        metrics_server.node.add_dependency(self.nodegroup)

        # Made here rather than by the manifests, so that the deploy role needs rights in
        # this namespace only.
        self.cluster.add_manifest(
            "AppNamespace",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP_NAMESPACE}},
        )
        if admin_role_arn:
            self.cluster.grant_access(
                "Admin",
                admin_role_arn,
                [_access("AmazonEKSClusterAdminPolicy", eks.AccessScopeType.CLUSTER)],
            )
        if deploy_role_arn:
            self.cluster.grant_access(
                "Deploy",
                deploy_role_arn,
                [_access("AmazonEKSAdminPolicy", eks.AccessScopeType.NAMESPACE, [APP_NAMESPACE])],
            )
        self.app_role = self._service_account_role(
            "AppRole", APP_NAMESPACE, APP_SERVICE_ACCOUNT, f"{env.prefix} app pods"
        )

    @property
    def security_group(self) -> ec2.ISecurityGroup:
        """The security group EKS puts on the control plane and every managed node."""
        return self.cluster.cluster_security_group

    def grant_app_access(
        self, bucket: s3.IBucket, secrets: Sequence[secretsmanager.ISecret]
    ) -> None:
        """Exactly what the app does: objects in the media bucket, its own secrets."""
        self.app_role.add_to_policy(
            iam.PolicyStatement(
                sid="MediaObjects",
                # AbortMultipartUpload: boto3 uploads renditions in parts and aborts
                # the parts of a failed upload.
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                ],
                resources=[bucket.arn_for_objects("*")],
            )
        )
        self.app_role.add_to_policy(
            iam.PolicyStatement(
                sid="MediaListing", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]
            )
        )
        self.app_role.add_to_policy(
            iam.PolicyStatement(
                sid="AppSecrets",
                # DescribeSecret too: the Secrets Store CSI driver's AWS provider calls it.
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=[secret.secret_arn for secret in secrets],
            )
        )

    def _service_account_role(
        self, construct_id: str, namespace: str, name: str, description: str
    ) -> iam.Role:
        """An IRSA role that only the named Kubernetes service account can assume."""
        provider = self.cluster.open_id_connect_provider
        issuer = provider.open_id_connect_provider_issuer
        # The issuer is known only at deploy time and is part of the condition keys;
        # CfnJson resolves such keys in CloudFormation.
        conditions = CfnJson(
            self,
            f"{construct_id}Trust",
            value={
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{name}",
                f"{issuer}:aud": "sts.amazonaws.com",
            },
        )
        return iam.Role(
            self,
            construct_id,
            description=description,
            assumed_by=iam.OpenIdConnectPrincipal(provider).with_conditions(
                {"StringEquals": conditions}
            ),
        )


def _access(
    policy: str, scope: eks.AccessScopeType, namespaces: Sequence[str] | None = None
) -> eks.IAccessPolicy:
    return eks.AccessPolicy.from_access_policy_name(
        policy, access_scope_type=scope, namespaces=namespaces
    )
