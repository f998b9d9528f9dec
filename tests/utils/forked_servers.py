"""Serve the API from several processes that share one import of it.

``python -m tests.utils.forked_servers FD [FD ...]`` imports ``api.main`` once, then
forks one child per inherited listening socket; each child runs uvicorn on its socket
with its own database pool, like a separately started server. Importing the app costs
seconds, so forking after the import starts eight servers in the time of one. SIGTERM to
the parent stops the children; a child whose parent has died stops by itself.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time


def _serve(fd: int) -> None:
    import uvicorn

    from api.main import app

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    parent = os.getppid()

    def orphaned() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        server.should_exit = True

    threading.Thread(target=orphaned, daemon=True).start()
    server.run(sockets=[socket.socket(fileno=fd)])


def main(fds: list[int]) -> None:
    """Fork one server per socket and wait for them all."""
    import api.main  # noqa: F401 - the one import every child shares

    children = []
    for fd in fds:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _serve(fd)
            except BaseException:  # noqa: BLE001 - report and leave the child
                code = 1
                raise
            finally:
                os._exit(code)
        children.append(pid)

    def stop(_signum: int, _frame: object) -> None:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]])
