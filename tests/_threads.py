"""Running test work on several threads at once, with every thread's exception surfaced."""
import threading


def run_in_threads(work, n: int) -> None:
    """Calls work(i) for i in range(n), each on its own thread, and joins them all; raises an
    AssertionError listing what any thread raised."""
    errors = []

    def guarded(i):
        try:
            work(i)
        except Exception as e:  # noqa: BLE001 (surfaced below)
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
