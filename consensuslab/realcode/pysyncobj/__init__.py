"""PySyncObj (a Python library that replicates objects with Raft) run on loopback, traced, and checked.

``tracing`` is the logging layer (a transport subclass, a journal wrapper, the
role callback), ``node`` one traced node process, ``cluster`` and ``proxy`` the
orchestration and the fault-injecting proxies, ``clients`` the Jepsen-style
clients and their history, ``scenarios`` the fault scenarios, and ``mapping``
and ``translate`` how its log reads against the bundled raft model.  Only the
first five import pysyncobj (``pip install -e ".[realcode]"``).
"""
