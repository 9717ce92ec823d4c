"""SIDs: a prefix and 32 hex digits of randomness, unique across batches, threads and forked children."""

from __future__ import annotations

import os
import threading
import warnings

from callboard.core import ids


def test_sids_are_well_formed_and_unique_across_many_batches() -> None:
    made = [ids.new_sid(ids.TASK) for _ in range(5_000)]
    assert len(set(made)) == len(made)
    assert all(ids.is_sid(sid, ids.TASK) for sid in made)


def test_threads_drawing_together_get_distinct_sids() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def draw(into: list[str]) -> None:
        into.extend(ids.new_sid(ids.RESERVATION) for _ in range(2_000))

    threads = [threading.Thread(target=draw, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [sid for into in made for sid in into]
    assert len(everything) == 8_000 == len(set(everything))


def test_a_forked_child_does_not_repeat_its_parents_sids() -> None:
    ids.new_sid(ids.TASK)  # the parent holds SIDs made ahead
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12 warns about fork in a threaded process
        pid = os.fork()
    if pid == 0:
        try:
            os.write(write, ids.new_sid(ids.TASK).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert ids.is_sid(child, ids.TASK)
    assert child != ids.new_sid(ids.TASK)
