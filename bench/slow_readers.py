"""Slow readers against the Procfile server (issue 12, attack 5): the workers' resident memory before,
during and after N clients that open the replay of a 1000-epoch 2D run (GET .../events from epoch 0) or
the weights.npz of a 4x512 MNIST run, and never read.

    python3 bench/slow_readers.py                     # this checkout, 200 readers
    python3 bench/slow_readers.py --root /tmp/other   # another copy of the repository (say, an older one)

Starts gunicorn as the Procfile says (temporary SQLite file, free loopback port), trains the two runs,
then runs tests/server/slow_readers.py's attack. Loopback only; each reader has a 127.0.0.x address.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from tests.procfile import start_procfile_server  # noqa: E402
from tests.server.slow_readers import LONG_2D, WIDE_MNIST, attack, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository whose Procfile to run")
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="attacks one after the other")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="slow-readers-"))
    server = start_procfile_server(folder / "runs.sqlite3", folder / "server.log", root=args.root)
    try:
        replay_run, weights_run = train(server, LONG_2D), train(server, WIDE_MNIST)
        for _ in range(args.rounds):
            print(attack(server, replay_run, weights_run, args.readers))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
