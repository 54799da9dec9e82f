"""The VPC: public subnets for load balancers and NAT, private ones for the cluster,
isolated ones for the database."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from keepsake_cdk.settings import EnvironmentSettings


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, env: EnvironmentSettings) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
            max_azs=env.max_azs,
            nat_gateways=env.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                # /19: every pod takes a VPC address (the VPC CNI), so the cluster's
                # subnets need room for nodes × pods per node.
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=19
                ),
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
        )
        # Media and image layers are the bulk of the cluster's traffic to AWS; through
        # endpoints it skips the NAT gateways' per-GB charge.
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        for name, service in {
            "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
            "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
            "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        }.items():
            self.vpc.add_interface_endpoint(name, service=service, subnets=private)
