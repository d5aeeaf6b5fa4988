"""Fairness of spec actions: per process (``\\A self : WF(node(self))``), of a disjunction (``WF(A \\/ B)``),
several declarations at once, and bad declarations as one line."""

from typing import NamedTuple

import pytest

from consensuslab import Fair, ModelError, Param, Spec, action, check, eventually, record
from consensuslab.checkers.liveness.check import confirm_lasso


@record
class Two(NamedTuple):
    flag: int  # p1 toggles it for ever
    done: bool  # p2 finishes once


FAIRNESS = {
    "per-all": (Fair("step", "Work", per="all"),),  # WF(\E i : Work(i)): p1's toggling is enough
    "per-node": (Fair("step", per="node"),),  # \A self : WF(node(self))
    "per-action": (Fair("step", "Work"),),  # \A i : WF(Work(i))
    "disjunction": (Fair("step", ("Toggle", "Finish"), per="all"),),  # WF(Toggle \/ Finish)
    "each": (Fair("step", "Toggle"), Fair("step", "Finish")),  # WF(Toggle) /\ WF(Finish)
    "both": (Fair("step", ("Toggle", "Finish"), per="all"), Fair("step", "Finish")),  # WF(T \/ F) /\ WF(F)
}


class Procs(Spec):
    name = "procs"
    params = {"fairness": Param("per-node", "which fairness", choices=tuple(FAIRNESS)),
              "style": Param("work", "one action Work(i), or Toggle and Finish", choices=("work", "split"))}
    Proc = ("p1", "p2")

    def setup(self):
        self.fairness = FAIRNESS[self.fairness]

    def init(self):
        yield Two(0, False)

    @action(i="Proc", by="i")
    def Work(self, s, i):
        if self.style != "work":
            return None
        if i == "p1":
            return s._replace(flag=1 - s.flag)
        if not s.done:
            return s._replace(done=True)

    @action(by="p1")
    def Toggle(self, s):
        if self.style == "split":
            return s._replace(flag=1 - s.flag)

    @action(by="p2")
    def Finish(self, s):
        if self.style == "split" and not s.done:
            return s._replace(done=True)

    @eventually
    def p2_done(self, s):
        return s.done


@pytest.mark.parametrize("fairness,style,verdict", [
    ("per-all", "work", "violated"), ("per-node", "work", "holds"), ("per-action", "work", "holds"),
    ("disjunction", "split", "violated"), ("each", "split", "holds"), ("per-node", "split", "holds"),
    ("both", "split", "holds"),
])
def test_fairness_of_spec_actions(fairness, style, verdict):
    model = Procs({"fairness": fairness, "style": style}).compile()
    model.select_properties(["p2_done"])
    r = check(model, progress=False)
    assert r.properties["p2_done"] == verdict
    if verdict == "violated":
        trace = r.violation.trace
        assert all(not s.done for s in trace.states) and trace.loop < len(trace)  # p1 toggles for ever
        confirm_lasso(Procs({"fairness": fairness, "style": style}).compile(), trace, "p2_done")


def test_overlapping_declarations_are_all_owed():
    """``WF(Toggle \\/ Finish) /\\ WF(Finish)``: Finish owes both; with only the first, p2 could wait for ever."""
    from consensuslab.models.fairness import Classifier

    model = Procs({"fairness": "both", "style": "split"}).compile()
    classifier = Classifier(model)
    s0 = model.initial_states()[0]
    finish = [a for a, _ in model.successors(s0) if a.name == "Finish"]
    assert len(classifier.owed(s0, finish)) == 2


class Blind(Procs):
    name = "blind"

    @action(i="Proc")
    def Work(self, s, i):
        return None


@pytest.mark.parametrize("fair,message", [
    (Fair("step", per="node"), r"^blind: Fair\(.*\) is per node, but action Work does not say which node takes it: "
                               r"declare @action\(\.\.\., by='<its node parameter>'\), or use per='all'"),
    (Fair("step", "Wrok"), r"^blind: Fair\(.*\) names 'Wrok', which is not an action; actions: Finish, Toggle, Work$"),
    (Fair("step", "Work", role="p"), r"^blind: Fair\(.*\): a spec has no roles"),
    (Fair("local", "Work"), r"^blind: Fair\(.*\): a spec's actions are of kind 'step'; write Fair\('step', \.\.\.\)$"),
])
def test_bad_fairness_declarations_are_one_line(fair, message):
    model = Blind().compile()
    model.definition.fairness = (fair,)
    model.select_properties(["p2_done"])
    with pytest.raises(ModelError, match=message):
        check(model, progress=False)


@record
class Token(NamedTuple):
    passed: bool


class Stutters(Spec):
    """PlusCal's ``node(self) == Idle \\/ Pass`` where Idle may leave the state as it is."""

    name = "stutters"
    fairness = (Fair("step", per="node"),)

    def init(self):
        yield Token(False)

    @action(by="p")
    def Idle(self, s):
        return s  # active' = FALSE on an inactive node: a stuttering step

    @action(by="p")
    def Pass(self, s):
        if not s.passed:
            return s._replace(passed=True)

    @eventually
    def passes(self, s):
        return s.passed


def test_a_stuttering_step_does_not_fulfil_fairness():
    """WF_vars(node(p)) needs an <<node(p)>>_vars step: idling in place for ever is not fair while Pass is enabled."""
    model = Stutters().compile()
    model.select_properties(["passes"])
    assert check(model, progress=False).properties["passes"] == "holds"
    unfair = Stutters().compile()
    unfair.definition.fairness = ()
    unfair.select_properties(["passes"])
    assert check(unfair, progress=False).properties["passes"] == "violated"
