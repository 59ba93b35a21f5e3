"""Poll Jupyter's zmq sockets in 1 s slices.

pyzmq's asyncio poll can miss the wake-up for a message that has already arrived and sleep until its timeout:
the Binder simulation saw a notebook stall for exactly its 300 s cell timeout, three times in a day, with the
kernel idle and the reply waiting (nbclient's log: the cell's 'idle' status at 11:42:10, the next cell at
11:47:10). A fresh poll checks the socket's state first, so polling in short slices turns a missed wake-up into a
delay of at most a second. Imported by the in-process notebook runs; its source is prepended to the scripts that
run notebooks in another Python (tests/test_binder_build.py).
"""
import time
from queue import Empty

from jupyter_client.channels import AsyncZMQSocketChannel

_get_msg = AsyncZMQSocketChannel.get_msg


async def _sliced_get_msg(self, timeout=None):
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        left = 1.0 if end is None else min(1.0, max(0.0, end - time.monotonic()))
        try:
            return await _get_msg(self, left)
        except Empty:
            if end is not None and time.monotonic() >= end:
                raise


if getattr(AsyncZMQSocketChannel.get_msg, "__name__", "") != "_sliced_get_msg":
    AsyncZMQSocketChannel.get_msg = _sliced_get_msg
