"""The app's own secrets in Secrets Manager, generated where a random value will do."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from keepsake_cdk.settings import EnvironmentSettings

# The id of the first JWT signing key: KEEPSAKE_JWT_ACTIVE_KID names it.
FIRST_JWT_KID = "k1"


class AppSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, env: EnvironmentSettings) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if env.production else RemovalPolicy.DESTROY
        # The secret's whole value is KEEPSAKE_JWT_KEYS, `{"k1": "<64 random chars>"}`.
        # Rotation adds a key id beside it by hand and moves KEEPSAKE_JWT_ACTIVE_KID.
        self.jwt_keys = secretsmanager.Secret(
            self,
            "JwtKeys",
            secret_name=f"{env.prefix}/jwt-keys",
            description="KEEPSAKE_JWT_KEYS: access-token signing keys by key id",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                # Not a password: the JSON object the generated key goes into.
                secret_string_template="{}",  # noqa: S106
                generate_string_key=FIRST_JWT_KID,
                password_length=64,
                exclude_punctuation=True,
            ),
            removal_policy=removal,
        )
        self.storage_signing_key = secretsmanager.Secret(
            self,
            "StorageSigningKey",
            secret_name=f"{env.prefix}/storage-signing-key",
            description="KEEPSAKE_STORAGE_SIGNING_KEY",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            removal_policy=removal,
        )
        # CloudFormation cannot make an RSA key pair, so the operator makes one and puts
        # the private key here (README, "CloudFront signing key"). Until then it holds a
        # random string that is no PEM, so the app refuses to start rather than hand out
        # URLs CloudFront would reject.
        self.cloudfront_private_key = secretsmanager.Secret(
            self,
            "CloudFrontPrivateKey",
            secret_name=f"{env.prefix}/cloudfront-private-key",
            description="KEEPSAKE_CLOUDFRONT_PRIVATE_KEY: PEM matching the stack's "
            "CloudFrontPublicKeyPem parameter",
            removal_policy=removal,
        )

    @property
    def all(self) -> list[secretsmanager.ISecret]:
        return [self.jwt_keys, self.storage_signing_key, self.cloudfront_private_key]
