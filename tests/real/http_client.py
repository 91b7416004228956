#!/usr/bin/env python3
"""urllib client for tests/real_programs.sh: fetches URL REQUESTS times from THREADS threads and
compares every body byte for byte with FILE. Prints a summary identical for any correct server;
exit 1 on a wrong body or a failed request.

usage: http_client.py URL FILE REQUESTS THREADS
"""
import hashlib
import sys
import threading
import urllib.request


def main():
    url, path, requests, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(path, "rb") as f:
        want = f.read()
    results, errors = [], []

    def fetch(n):
        for _ in range(n):
            try:
                with urllib.request.urlopen(url, timeout=60) as r:
                    body = r.read()
                    results.append((r.status, len(body), body == want))
            except Exception as e:  # reported, and the run fails
                errors.append(repr(e))

    ts = [threading.Thread(target=fetch, args=(requests // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    same = sum(1 for _, _, eq in results if eq)
    statuses = sorted(set(s for s, _, _ in results))
    print("urllib: %d requests, %d bodies identical to the file (%d bytes, sha256 %s), status %s, %d errors"
          % (len(results), same, len(want), hashlib.sha256(want).hexdigest()[:16], statuses, len(errors)))
    for e in errors[:5]:
        print("error:", e)
    sys.exit(0 if same == requests and not errors else 1)


if __name__ == "__main__":
    main()
