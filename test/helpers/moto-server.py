"""moto's AWS emulator (the app that `moto_server` runs), served the way the tests need it.

Three changes from plain `moto_server`, none of them to what an AWS API answers:

1. PutObject runs under a lock. moto 5.2 checks If-None-Match / If-Match and then writes, with
   nothing in between to stop another request thread, so two of eight concurrent conditional PUTs can
   both succeed when the machine is busy. AWS S3 decides each conditional write atomically; the store
   conformance tests rely on that.
2. The app is served by waitress (a thread pool with HTTP/1.1 keep-alive) instead of werkzeug's
   development server, which sends `Connection: close` on every response and starts a thread per
   connection: a new TCP connection per request, as no real S3 endpoint behaves.
3. moto lists its own package folder (about 180 stat calls) on every request to find the service;
   the list never changes while it runs, so it is read once.

Usage: python3 moto-server.py -H 127.0.0.1 -p PORT
"""

import argparse
import os
import threading

import waitress
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.responses import S3Response

_put_lock = threading.Lock()
_put_object = S3Response.put_object


def _atomic_put_object(self):
    with _put_lock:
        return _put_object(self)


S3Response.put_object = _atomic_put_object

_modules = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: _modules


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    # moto builds some ARNs and URLs (SQS queue URLs, for one) from the port it serves on.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    waitress.serve(app, host=args.host, port=args.port, threads=8, ident=None, _quiet=True)


if __name__ == "__main__":
    main()
