"""16 MiB of compressible, reproducible text on stdout: the input of the compression programs
that tests/run.sh (pigz, zstd, xz) and bench/hubs.sh (pigz) run on threads."""
import random
import sys

r = random.Random(7)
w = [bytes(r.choices(b"abcdefghij", k=r.randint(2, 9))) for _ in range(4096)]
sys.stdout.buffer.write(b" ".join(r.choice(w) for _ in range(2_800_000))[:16 << 20])
