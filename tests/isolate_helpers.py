"""Worker functions for the Ctrl-C tests in test_isolate.py: importable by a spawned worker."""

import os
import time
from pathlib import Path

# Set by the driver after its own import: the worker then stalls while importing this module,
# as a real worker does while it imports torch, so a Ctrl-C can land in its start-up.
SLOW_IMPORT_ENV = "VGGABLATE_TEST_SLOW_IMPORT"

if os.environ.get(SLOW_IMPORT_ENV):
    Path(os.environ[SLOW_IMPORT_ENV]).write_text(str(os.getpid()))
    time.sleep(600)


def hang(marker: str) -> None:
    Path(marker).write_text(str(os.getpid()))
    time.sleep(600)


def lock_and_hang(marker: str) -> None:
    # tqdm makes a multiprocessing lock in every process that shows a bar (a training run's): a named
    # semaphore, which a worker killed mid-trial would leave to the resource tracker to clean up.
    import multiprocessing

    lock = multiprocessing.RLock()
    hang(marker)
    del lock
