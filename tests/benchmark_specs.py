"""The TLA+ Examples transcribed under benchmarks/specs/, with the small configurations the tests run."""

from consensuslab.loader import load_file

from paths import BENCHMARKS

SPECS = BENCHMARKS / "specs"


def spec_class(name):
    return load_file(str(SPECS / f"{name}.py"))


# (file, parameters, TLC's distinct states)
SMALL = [
    ("paxos_commit", {"rm": 1}, 1461),
    ("lamport_mutex", {"n": 2, "max_clock": 4}, 401),
    ("lamport_mutex", {"n": 3, "max_clock": 3}, 10209),
    ("ewd840", {"n": 3}, 302),
    ("ewd840", {"n": 4}, 1566),
    ("ewd840", {"n": 6}, 36990),
    ("ewd998", {"n": 2}, 2360),
    ("simple_regular", {"n": 5}, 2524),
    ("key_value_store", {"txs": 1}, 153),
    ("key_value_store", {"txs": 2}, 28305),
    ("readers_writers", {"n": 2}, 390),
    ("readers_writers", {"n": 3}, 21527),
    ("nbacc", {"n": 2}, 3016),
    ("acp_sb", {"n": 3}, 54944),
    ("sailfish", {"rounds": 5, "gst": 3}, 109604),
]

# (file, variant, parameters, property the checker must find broken)
BROKEN = [
    ("paxos_commit", "commit-on-one", {"rm": 2, "acceptors": 1, "ballots": 1}, "TCConsistent"),
    ("lamport_mutex", "no-ack-wait", {"n": 2, "max_clock": 4}, "Mutex"),
    ("ewd840", "no-stain", {"n": 3}, "Inv"),
    ("ewd998", "no-counter", {"n": 2}, "EWD998Spec_step"),
    ("simple_regular", "skip-a2", {"n": 2}, "Inv"),
    ("key_value_store", "no-missed", {"txs": 2}, "TxLifecycle"),
    ("readers_writers", "no-reader-check", {"n": 2}, "Safety"),
    ("nbacc", "commit-without-votes", {"n": 2}, "CommitValidity"),
    ("classic_paxos", "no-forced-value", {"replicas": 3, "values": 2, "ballots": 3}, "PaxosConsistency"),
    ("fast_paxos", "no-majority-rule", {"replicas": 4, "values": 2, "ballots": 3, "fast": 1}, "PaxosConsistency"),
    ("slush", "no-await", {"n": 2, "iterations": 1, "sample": 1, "threshold": 1}, "SampleConsistency"),
    ("bakery", "no-flag-wait", {"n": 2, "max_nat": 2, "start": "Spec"}, "Inv"),
    ("multipaxos", "half-quorum", {"replicas": 2}, "Linearizability"),
    ("acp_sb", "eager-commit", {"n": 2}, "AC2"),
    ("sailfish", "any-vote", {"rounds": 4, "gst": 3}, "Agreement"),
]

# (file, scenario, TLC's distinct states from the manifest): configurations too large for the interpreted engine in
# the suite, checked on the compiled one
COMPILED = [
    ("slush", "cfg", 274678),
    ("bakery", "cfg", 655200),
    ("acp_sb", "cfg", 54944),  # its actions yield several next states without declaring them
]
