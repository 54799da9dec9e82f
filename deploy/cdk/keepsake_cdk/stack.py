"""One environment of Keepsake: everything the API and worker pods run on."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, CfnParameter, Environment, RemovalPolicy, Stack, Tags
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from keepsake_cdk.alarms import AlarmTopic, add_database_alarms
from keepsake_cdk.cluster import Cluster
from keepsake_cdk.database import Database
from keepsake_cdk.media import Media
from keepsake_cdk.network import Network
from keepsake_cdk.secrets import AppSecrets
from keepsake_cdk.settings import EnvironmentSettings

SIGNING_KEY_PARAMETER = "CloudFrontPublicKeyPem"


@dataclass(frozen=True)
class DeployOptions:
    """Values that belong to an AWS account, not to the code (CDK context)."""

    alarm_email: str | None = None
    admin_role_arn: str | None = None
    deploy_role_arn: str | None = None


class KeepsakeStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        options: DeployOptions,
        env: Environment | None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            # Lets the us-east-1 alarm stack name this stack's CloudFront distribution.
            cross_region_references=env is not None,
            description=f"Keepsake {settings.name}: network, database, media, cluster",
        )
        Tags.of(self).add("app", "keepsake")
        Tags.of(self).add("environment", settings.name)

        # A parameter rather than context: CloudFormation keeps its value from one
        # deploy to the next, so only the first deploy (and a key rotation) gives it.
        public_key = CfnParameter(
            self,
            SIGNING_KEY_PARAMETER,
            type="String",
            min_length=100,
            description="PEM public key (-----BEGIN PUBLIC KEY-----…) whose private half "
            "is in the cloudfront-private-key secret; CloudFront checks media URLs with it.",
        )

        network = Network(self, "Network", env=settings)
        database = Database(self, "Database", env=settings, vpc=network.vpc)
        media = Media(
            self, "Media", env=settings, signing_public_key_pem=public_key.value_as_string
        )
        secrets = AppSecrets(self, "Secrets", env=settings)
        cluster = Cluster(
            self,
            "Cluster",
            env=settings,
            vpc=network.vpc,
            admin_role_arn=options.admin_role_arn,
            deploy_role_arn=options.deploy_role_arn,
        )
        database.allow_from(cluster.security_group)
        cluster.grant_app_access(media.bucket, [*secrets.all, database.secret])

        repository = ecr.Repository(
            self,
            "Images",
            repository_name=settings.prefix,
            image_scan_on_push=True,
            # A tag names one build forever, so what was tested is what runs.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description=f"Keep the last {settings.ecr_images_kept} images",
                    max_image_count=settings.ecr_images_kept,
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

        alarms = AlarmTopic(self, "Alarms", email=options.alarm_email)
        add_database_alarms(alarms, database.cluster, settings)
        self.distribution = media.distribution

        outputs = {
            "MediaBucketName": media.bucket.bucket_name,
            "CdnDomainName": media.distribution.distribution_domain_name,
            "CdnSigningKeyId": media.signing_key_id,
            "EcrRepositoryUri": repository.repository_uri,
            "ClusterName": cluster.cluster.cluster_name,
            "AppRoleArn": cluster.app_role.role_arn,
            "DatabaseSecretArn": database.secret.secret_arn,
            "JwtKeysSecretArn": secrets.jwt_keys.secret_arn,
            "StorageSigningKeySecretArn": secrets.storage_signing_key.secret_arn,
            "CloudFrontPrivateKeySecretArn": secrets.cloudfront_private_key.secret_arn,
            "AlarmTopicArn": alarms.topic.topic_arn,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
