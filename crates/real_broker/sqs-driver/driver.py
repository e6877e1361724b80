"""Runs a Brokerlab SQS program (docs/sqs-programs.md) against an SQS endpoint with boto3 and prints
the same session transcript as `brokerlab run FILE.sqs`: each statement after `>>> `, then the reply
dict without ResponseMetadata (every reply a statement's calls got), a printed value, or the exception.

usage: driver.py ENDPOINT_URL PROGRAM.sqs

The program is Python: each top-level statement runs with `sqs` (a boto3 client on ENDPOINT_URL),
`time` and `brokerlab` (whose `short_poll_sampling` does nothing: an emulator samples as it does).
"""

import ast
import sys
import time

import boto3
import botocore.config


class Recorder:
    """A boto3 client that remembers each reply of the statement being run."""

    def __init__(self, client, replies=None):
        self._client = client
        # Shared by the sqs and sns recorders: a statement's replies in call order.
        self.replies = [] if replies is None else replies

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            reply = method(*args, **kwargs)
            shown = {k: v for k, v in reply.items() if k != "ResponseMetadata"}
            self.replies.append(shown)
            return reply

        return call


class Sandbox:
    @staticmethod
    def short_poll_sampling(on):
        return None


def quiet(expr):
    """Calls whose value the session does not echo: SQS calls (their replies are printed), print,
    time.sleep and brokerlab's switches."""
    if not isinstance(expr, ast.Call):
        return False
    func = ast.unparse(expr.func)
    return func in ("print", "time.sleep") or func.startswith(("sqs.", "sns.", "brokerlab."))


def emulator_client(service, endpoint):
    """A boto3 client of `service` on the emulator, with its test credentials and no retries (a retried
    call would hide the first reply)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def main():
    endpoint, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.splitlines()
    sqs = Recorder(emulator_client("sqs", endpoint))
    sns = Recorder(emulator_client("sns", endpoint), sqs.replies)
    names = {"sqs": sqs, "sns": sns, "time": time, "brokerlab": Sandbox()}
    tree = ast.parse(text, filename=path)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        # `sqs = boto3.client(...)`: the client is ours.
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and ast.unparse(node.value.func) == "boto3.client":
            continue
        source = " ".join(l.strip() for l in lines[node.lineno - 1 : node.end_lineno])
        print(">>> " + source, flush=True)
        sqs.replies.clear()
        try:
            if isinstance(node, ast.Expr) and not quiet(node.value):
                # A bare expression: its repr, as in Python's interactive mode.
                value = eval(compile(ast.Expression(node.value), path, "eval"), names)
                for r in sqs.replies:
                    print(repr(r))
                print(repr(value))
                continue
            exec(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"), names)
            for r in sqs.replies:
                print(repr(r))
        except Exception as e:  # the session prints what the statement raised, then goes on
            for r in sqs.replies:
                print(repr(r))
            kind = type(e)
            module = kind.__module__
            prefix = "" if module == "builtins" else module + "."
            print(f"{prefix}{kind.__name__}: {e}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
