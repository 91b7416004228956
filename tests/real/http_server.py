#!/usr/bin/env python3
"""A ThreadingHTTPServer for tests/real_programs.sh: serves DIR on 127.0.0.1, on a port the
kernel picks (written to PORT_FILE once listening, so parallel test runs never collide), until
SIGTERM, then exits normally (so the runtime's exit-time counters are printed).

usage: http_server.py DIR PORT_FILE
"""
import functools
import http.server
import os
import signal
import sys


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    directory, port_file = sys.argv[1:3]
    handler = functools.partial(Quiet, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(port_file + ".tmp", port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
