#!/usr/bin/env python3
"""Records or compares the help the Redis console prints for `help <command>` and `help @<group>`
(crates/broker_core/data/redis-cli-help.tsv), from the real redis-cli 7.0.15 on a real redis-server 7.0.15.

redis-cli 7.0 builds its help from the server's `COMMAND DOCS` reply when it connects: one entry per command
and subcommand, with its arguments written out, its summary, the version since which it exists and its
group. This script asks the server for its groups (`COMMAND DOCS`), has the real redis-cli print each
group (`redis-cli help @GROUP`) and keeps every entry as one line: NAME, group, since, arguments, summary,
separated by tabs, in name order (the order redis-cli prints them in; checked). The engine reads the file
(crates/broker_core/src/redis/scenario/run/hand.rs) and prints an entry as redis-cli does; the console
golden tests/scenarios/redis-console/redis-cli-help/ compares a few of them with the real redis-cli in a
terminal, this script's --compare the whole file (scripts/real-redis-tests.sh).

usage: redis-cli-help.py PORT FILE (--record | --compare)
"""
import json
import re
import subprocess
import sys

ENTRY = re.compile(
    r"\r?\n  \x1b\[1m(?P<name>[^\x1b]*)\x1b\[0m \x1b\[90m(?P<args>[^\x1b]*)\x1b\[0m\r?\n"
    r"  \x1b\[33msummary:\x1b\[0m (?P<summary>[^\r\n]*)\r?\n"
    r"  \x1b\[33msince:\x1b\[0m (?P<since>[^\r\n]*)"
)


def cli(port, *args):
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args], check=True,
                         stdout=subprocess.PIPE)
    return out.stdout.decode("utf-8")


def entries(port):
    docs = json.loads(cli(port, "--json", "COMMAND", "DOCS"))
    groups = set()
    for doc in docs.values():
        groups.add(doc["group"])
        for sub in doc.get("subcommands", {}).values():
            groups.add(sub["group"])
    rows = []
    for group in sorted(groups):
        text = cli(port, "help", "@" + group)
        found = [m.groupdict() for m in ENTRY.finditer(text)]
        assert found, f"redis-cli printed no entry for @{group}"
        names = [e["name"] for e in found]
        assert names == sorted(names), f"@{group}: redis-cli's order is not the names' order"
        for e in found:
            fields = [e["name"], group, e["since"], e["args"], e["summary"]]
            assert not any("\t" in f or "\n" in f for f in fields), fields
            rows.append("\t".join(fields) + "\n")
    rows.sort()
    return "".join(rows)


def main():
    port, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    got = entries(port)
    if mode == "--record":
        with open(path, "w", encoding="utf-8") as f:
            f.write(got)
        return 0
    with open(path, encoding="utf-8") as f:
        expected = f.read()
    if got == expected:
        return 0
    import difflib
    sys.stdout.writelines(difflib.unified_diff(expected.splitlines(True), got.splitlines(True), path, "redis-cli"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
