"""Keepsake's AWS infrastructure as a CDK app: one stack per environment."""
