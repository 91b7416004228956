#!/usr/bin/env python3
"""A ThreadingHTTPServer for tests/real_programs.sh: serves DIR on 127.0.0.1, on a port the
kernel picks (written to PORT_FILE once listening, so parallel test runs never collide), until
SIGTERM, then exits normally (so the runtime's exit-time counters are printed). With DELAY_MS,
each response waits that long first: a client's read then always finds nothing yet and must
wait, which the urllib client test counts on.

usage: http_server.py DIR PORT_FILE [DELAY_MS]
"""
import functools
import http.server
import os
import signal
import sys
import time


class Quiet(http.server.SimpleHTTPRequestHandler):
    delay = 0.0

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.delay:
            time.sleep(self.delay)
        super().do_GET()


def main():
    directory, port_file = sys.argv[1:3]
    Quiet.delay = int(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.0
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
