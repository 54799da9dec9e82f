"""The private media bucket and the CloudFront distribution that serves it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from keepsake_cdk.settings import EnvironmentSettings

# Where the app puts raw uploads (keepsake.media.service). It deletes each one once it
# has made its renditions or once the upload expired unused; the lifecycle rule is the
# safety net, with room for a worker outage over a weekend.
UPLOADS_PREFIX = "uploads/"
RAW_UPLOAD_DAYS = 3
# Deleted or overwritten media stay recoverable this long, then go for good.
NONCURRENT_DAYS = 30


class Media(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: EnvironmentSettings,
        signing_public_key_pem: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            # Phones PUT to presigned URLs from native code, not from a web page, so the
            # bucket needs no CORS rules.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="expire-raw-uploads",
                    prefix=UPLOADS_PREFIX,
                    expiration=Duration.days(RAW_UPLOAD_DAYS),
                ),
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(NONCURRENT_DAYS),
                    expired_object_delete_marker=True,
                ),
            ],
            # Members' memories outlive any stack: deleting the stack leaves the bucket.
            removal_policy=RemovalPolicy.RETAIN,
        )

        # The private half lives in Secrets Manager (see AppSecrets); CloudFront only
        # ever sees this public half, given at deploy time.
        public_key = cloudfront.PublicKey(
            self,
            "SigningKey",
            encoded_key=signing_public_key_pem,
            comment=f"Checks the signatures of {env.prefix} media URLs",
        )
        self.signing_key_id = public_key.public_key_id
        key_group = cloudfront.KeyGroup(self, "SigningKeys", items=[public_key])

        # A media object never changes under its key (a new upload gets a new key), and
        # access is decided by the URL signature, which CloudFront checks before its
        # cache: so cache for a year and leave the signing query string out of the key.
        cache_policy = cloudfront.CachePolicy(
            self,
            "ImmutableMedia",
            comment="Immutable media: long TTL, no query string, header or cookie in the key",
            default_ttl=Duration.days(365),
            max_ttl=Duration.days(365),
            min_ttl=Duration.seconds(0),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            # Video and images are compressed already.
            enable_accept_encoding_gzip=False,
            enable_accept_encoding_brotli=False,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Cdn",
            comment=f"{env.prefix} media",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                trusted_key_groups=[key_group],
                cache_policy=cache_policy,
                compress=False,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=(
                cloudfront.PriceClass.PRICE_CLASS_ALL
                if env.production
                else cloudfront.PriceClass.PRICE_CLASS_100
            ),
        )
