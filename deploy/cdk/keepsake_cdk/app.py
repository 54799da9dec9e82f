"""Builds the CDK app: which environments, in which account and region."""

from __future__ import annotations

import json
import os
from pathlib import Path

from aws_cdk import App, Environment

from keepsake_cdk.alarms import EdgeAlarmsStack
from keepsake_cdk.settings import ENVIRONMENTS, EnvironmentName
from keepsake_cdk.stack import DeployOptions, KeepsakeStack

CDK_DIR = Path(__file__).resolve().parents[1]
CDK_JSON = CDK_DIR / "cdk.json"
# `-c environment=production` or this variable picks one environment; with neither,
# the app has both (and `cdk deploy` must then be told which stacks).
ENVIRONMENT_VARIABLE = "KEEPSAKE_DEPLOY_ENV"


def build_app() -> App:
    """The app, with cdk.json's feature flags whether or not the CDK CLI runs it."""
    # The CLI says where to write (CDK_OUTDIR); run alone, the app writes to cdk.out/
    # beside itself, as the CLI would, instead of a temporary folder.
    app = App(
        context=json.loads(CDK_JSON.read_text())["context"],
        outdir=os.environ.get("CDK_OUTDIR") or str(CDK_DIR / "cdk.out"),
    )
    options = DeployOptions(
        alarm_email=_context_str(app, "alarmEmail"),
        admin_role_arn=_context_str(app, "adminRoleArn"),
        deploy_role_arn=_context_str(app, "deployRoleArn"),
    )
    env = _environment()
    for name in _selected(app):
        stack = KeepsakeStack(
            app, f"keepsake-{name}", settings=ENVIRONMENTS[name], options=options, env=env
        )
        # CloudFront's metrics exist only in us-east-1; a stack whose region is not
        # known at synth time cannot be referenced from there.
        if env is not None and env.account:
            EdgeAlarmsStack(
                app,
                f"keepsake-{name}-edge",
                account=env.account,
                distribution_id=stack.distribution.distribution_id,
                alarm_email=options.alarm_email,
            )
    return app


def _selected(app: App) -> list[EnvironmentName]:
    chosen = _context_str(app, "environment") or os.environ.get(ENVIRONMENT_VARIABLE)
    if chosen is None:
        return list(ENVIRONMENTS)
    if chosen not in ENVIRONMENTS:
        raise SystemExit(f"unknown environment {chosen!r}; expected one of {list(ENVIRONMENTS)}")
    return [chosen]


def _environment() -> Environment | None:
    """The CLI's account and region (from its credentials); None synthesizes a stack
    that works in any, which is what an offline `python app.py` gets."""
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    if account and region:
        return Environment(account=account, region=region)
    return None


def _context_str(app: App, key: str) -> str | None:
    value = app.node.try_get_context(key)
    return str(value) if value else None
