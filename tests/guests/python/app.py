"""The Python test guest: a WASI 0.2 command built with componentize-py.

    python-app FILE

Prints a greeting, its arguments, the environment variable CMC_GREETING,
the content of FILE (in a preopened directory), and whether the clocks and
the random source work. Exercises the CPython runtime on wasi:cli
(arguments, environment, stdio), wasi:filesystem, wasi:clocks and
wasi:random, in an 18 MB component.
"""

import os
import sys
import time

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print("Hello from Python!")
        print("argv:", sys.argv)
        print("CMC_GREETING:", os.environ.get("CMC_GREETING", "<unset>"))
        if len(sys.argv) > 1:
            with open(sys.argv[1]) as f:
                print("file:", repr(f.read()))
        start = time.monotonic()
        time.sleep(0.01)
        elapsed = time.monotonic() - start
        print("time works:", time.time() > 1.6e9 and elapsed >= 0.01)
        a, b = os.urandom(16), os.urandom(16)
        print("random works:", a != b and any(a))
