"""CloudWatch alarms for the failures nobody should learn about from members first."""

from __future__ import annotations

from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from keepsake_cdk.settings import EnvironmentSettings

CLOUDFRONT_METRICS_REGION = "us-east-1"
PERIOD = Duration.minutes(5)
# Three periods in a row: a deploy's or a scale-up's blip does not page anyone.
PERIODS = 3


class AlarmTopic(Construct):
    """Where every alarm of one region goes: alarms can only notify a topic in theirs."""

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", display_name=f"{Stack.of(self).stack_name} alarms")
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

    def alarm(
        self,
        construct_id: str,
        *,
        metric: cloudwatch.IMetric,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        description: str,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.MISSING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=PERIODS,
            datapoints_to_alarm=PERIODS,
            alarm_description=description,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        return alarm


def add_database_alarms(
    topic: AlarmTopic, cluster: rds.DatabaseCluster, env: EnvironmentSettings
) -> None:
    topic.alarm(
        "DatabaseCpuHigh",
        metric=cluster.metric_cpu_utilization(period=PERIOD),
        threshold=80,
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description="Aurora CPU above 80% for 15 minutes: slow queries or too few ACUs.",
    )
    # Serverless v2 grows memory with its ACUs, so running short of it for 15 minutes
    # means it is at its ceiling or something holds memory it should not.
    topic.alarm(
        "DatabaseMemoryLow",
        metric=cluster.metric_freeable_memory(period=PERIOD, statistic="Minimum"),
        threshold=256 * 1024 * 1024,
        comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        description="Aurora freeable memory under 256 MiB for 15 minutes.",
    )
    topic.alarm(
        "DatabaseCapacityAtMax",
        metric=cluster.metric("ACUUtilization", period=PERIOD, statistic="Maximum"),
        threshold=90,
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description=(
            f"Aurora at 90% or more of its {env.db_max_acu} ACU ceiling for 15 minutes: "
            "raise db_max_acu in deploy/cdk/keepsake_cdk/settings.py."
        ),
    )


class EdgeAlarmsStack(Stack):
    """CloudFront publishes its metrics in us-east-1 only, so its alarms (and the topic
    they notify) live in a small stack there."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        account: str,
        distribution_id: str,
        alarm_email: str | None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=account, region=CLOUDFRONT_METRICS_REGION),
            # The distribution's id comes from the main stack, in another region.
            cross_region_references=True,
            description="Keepsake: alarms on CloudFront metrics, which exist in us-east-1 only",
        )
        topic = AlarmTopic(self, "Alarms", email=alarm_email)
        topic.alarm(
            "Cdn5xxRate",
            # Built by hand: CloudFront publishes with the dimension Region=Global as well,
            # which the CDK's Distribution.metric*() leave out (aws-cdk issue 19245),
            # so an alarm on those would never see a data point.
            metric=cloudwatch.Metric(
                namespace="AWS/CloudFront",
                metric_name="5xxErrorRate",
                dimensions_map={"DistributionId": distribution_id, "Region": "Global"},
                statistic="Average",
                period=PERIOD,
            ),
            threshold=5,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description="More than 5% of media requests failed with 5xx for 15 minutes.",
            # No requests, no data point: that is quiet, not broken.
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
