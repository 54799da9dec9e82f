"""A local S3 for tests: moto's server, made to check presigned URLs as S3 does.

moto stores whatever a presigned URL sends: it checks neither the signature nor the
expiry, so a body of another length or type is accepted. Real S3 refuses those with
403, and that refusal is what our uploads rely on; so requests carrying a presigned
signature are verified here, with botocore's own SigV4 code, before moto sees them.
This runs the same pieces `moto.server.ThreadedMotoServer` runs (moto's WSGI app on
werkzeug's threaded server), which gives no way to put a check in front of its app.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import parse_qsl, quote
from wsgiref.types import StartResponse, WSGIEnvironment

import boto3
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from mypy_boto3_s3 import S3Client
from werkzeug.serving import make_server

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION: Final = "eu-west-1"


class _QuietHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: the test output is for failures."""


def _header(environ: WSGIEnvironment, name: str) -> str | None:
    if name in ("content-type", "content-length"):
        value = environ.get(name.upper().replace("-", "_"))
    else:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return value or None


def presign_error(environ: WSGIEnvironment) -> tuple[str, str] | None:
    """S3's error code and message for this presigned request, or None if S3 would accept it."""
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    signature = params.pop("X-Amz-Signature")
    issued = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if datetime.now(UTC) > issued + timedelta(seconds=int(params["X-Amz-Expires"])):
        return "AccessDenied", "Request has expired"
    headers: dict[str, str] = {}
    for name in params["X-Amz-SignedHeaders"].split(";"):
        value = _header(environ, name)
        if value is None:
            return "SignatureDoesNotMatch", f"The signed header {name} is missing."
        headers[name] = value
    # Canonical form: each name and value URI-encoded as SigV4 defines.
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params.items())
    path = environ["RAW_URI"].partition("?")[0]
    request = AWSRequest(
        method=environ["REQUEST_METHOD"],
        url=f"http://{headers['host']}{path}?{query}",
        headers=headers,
    )
    request.context["timestamp"] = params["X-Amz-Date"]
    region = params["X-Amz-Credential"].split("/")[2]
    auth = S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", region)
    expected = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    if expected != signature:
        return "SignatureDoesNotMatch", "The request signature we calculated does not match."
    return None


class S3Server:
    """moto on 127.0.0.1, a free port, serving from a thread while `running()`."""

    def __init__(self) -> None:
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._http = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self.endpoint_url = f"http://127.0.0.1:{self._http.server_port}"

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if "X-Amz-Signature=" in environ.get("QUERY_STRING", ""):
            error = presign_error(environ)
            if error is not None:
                code, message = error
                body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
                # The body is left unread, so this connection cannot carry another request.
                headers = [("Content-Type", "application/xml"), ("Connection", "close")]
                start_response("403 Forbidden", headers)
                return [body]
        response: Iterable[bytes] = self._moto(environ, start_response)
        return response

    @contextmanager
    def running(self) -> Iterator[S3Server]:
        thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            thread.join()

    def client(self) -> S3Client:
        return boto3.client(
            "s3",
            region_name=REGION,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(signature_version="s3v4"),
        )
