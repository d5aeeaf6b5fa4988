"""Run the real command line in a subprocess, as users and CI scripts do."""

import json
import subprocess
import sys


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "consensuslab", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def cli_json(*args, cwd=None):
    proc = cli(*args, "--json", cwd=cwd)
    return proc, json.loads(proc.stdout)
