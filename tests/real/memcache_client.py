#!/usr/bin/env python3
"""Deterministic memcached text-protocol client for tests/real_programs.sh.

usage: memcache_client.py PORT KEYS MISSES CONNECTIONS
       memcache_client.py stats PORT      (only print the server's counters)

Stores KEYS items (values of 1 byte to 256 KiB, derived from the key, so every run sends the
same bytes) over CONNECTIONS concurrent connections (one Python thread each, so the server's
worker threads all get work at once), reads every item back (single and multi-key gets) and
checks each value byte for byte, asks for MISSES keys that were never stored, then prints the
server's counters. Output is identical for any correct server; exit 1 on a wrong value.
"""
import hashlib
import socket
import sys
import threading


def value_of(i):
    """The value stored under key i: sizes cycle through small, medium and large."""
    size = [1, 100, 1000, 4096, 20000, 65536, 256 * 1024][i % 7] + i % 13
    seed = hashlib.sha256(b"v%d" % i).digest()
    return (seed * (size // len(seed) + 1))[:size]


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def cmd(self, line, payload=None):
        data = line + b"\r\n"
        if payload is not None:
            data += payload + b"\r\n"
        self.s.sendall(data)

    def line(self):
        return self.f.readline()

    def get(self, keys):
        """{key: value} for the keys the server has."""
        self.cmd(b"get " + b" ".join(keys))
        got = {}
        while True:
            head = self.line()
            if head == b"END\r\n":
                return got
            _, key, _flags, n = head.split()
            body = self.f.read(int(n) + 2)
            got[key] = body[:-2]


def key_of(i):
    return b"key:%06d" % i


def worker(port, mine, misses, errors, counts):
    c = Conn(port)
    for i in mine:
        v = value_of(i)
        c.cmd(b"set %s %d 0 %d" % (key_of(i), i, len(v)), v)
        r = c.line()
        if r != b"STORED\r\n":
            errors.append("set %d: %r" % (i, r))
    hits = 0
    for j in range(0, len(mine), 5):  # gets of up to 5 keys at once
        batch = mine[j:j + 5]
        got = c.get([key_of(i) for i in batch])
        for i in batch:
            if got.get(key_of(i)) != value_of(i):
                errors.append("get %d: wrong or missing value" % i)
            else:
                hits += 1
    missed = 0
    for m in misses:
        if c.get([b"absent:%06d" % m]) == {}:
            missed += 1
        else:
            errors.append("absent key %d found" % m)
    counts.append((hits, missed))
    c.cmd(b"quit")
    c.s.close()


STATS = ("cmd_set", "cmd_get", "get_hits", "get_misses", "curr_items", "total_items", "threads")


def server_stats(port):
    c = Conn(port)
    c.cmd(b"stats")
    stats = {}
    while True:
        line = c.line()
        if line == b"END\r\n":
            break
        _, k, v = line.decode().split()
        stats[k] = v
    c.s.close()
    return stats


def main():
    if sys.argv[1] == "stats":
        stats = server_stats(int(sys.argv[2]))
        print(" ".join("%s=%s" % (k, stats.get(k)) for k in STATS))
        return
    port, keys, misses, conns = map(int, sys.argv[1:5])
    errors, counts, threads = [], [], []
    for t in range(conns):
        mine = list(range(t, keys, conns))
        absent = list(range(t, misses, conns))
        threads.append(threading.Thread(target=worker, args=(port, mine, absent, errors, counts)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hits = sum(h for h, _ in counts)
    missed = sum(m for _, m in counts)
    print("client: %d sets, %d hits, %d misses, %d errors" % (keys, hits, missed, len(errors)))
    for e in errors[:10]:
        print("error:", e)
    stats = server_stats(port)
    print("server " + " ".join("%s=%s" % (k, stats.get(k)) for k in STATS))
    ok = not errors and hits == keys and missed == misses
    ok = ok and stats.get("get_hits") == str(keys) and stats.get("get_misses") == str(misses)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
