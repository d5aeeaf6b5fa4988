"""pytest plugin: ``pytest --consensuslab`` runs every registered scenario's expectation as a test.

Each scenario becomes one item (marked ``consensuslab``, named
``protocol:scenario``, so ``-k two-phase`` and ``-m consensuslab`` select as
usual); pytest's own ``--junitxml`` then gives CI its JUnit report, with the
kind, state count and trace file as each test's properties.  Items run as
``check-all`` runs them: each in a process of its own within
``--consensuslab-time-limit`` and ``--consensuslab-memory-limit`` (one that
runs out is skipped as incomplete, with the states covered), passes read
from and kept in the cache (``--consensuslab-cache-dir``).
``--consensuslab-shard I/N`` keeps this job's part; with pytest-xdist,
``-n 2`` runs two at a time.  A failure shows the rendered trace and the ITF
file written under ``--consensuslab-traces``.  Under GitHub Actions the
failures are annotated at their file and line, and a summary table is
appended to ``$GITHUB_STEP_SUMMARY``.

Enable with ``-p consensuslab.testing.pytest_scenarios`` or the entry point
``consensuslab-scenarios = "consensuslab.testing.pytest_scenarios"`` (pytest11).
"""

from __future__ import annotations

import os

import pytest

MARKER = "consensuslab"
OUTCOMES = pytest.StashKey[list]()
CACHE = pytest.StashKey[object]()


def pytest_addoption(parser) -> None:
    from consensuslab.checkers.variants.cache import DEFAULT_DIR
    from consensuslab.checkers.variants.isolated import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT

    group = parser.getgroup("consensuslab", "consensuslab protocol scenarios")
    group.addoption("--consensuslab", action="store_true", default=False,
                    help="collect every registered protocol scenario as a test item")
    group.addoption("--consensuslab-traces", default=".consensuslab-traces", metavar="DIR",
                    help="where failing scenarios' ITF traces are written (default: %(default)s)")
    group.addoption("--consensuslab-time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                    help="per scenario (default: %(default)s, 0 for none); one that runs out is skipped as incomplete")
    group.addoption("--consensuslab-memory-limit", type=int, default=DEFAULT_MEMORY_LIMIT, metavar="MB",
                    help="memory a scenario's process may add (default: %(default)s MB, 0 for none)")
    group.addoption("--consensuslab-shard", default=None, metavar="I/N",
                    help="keep only the I-th of N round-robin parts of the scenario items")
    group.addoption("--consensuslab-cache-dir", default=DEFAULT_DIR, metavar="DIR",
                    help="where passing results are kept, below the root directory (default: %(default)s)")
    group.addoption("--consensuslab-no-cache", action="store_true", default=False,
                    help="neither read nor write the scenario cache")
    group.addoption("--consensuslab-protocol", action="append", default=[], metavar="NAME",
                    help="only this protocol (a name or path.py[:Class]; repeatable)")
    group.addoption("--consensuslab-module", action="append", default=[], metavar="MODULE",
                    help="also collect the protocol classes MODULE defines (repeatable)")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a consensuslab protocol scenario checked against its expectation")
    config.stash[OUTCOMES] = []
    config.pluginmanager.register(OutcomeLog(config.stash[OUTCOMES]), "consensuslab-outcomes")


class ScenarioFailed(Exception):
    """An expectation was not met; carries the outcome for ``repr_failure``."""

    def __init__(self, outcome):
        super().__init__(outcome.message)
        self.outcome = outcome


class ScenarioCollector(pytest.Collector):
    """The parent of all scenario items: one per (protocol class, scenario)."""

    def __init__(self, *, plan, **kwargs):
        super().__init__(**kwargs)
        self.plan = plan

    def collect(self):
        for cls, scenario in self.plan:
            yield ScenarioItem.from_parent(self, name=f"{cls.name}:{scenario}", protocol_cls=cls, scenario=scenario)


class ScenarioItem(pytest.Item):
    def __init__(self, *, protocol_cls, scenario: str, **kwargs):
        super().__init__(**kwargs)
        self.cls = protocol_cls
        self.scenario = scenario
        self.add_marker(MARKER)

    def runtest(self) -> None:
        from consensuslab.checkers.variants.expect import FAIL, INCOMPLETE
        from consensuslab.checkers.variants.isolated import Runner
        from consensuslab.render.text import render_outcome

        config = self.config
        report = Runner(_limits(config), traces_dir=str(config.rootpath / config.getoption("consensuslab_traces")),
                        cache=_cache(config), describe=render_outcome).run([(self.cls, self.scenario)])
        if report.interrupted:
            raise KeyboardInterrupt
        out = report.outcomes[0]
        self.user_properties.extend(properties(out))
        if out.verdict == INCOMPLETE:
            pytest.skip(out.message)
        if out.verdict == FAIL:
            raise ScenarioFailed(out)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            from consensuslab.commands.ci_report import failure_text, where

            out = excinfo.value.outcome
            at = where(out)
            return failure_text(out) + (f"\n{at}: {out.error['type'] if out.error else 'declared here'}" if at else "")
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"consensuslab scenario {self.name}"


def properties(out) -> list[tuple[str, object]]:
    """What a test's report carries (to JUnit's properties, and from xdist workers to the summary)."""
    from consensuslab.commands.ci_report import where

    pairs = [("consensuslab", out.message), ("kind", out.kind), ("expect", out.expect),
             ("distinct_states", out.distinct_states), ("trace_file", out.trace_file), ("cached", out.cached or None),
             ("location", where(out) if out.verdict == "fail" else None),
             ("error", out.error["type"] if out.error else None)]
    return [(name, value) for name, value in pairs if value is not None]


def outcome_of(report):
    """The scenario's outcome as a test report tells it (None for other tests and phases)."""
    from consensuslab.checkers.variants.expect import FAIL, INCOMPLETE, PASS, Outcome

    props = dict(report.user_properties)
    if "consensuslab" not in props or report.when != "call":
        return None
    protocol, _, scenario = report.nodeid.rpartition("::")[2].partition(":")
    file, _, line = (props.get("location") or "").rpartition(":")
    verdict = {"passed": PASS, "failed": FAIL, "skipped": INCOMPLETE}[report.outcome]
    return Outcome(protocol, scenario, str(props["expect"]), None, verdict, str(props["consensuslab"]),
                   trace_file=props.get("trace_file"), seconds=report.duration, kind=str(props["kind"]),
                   distinct_states=int(props["distinct_states"]), cached=bool(props.get("cached")),
                   location={"file": file, "line": int(line)} if file and line.isdigit() else None)


class OutcomeLog:
    """Gathers the scenarios' outcomes from the test reports (xdist sends its workers' reports here too)."""

    def __init__(self, outcomes: list):
        self.outcomes = outcomes

    def pytest_runtest_logreport(self, report) -> None:
        out = outcome_of(report)
        if out is not None:
            self.outcomes.append(out)


def _limits(config):
    from consensuslab.checkers.variants.isolated import Limits

    return Limits(config.getoption("consensuslab_time_limit") or None,
                  config.getoption("consensuslab_memory_limit") or None)


def _cache(config):
    """One cache for the session (it computes the tool's digest and each protocol's once)."""
    from consensuslab.checkers.variants.cache import ResultCache

    if config.getoption("consensuslab_no_cache"):
        return None
    if CACHE not in config.stash:
        config.stash[CACHE] = ResultCache(str(config.rootpath / config.getoption("consensuslab_cache_dir")))
    return config.stash[CACHE]


def _plan(config) -> list:
    from consensuslab.checkers.variants.plan import build_plan, parse_shard, take_shard
    from consensuslab.loader import selected_classes

    plan = build_plan(selected_classes(config.getoption("consensuslab_protocol"),
                                       config.getoption("consensuslab_module")))
    shard = config.getoption("consensuslab_shard")
    return take_shard(plan, *parse_shard(shard)) if shard else plan


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items) -> None:
    """Add the scenario items before ``-k``/``-m`` deselection (hence tryfirst) sees the list."""
    if not config.getoption("consensuslab"):
        return
    from consensuslab.errors import ConsensuslabError

    try:
        plan = _plan(config)
    except ConsensuslabError as exc:
        raise pytest.UsageError(str(exc)) from None
    parent = ScenarioCollector.from_parent(session, name=MARKER, nodeid=MARKER, plan=plan)
    items.extend(session.genitems(parent))  # reports the collection, so counts and -k see the items


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Under GitHub Actions: annotations at the failures' lines, and the summary table."""
    outcomes = config.stash.get(OUTCOMES, [])
    if not outcomes or hasattr(config, "workerinput"):  # an xdist worker: the controller reports
        return
    from consensuslab.commands.ci_report import annotations, markdown_summary

    if os.environ.get("GITHUB_ACTIONS") == "true":
        for note in annotations(outcomes):
            terminalreporter.write_line(note)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(markdown_summary(outcomes, sum(o.seconds for o in outcomes), title="pytest --consensuslab"))
