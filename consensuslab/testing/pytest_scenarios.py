"""pytest plugin: ``pytest --consensuslab`` runs every registered scenario's expectation as a test.

Each scenario becomes one item (marked ``consensuslab``, named
``protocol:scenario``, so ``-k two-phase`` and ``-m consensuslab`` select as
usual); pytest's own ``--junitxml`` then gives CI its JUnit report.  A
failure shows the rendered trace and the ITF file written under
``--consensuslab-traces``; a scenario that runs out of
``--consensuslab-time-limit`` is skipped as incomplete, with the states covered.

Enable with ``-p consensuslab.testing.pytest_scenarios`` or the entry point
``consensuslab-scenarios = "consensuslab.testing.pytest_scenarios"`` (pytest11).
"""

from __future__ import annotations

import pytest

MARKER = "consensuslab"


def pytest_addoption(parser) -> None:
    group = parser.getgroup("consensuslab", "consensuslab protocol scenarios")
    group.addoption("--consensuslab", action="store_true", default=False,
                    help="collect every registered protocol scenario as a test item")
    group.addoption("--consensuslab-traces", default=".consensuslab-traces", metavar="DIR",
                    help="where failing scenarios' ITF traces are written (default: %(default)s)")
    group.addoption("--consensuslab-time-limit", type=float, default=None, metavar="SECONDS",
                    help="per scenario; one that runs out is skipped as incomplete")
    group.addoption("--consensuslab-memory-limit", type=megabytes_option, default=None, metavar="MB",
                    help="cap the data memory while a scenario runs; one that reaches it is skipped as incomplete")
    group.addoption("--consensuslab-protocol", action="append", default=[], metavar="NAME",
                    help="only this protocol (a name or path.py[:Class]; repeatable)")
    group.addoption("--consensuslab-module", action="append", default=[], metavar="MODULE",
                    help="also collect the protocol classes MODULE defines (repeatable)")


def megabytes_option(text: str) -> float:
    """The unit and checks of every verb's ``--memory-limit`` (``limits.megabytes_value``)."""
    from consensuslab.checkers.search.limits import megabytes_value

    try:
        return megabytes_value(text)
    except ValueError as exc:
        raise pytest.UsageError(f"--consensuslab-memory-limit: {exc}") from None


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a consensuslab protocol scenario checked against its expectation")


class ScenarioFailed(Exception):
    """An expectation was not met; carries the outcome for ``repr_failure``."""

    def __init__(self, outcome):
        super().__init__(outcome.message)
        self.outcome = outcome


class ScenarioCollector(pytest.Collector):
    """The parent of all scenario items: one per (protocol class, scenario)."""

    def __init__(self, *, classes, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes

    def collect(self):
        from consensuslab.checkers.variants.expect import scenario_names

        for cls in self.classes:
            for scenario in scenario_names(cls):
                yield ScenarioItem.from_parent(self, name=f"{cls.name}:{scenario}", protocol_cls=cls,
                                               scenario=scenario)


class ScenarioItem(pytest.Item):
    def __init__(self, *, protocol_cls, scenario: str, **kwargs):
        super().__init__(**kwargs)
        self.cls = protocol_cls
        self.scenario = scenario
        self.add_marker(MARKER)

    def runtest(self) -> None:
        from consensuslab.checkers.variants.expect import FAIL, INCOMPLETE, run_scenario

        from consensuslab.checkers.search.limits import cap_for_megabytes, memory_limit

        config = self.config
        with memory_limit(cap_for_megabytes(config.getoption("consensuslab_memory_limit"))):
            out = run_scenario(self.cls, self.scenario, config.getoption("consensuslab_time_limit"),
                               str(config.rootpath / config.getoption("consensuslab_traces")))
        self.user_properties.append(("consensuslab", out.message))
        if out.verdict == INCOMPLETE:
            pytest.skip(out.message)
        if out.verdict == FAIL:
            raise ScenarioFailed(out)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            from consensuslab.render.text import render_outcome

            return render_outcome(excinfo.value.outcome)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"consensuslab scenario {self.name}"


def _classes(config) -> list[type]:
    from consensuslab.loader import selected_classes

    return selected_classes(config.getoption("consensuslab_protocol"), config.getoption("consensuslab_module"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items) -> None:
    """Add the scenario items before ``-k``/``-m`` deselection (hence tryfirst) sees the list."""
    if not config.getoption("consensuslab"):
        return
    from consensuslab.errors import ConsensuslabError

    try:
        classes = _classes(config)
    except ConsensuslabError as exc:
        raise pytest.UsageError(str(exc)) from None
    parent = ScenarioCollector.from_parent(session, name=MARKER, nodeid=MARKER, classes=classes)
    items.extend(session.genitems(parent))  # reports the collection, so counts and -k see the items
