"""Values of different declared types never compare equal, whichever decorator declared them."""

from typing import NamedTuple

import pytest

from consensuslab import ModelError, Spec, action, always, check, message, record, state
from consensuslab.checkers.search.lint import lint


@record
class Ack(NamedTuple):
    n: int
    v: str


@record
class Replicate(NamedTuple):
    n: int
    v: str


@message
class AckMsg:
    n: int
    v: str


@message
class ReplicateMsg:
    n: int
    v: str


@message
class TupleMsg(NamedTuple):  # @message on a NamedTuple: the same as @record
    n: int
    v: str


def test_records_of_different_classes_are_different_values():
    assert Ack(1, "v1") != Replicate(1, "v1")
    assert not Ack(1, "v1") == Replicate(1, "v1")
    assert Ack(1, "v1") != (1, "v1") and (1, "v1") != Ack(1, "v1")
    assert len({Ack(1, "v1"), Replicate(1, "v1")}) == 2
    assert Ack(1, "v1") == Ack(1, "v1") and hash(Ack(1, "v1")) == hash(Ack(1, "v1"))
    assert Ack(1, "v1") in {Ack(1, "v1")} and Replicate(1, "v1") not in {Ack(1, "v1")}


def test_messages_of_every_declaration_compare_by_type():
    assert AckMsg(1, "v1") != ReplicateMsg(1, "v1")
    assert TupleMsg(1, "v1") != Ack(1, "v1") and TupleMsg(1, "v1") != (1, "v1")
    assert TupleMsg(1, "v1")._replace(n=2) == TupleMsg(2, "v1")
    assert type(TupleMsg(1, "v1")._replace(n=2)) is TupleMsg


def test_records_stay_named_tuples():
    a = Ack(1, "v1")
    n, v = a
    assert (n, v, a[1], a._fields, a._asdict()) == (1, "v1", "v1", ("n", "v"), {"n": 1, "v": "v1"})
    assert a._replace(v="v2") == Ack(1, "v2")


def test_a_declaration_that_cannot_be_made_safe_is_refused_in_one_line():
    with pytest.raises(ModelError, match=r"^Plain: @record is for typing.NamedTuple classes; declare a plain "
                                         r"class with @state or @message$"):
        @record
        class Plain:
            x: int

    with pytest.raises(ModelError, match=r"^Pair: a tuple subclass cannot be an attrs class"):
        @state
        class Pair(tuple):
            pass


# -- the bug as a newcomer met it: a correct spec "failing" because Ack == Replicate -----------
class Untyped(NamedTuple):
    n: int
    v: str


class UntypedAck(NamedTuple):
    n: int
    v: str


@record
class Box(NamedTuple):
    msgs: frozenset


def primary_backup(replicate, ack):
    class Send(Spec):
        name = "send-then-ack"

        def init(self):
            yield Box(frozenset())

        @action
        def Replicate(self, s):
            if not s.msgs:
                return s._replace(msgs=s.msgs | {replicate(1, "v1")})

        @action
        def Acknowledge(self, s):
            if replicate(1, "v1") in s.msgs and ack(1, "v1") not in s.msgs:
                return s._replace(msgs=s.msgs | {ack(1, "v1")})

        @always
        def acked_only_what_was_sent(self, s):
            return ack(1, "v1") not in s.msgs or replicate(1, "v1") in s.msgs

        def done(self, s):
            return len(s.msgs) == 2

    return Send


def test_typed_messages_keep_the_two_messages_apart():
    r = check(primary_backup(Replicate, Ack)().compile(), progress=False)
    assert (r.status, r.distinct_states) == ("ok", 3)


def test_plain_named_tuples_merge_and_lint_names_the_class_and_the_fix():
    model = primary_backup(Untyped, UntypedAck)().compile()
    # the acknowledgement is "already there": Acknowledge is never enabled, so the last state deadlocks
    assert check(model, progress=False).status == "deadlock"
    with pytest.raises(ModelError) as err:
        lint(model)
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith("send-then-ack: Untyped (in the state, after Replicate) is a plain NamedTuple")
    assert "declare it with @record, or @message for a message" in line


def test_lint_finds_a_plain_named_tuple_joining_a_set_of_declared_ones():
    """The lint looks into each element of a set once: one that joins later, after its neighbours were found
    declared, is looked into too."""

    class Late(Spec):
        name = "late-plain"
        check_deadlock = False

        def init(self):
            yield Box(frozenset())

        @action(i=(0, 1, 2, 3))
        def Add(self, s, i):
            if Ack(i, "v1") not in s.msgs:
                return s._replace(msgs=s.msgs | {Ack(i, "v1")})

        @action
        def Stray(self, s):
            if len(s.msgs) == 4:
                return s._replace(msgs=s.msgs | {UntypedAck(9, "x")})

    with pytest.raises(ModelError, match=r"^late-plain: UntypedAck \(in the state, after Stray\) is a plain NamedTuple"):
        lint(Late().compile())
