"""`--engine rete`: each rule's `when` compiled to a durable-rules ruleset, evaluated one household at a time.

It is the independent cross-check of engines/vectorized.py and the basis of `explain` (docs/design.md §3).
Pitfalls guarded (docs/durable-rules.md): facts, never events; a Host without background threads; one session
per household, deleted after it (≤ 1,024 live sessions, flat memory); explicit ASCII fact ids checked for 32-bit
hash collisions before asserting; `state["exception"]` checked after every household; at most 64 rules per fact
and 31 conditions per pattern, checked when compiling; a catch-all rule; money never inside the engine; real
Python ints/bools/strings only. Rulesets are registered once per process.

host.py: this process's Host and the fact-id checks; patterns.py: the rules compiled into one ruleset;
engine.py: households evaluated with it (in a process pool for large rosters). Only this package imports
`durable`.
"""
