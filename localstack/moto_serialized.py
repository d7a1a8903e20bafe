"""Runs moto's server with every request handled one at a time.

moto's in-memory backends are not thread-safe: two concurrent conditional writes (the accept race)
could both pass their condition. DynamoDB itself guarantees that exactly one wins, so the emulator
must too. A lock around each request gives moto the atomicity the real service has; connections are
still accepted concurrently, so clients see ordinary keep-alive behaviour."""

import argparse
import threading

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class Serialized:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            # Read the whole response inside the lock: WSGI apps may compute it lazily.
            return list(self.app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, Serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
