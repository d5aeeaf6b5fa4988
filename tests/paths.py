"""Where the tests' files are, whichever folder a test lives in."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DATA = TESTS / "data"
TRACES = TESTS / "traces"
BENCHMARKS = ROOT / "benchmarks"
