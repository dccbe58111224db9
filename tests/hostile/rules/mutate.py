"""A seeded mutator of rule files: delete, duplicate, swap or re-indent lines, change a value's type, insert junk
bytes or expression tokens, truncate. `python tests/hostile/rules/mutate.py --runs 5000` hunts for any exception
other than RulebookError that loading a mutated copy of the bundled rulebook can raise."""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path

VALUES = [
    "[]",
    "{}",
    "null",
    "-1",
    "0",
    "1e400",
    "1.5e+400",
    ".inf",
    ".nan",
    '"x"',
    "2023-02-30",
    "2023-13-01",
    "20230101",
    "!!int x",
    "!!bool maybe",
    "!!timestamp x",
    "!!binary ???",
    "!!python/object:os.system x",
    "&a x",
    "*a",
    "[[[[",
    "{a: [1, {b: 2}]}",
    "? [a, b]",
    "yes",
    "~",
    "1" + "0" * 40,
    "100000001",
    "0x1F",
    "'",
    '"',
    "|",
    ">-",
    "- x",
    "12:30:00",
    "2023-01-01 10:00:00",
    "1_000",
    "!!float 1",
    "-.5",
    "true",
    "！",
    "\t",
]
TOKENS = [
    " not ",
    " and ",
    " or ",
    "(",
    ")",
    " * ",
    " + ",
    " - ",
    " 1e400 ",
    " 0x1 ",
    " 99999999 ",
    " 100000000 ",
    " household_count(alive) ",
    " household_any(",
    " null ",
    ' "x" ',
    " == ",
    " < ",
    " in (1, 2) ",
    "[",
    "]",
    " age ",
    " ticket_amount ",
    " ** 2 ",
    " / 2 ",
    " lambda: 1 ",
    ", ",
    " if ",
    "'",
    " 1.005 ",
    " -",
    ".",
]
JUNK = [
    b"\xff\xfe",
    b"\x00",
    "特困".encode("gb18030"),
    b"\t",
    b"[",
    b"{",
    b"&a ",
    b"*a ",
    b"!!int ",
    b"\r",
    b"'",
    b'"',
    b"- ",
    b": ",
    b"#",
    b"\xe4\xb8",
    b"\x1b",
    "\u2028".encode(),
    b"\xef\xbb\xbf",
    b"? ",
    b"%YAML 1.2\n",
    b"---\n",
    b"...\n",
    b"<<: ",
    b"\\",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random edits of a file's bytes."""
    for _ in range(rng.randint(1, 3)):
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        op = rng.randrange(9)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2 and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif op == 3:
            lines[i] = b"  " + lines[i] if rng.random() < 0.5 else lines[i][2:]
        elif op == 4 and b": " in lines[i]:
            head = lines[i].split(b": ", 1)[0]
            lines[i] = head + b": " + rng.choice(VALUES).encode()
        elif (op == 5 and any(k in lines[i] for k in (b"when:", b"amount:", b"value:"))) or op == 6:
            line = lines[i]
            at = rng.randint(min(len(line), line.find(b":") + 2), len(line))
            lines[i] = line[:at] + rng.choice(TOKENS).encode() + line[at:]
        elif op == 7:
            at = rng.randrange(len(data) + 1)
            return data[:at] + rng.choice(JUNK) + data[at:]
        else:
            return data[: rng.randrange(len(data) + 1)]
        data = b"\n".join(lines)
    return data


def mutated_copy(source: Path, dest: Path, rng: random.Random) -> str:
    """Copy a rulebook folder to dest with one of its files mutated; the name of that file."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest)
    target = rng.choice(sorted(p.name for p in dest.glob("*.yaml")))
    path = dest / target
    path.write_bytes(mutate(path.read_bytes(), rng))
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--evaluate", metavar="ROSTER", help="also evaluate 2023 with each rulebook that loads")
    args = ap.parse_args()
    from subsidy_engine.errors import RulebookError, SubsidyError
    from subsidy_engine.roster.read import read_roster
    from subsidy_engine.rulebook.load import DEFAULT_RULES, load_rulebook
    from subsidy_engine.run.pipeline import evaluate_roster

    roster = read_roster(args.evaluate) if args.evaluate else None

    outcomes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            rng = random.Random(args.seed * 1_000_003 + run)
            dest = Path(tmp) / "rules"
            target = mutated_copy(DEFAULT_RULES, dest, rng)
            try:
                rb = load_rulebook(dest)
                outcomes["loads"] += 1
            except RulebookError:
                outcomes["RulebookError"] += 1
                continue
            except Exception as e:  # what this tool is looking for
                outcomes[type(e).__name__] += 1
                print(f"run {run} ({target}): {type(e).__name__}: {e}", file=sys.stderr)
                traceback.print_exc(limit=-3)
                continue
            if roster is None:
                continue
            try:
                evaluate_roster(roster, "2023", rb)
                outcomes["evaluates"] += 1
            except SubsidyError as e:
                outcomes[f"evaluate: {type(e).__name__}"] += 1
            except Exception as e:  # what this tool is looking for
                outcomes[type(e).__name__] += 1
                print(f"run {run} ({target}): {type(e).__name__}: {e}", file=sys.stderr)
                traceback.print_exc(limit=-3)
    print(dict(outcomes))
    expected = {"loads", "RulebookError", "evaluates"}
    return 0 if all(k in expected or k.startswith("evaluate: ") for k in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
