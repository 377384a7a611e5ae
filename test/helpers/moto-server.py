"""moto's AWS emulator (the app that `moto_server` runs), served the way the tests need it.

Four changes from plain `moto_server`; only the fourth is to what an AWS API answers, and it makes
moto answer as AWS does:

1. PutObject runs under a lock. moto 5.2 checks If-None-Match / If-Match and then writes, with
   nothing in between to stop another request thread, so two of eight concurrent conditional PUTs can
   both succeed when the machine is busy. AWS S3 decides each conditional write atomically; the store
   conformance tests rely on that.
2. The app is served by waitress (a thread pool with HTTP/1.1 keep-alive) instead of werkzeug's
   development server, which sends `Connection: close` on every response and starts a thread per
   connection: a new TCP connection per request, as no real S3 endpoint behaves.
3. moto lists its own package folder (about 180 stat calls) on every request to find the service;
   the list never changes while it runs, so it is read once.
4. PutFunctionEventInvokeConfig replaces the function's configuration, as AWS documents ("If a
   configuration already exists for a function, this operation overwrites it"). moto 5.2 appends a
   second one and keeps answering with the first, so a destination could never be taken off.

And one test-only route: `POST /__test/s3-seed` with `{"bucket": B, "objects": {key: text}}` puts
many objects straight into the emulator's memory (20,000 in seconds, where one PutObject each takes
a minute). Tests seed large buckets with it; what they then measure goes through the real S3 API.

Usage: python3 moto-server.py -H 127.0.0.1 -p PORT
"""

import argparse
import json
import os
import threading

import waitress
from moto import backends
from moto.awslambda.models import EventInvokeConfig, LambdaBackend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response

_put_lock = threading.Lock()
_put_object = S3Response.put_object


def _atomic_put_object(self):
    with _put_lock:
        return _put_object(self)


S3Response.put_object = _atomic_put_object

def _put_event_invoke_config(self, function_name, config):
    fn = self.get_function(function_name)
    event_config = EventInvokeConfig(fn.function_arn, fn.last_modified, config)
    fn.event_invoke_config = [event_config]
    return event_config.response()


LambdaBackend.put_function_event_invoke_config = _put_event_invoke_config

_modules = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: _modules


SEED_PATH = "/__test/s3-seed"


def with_seed_route(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") != SEED_PATH or environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length))
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        with _put_lock:
            for key, text in request["objects"].items():
                backend.put_object(request["bucket"], key, text.encode("utf-8"))
        body = json.dumps({"seeded": len(request["objects"])}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    # moto builds some ARNs and URLs (SQS queue URLs, for one) from the port it serves on.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = with_seed_route(DomainDispatcherApplication(create_backend_app))
    waitress.serve(app, host=args.host, port=args.port, threads=8, ident=None, _quiet=True)


if __name__ == "__main__":
    main()
