"""Cycling through ended runs' views (issue 12, attack 6): the CPU seconds a Procfile server's workers
use for GET .../views of 18 ended 4x512 MNIST runs (more than a process's cache of 16), three rounds.

    python3 bench/views_cpu.py                      # this checkout
    python3 bench/views_cpu.py --root /tmp/other    # another copy of the repository (say, an older one)
    python3 bench/views_cpu.py --hidden 128 --runs 18

Starts gunicorn as the Procfile says (temporary SQLite file, free loopback port), trains the runs, then
asks for their views round after round. Loopback only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from tests.procfile import start_procfile_server  # noqa: E402
from tests.server.views_cpu import train_many, views_cpu  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository whose Procfile to run")
    parser.add_argument("--hidden", default="512,512,512,512", help="the runs' hidden layers")
    parser.add_argument("--runs", type=int, default=18)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    hidden = [int(units) for units in args.hidden.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="views-cpu-"))
    env = {"PLAYGROUND_QUEUE": str(args.runs)}
    server = start_procfile_server(folder / "runs.sqlite3", folder / "server.log", env, root=args.root)
    try:
        run_ids = train_many(server, hidden, args.runs)
        seconds, requests = views_cpu(server, run_ids, args.rounds)
        print(
            f"{requests} GET /views of {args.runs} MNIST runs (hidden {args.hidden}): {seconds:.2f} CPU s"
            f" ({1000 * seconds / requests:.1f} ms a request)"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
