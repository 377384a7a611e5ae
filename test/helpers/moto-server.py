"""moto_server, with one change: PutObject runs under a lock.

moto 5.2 checks If-None-Match / If-Match and then writes, with nothing in between to stop another
request thread, so two of eight concurrent conditional PUTs can both succeed when the machine is busy.
AWS S3 decides each conditional write atomically; the store conformance tests rely on that.
"""

import threading

from moto.s3.responses import S3Response
from moto.server import main

_put_lock = threading.Lock()
_put_object = S3Response.put_object


def _atomic_put_object(self):
    with _put_lock:
        return _put_object(self)


S3Response.put_object = _atomic_put_object

if __name__ == "__main__":
    main()
