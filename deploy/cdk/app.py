"""Entry point of the CDK app: `python app.py` (or `cdk synth`) writes cdk.out/."""

from keepsake_cdk.app import build_app

build_app().synth()
