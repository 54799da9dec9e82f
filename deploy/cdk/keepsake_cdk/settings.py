"""What differs between staging and production, and the names both share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EnvironmentName = Literal["staging", "production"]

# The app's Kubernetes namespace and service account (deploy/k8s uses the same names);
# the IAM role of the app trusts exactly this service account.
APP_NAMESPACE = "keepsake"
APP_SERVICE_ACCOUNT = "keepsake"
DATABASE_NAME = "keepsake"
DATABASE_USER = "keepsake"


@dataclass(frozen=True)
class EnvironmentSettings:
    name: EnvironmentName
    production: bool
    max_azs: int
    nat_gateways: int
    db_min_acu: float
    db_max_acu: float
    db_readers: int
    db_backup_days: int
    node_instance_types: tuple[str, ...]
    node_min: int
    node_desired: int
    node_max: int
    ecr_images_kept: int
    log_retention_days: int

    @property
    def prefix(self) -> str:
        """Names of resources people look up by hand (cluster, secrets, repository)."""
        return f"keepsake-{self.name}"


ENVIRONMENTS: dict[EnvironmentName, EnvironmentSettings] = {
    # One NAT gateway and one database instance: staging may lose an AZ for a while.
    "staging": EnvironmentSettings(
        name="staging",
        production=False,
        max_azs=2,
        nat_gateways=1,
        db_min_acu=0.5,
        db_max_acu=4,
        db_readers=0,
        db_backup_days=7,
        node_instance_types=("t3.large",),
        node_min=2,
        node_desired=2,
        node_max=4,
        ecr_images_kept=30,
        log_retention_days=30,
    ),
    # A NAT gateway per AZ and a reader in another AZ, so losing an AZ loses neither
    # egress nor the database for long (Aurora promotes the reader).
    "production": EnvironmentSettings(
        name="production",
        production=True,
        max_azs=3,
        nat_gateways=3,
        db_min_acu=1,
        db_max_acu=16,
        db_readers=1,
        db_backup_days=30,
        node_instance_types=("m7i.large", "m6i.large"),
        node_min=3,
        node_desired=3,
        node_max=9,
        ecr_images_kept=100,
        log_retention_days=90,
    ),
}
