"""Aurora PostgreSQL Serverless v2 in the isolated subnets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from constructs import Construct

from keepsake_cdk.settings import DATABASE_NAME, DATABASE_USER, EnvironmentSettings

POSTGRES_PORT = 5432
# The generated password goes into KEEPSAKE_DATABASE_URL as is, so it holds only
# letters and digits (32 of them is still ~190 bits): no character needs URL-quoting.
URL_UNSAFE = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())


class Database(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, env: EnvironmentSettings, vpc: ec2.IVpc
    ) -> None:
        super().__init__(scope, construct_id)
        # Host, port and database name join the user and password here once the cluster
        # exists: everything KEEPSAKE_DATABASE_URL needs.
        self.secret = rds.DatabaseSecret(
            self,
            "Secret",
            username=DATABASE_USER,
            secret_name=f"{env.prefix}/database",
            exclude_characters=URL_UNSAFE,
        )
        self.secret.apply_removal_policy(
            RemovalPolicy.RETAIN if env.production else RemovalPolicy.DESTROY
        )
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            # Aurora's 17 line: the app needs PostgreSQL >= 15 and is tested on 18.
            engine=rds.DatabaseClusterEngine.aurora_postgres(
                version=rds.AuroraPostgresEngineVersion.VER_17_9
            ),
            credentials=rds.Credentials.from_secret(self.secret),
            default_database_name=DATABASE_NAME,
            port=POSTGRES_PORT,
            writer=rds.ClusterInstance.serverless_v2("writer", enable_performance_insights=True),
            # A reader that scales with the writer can take over at full size.
            readers=[
                rds.ClusterInstance.serverless_v2(
                    f"reader{i + 1}", scale_with_writer=True, enable_performance_insights=True
                )
                for i in range(env.db_readers)
            ],
            serverless_v2_min_capacity=env.db_min_acu,
            serverless_v2_max_capacity=env.db_max_acu,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            storage_encrypted=True,
            # Clients must use TLS; psycopg's default `sslmode=prefer` already does.
            parameters={"rds.force_ssl": "1"},
            backup=rds.BackupProps(retention=Duration.days(env.db_backup_days)),
            cloudwatch_logs_exports=["postgresql"],
            # The free tier (7 days) answers "which query is slow" during an incident.
            enable_performance_insights=True,
            deletion_protection=env.production,
            # Taken out of the stack, production's cluster stays as it is; staging's
            # leaves a final snapshot.
            removal_policy=RemovalPolicy.RETAIN if env.production else RemovalPolicy.SNAPSHOT,
        )

    def allow_from(self, peer: ec2.ISecurityGroup) -> None:
        """PostgreSQL's port, open to this security group and nothing else."""
        self.cluster.connections.allow_from(
            peer, ec2.Port.tcp(POSTGRES_PORT), "PostgreSQL from the EKS cluster"
        )
