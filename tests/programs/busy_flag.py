"""Hand-off (issue #8) in CPython: the main thread busy-loops in bytecode until a second thread,
sleeping 50 ms, sets a flag. The busy thread holds the GIL and only drops it when a waiter asks
(after its 5 ms timed wait on the GIL's condvar expires). With one carrier and no hand-off, the
sleeper's timer and that timed wait can never be served: the program never ends (tests/run.sh
runs it under a timeout). With hand-off a spare carrier runs the sleeper, which asks for the GIL,
gets it, sets the flag, and both finish. Output is deterministic and compared with native."""
import threading
import time

flag = False


def setter():
    global flag
    time.sleep(0.05)
    flag = True


t = threading.Thread(target=setter)
t.start()
spins = 0
while not flag:
    spins += 1
t.join()
print("busy loop ended: flag", flag)
