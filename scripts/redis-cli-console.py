#!/usr/bin/env python3
"""Types a console golden's lines into the real redis-cli, in a terminal, and records or compares what the
terminal shows (tests/scenarios/redis-console/<name>/: input.txt, expected.txt).

The console of the Redis page is redis-cli on a running document (crates/broker_core/src/redis/scenario/
run/hand.rs); crates/broker_core/tests/redis_console.rs types the same lines there and compares its
terminal with expected.txt, which this script records from redis-cli itself (Debian's, with redis-server
7.0.15) and compares again in CI (scripts/real-redis-tests.sh).

input.txt: one line typed per line, as typed (blank lines and spaces included); `^C` is Ctrl-C and
`sleep SECONDS` waits that long. redis-cli runs in a pseudo-terminal with TERM=dumb (so it reads lines
as a plain terminal gives them: no colours, no hints), its history file /dev/null; a line is typed once
redis-cli shows its prompt, or has printed nothing for 0.3 s (reading messages, or blocked: a golden's
blocking commands wait 0 (for ever) or under 0.3 s); a redis-cli that ends (Ctrl-C in a blocking command
or at its prompt) is started again, as a user would. The transcript is the terminal's text with `\\r`
removed, the port written 6379, a newline after `^C`, and redis-cli's timing lines cut to tenths
(`(0.71s)` -> `(0.7s)`: the real server's waits are the machine's).

usage: redis-cli-console.py PORT DIR (--record | --compare)
"""
import os
import pty
import re
import select
import subprocess
import sys
import time

QUIET_S = 0.3


def normalise(text, port):
    text = text.replace("\r", "").replace(f"127.0.0.1:{port}", "127.0.0.1:6379")
    text = re.sub(r"\^C(?!\n)", "^C\n", text)
    return re.sub(r"^\((\d+)\.(\d)\ds\)$", r"(\1.\2s)", text, flags=re.M)


class Cli:
    def __init__(self, port):
        self.port = port
        self.prompt = re.compile(rf"127\.0\.0\.1:{port}(\(TX\))?> $".encode())
        self.start()

    def start(self):
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.update(TERM="dumb", REDISCLI_HISTFILE="/dev/null")
            os.execvp("redis-cli", ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)])
        self.pid, self.fd = pid, fd

    def read(self):
        """What the terminal shows until redis-cli prompts or is quiet; None once redis-cli has ended."""
        out = b""
        last = time.monotonic()
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.02)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    os.waitpid(self.pid, 0)
                    return out, False
                out += data
                last = time.monotonic()
            elif self.prompt.search(out) or time.monotonic() - last > QUIET_S:
                return out, True

    def type(self, line):
        os.write(self.fd, b"\x03" if line == "^C" else line.encode() + b"\n")


def transcript(port, lines):
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "FLUSHALL"], check=True,
                   stdout=subprocess.DEVNULL)
    cli = Cli(port)
    shown, _ = cli.read()
    for line in lines:
        if line.startswith("sleep "):
            time.sleep(float(line.split()[1]))
            continue
        cli.type(line)
        out, alive = cli.read()
        shown += out
        if not alive:
            cli.start()
            out, _ = cli.read()
            shown += out
    os.kill(cli.pid, 9)
    os.waitpid(cli.pid, 0)
    return normalise(shown.decode("utf-8", "replace"), port)


def main():
    port, folder, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(os.path.join(folder, "input.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    got = transcript(port, lines)
    expected_path = os.path.join(folder, "expected.txt")
    if mode == "--record":
        with open(expected_path, "w", encoding="utf-8") as f:
            f.write(got)
        return 0
    with open(expected_path, encoding="utf-8") as f:
        expected = f.read()
    if got == expected:
        return 0
    import difflib
    sys.stdout.writelines(difflib.unified_diff(expected.splitlines(True), got.splitlines(True),
                                               "expected.txt", "redis-cli"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
