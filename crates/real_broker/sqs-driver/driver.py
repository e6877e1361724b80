"""Runs a Brokerlab SQS program (docs/sqs-programs.md) against an SQS endpoint with boto3 and prints
the same session transcript as `brokerlab run FILE.sqs`: each statement after `>>> `, then the reply
dict without ResponseMetadata (every reply a statement's calls got), a printed value, or the exception.

usage: driver.py ENDPOINT_URL PROGRAM.sqs
       driver.py --serve ENDPOINT_URL

The program is Python: each top-level statement runs with `sqs` (a boto3 client on ENDPOINT_URL),
`time` and `brokerlab` (whose `short_poll_sampling` does nothing: an emulator samples as it does).

With --serve the driver plays calls for an SQS document's actors (crates/real_broker/src/sqs_document.rs):
one JSON request per line on stdin, `{"id": N, "service": "sqs"|"sns", "op": "receive_message",
"args": {...}}`, each run on a thread of its own (a long poll does not hold up the other actors), and one
JSON line per answer on stdout, `{"id": N, "reply": {...}}` (without ResponseMetadata) or
`{"id": N, "error": {"code": ..., "message": ...}}`. The driver ends when stdin closes.
"""

import ast
import json
import sys
import threading
import time

import boto3
import botocore.config
import botocore.exceptions


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


def emulator_client(service, endpoint, connections=10):
    """A boto3 client of `service` on the emulator, with its test credentials and no retries (a retried
    call would hide the first reply); `connections` calls at once at most."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"max_attempts": 1}, max_pool_connections=connections),
    )


def serve(endpoint):
    """Answers the calls of a document's actors, each on its own thread, until stdin closes."""
    clients = {"sqs": emulator_client("sqs", endpoint, 64), "sns": emulator_client("sns", endpoint, 64)}
    out = threading.Lock()

    def answer(request):
        try:
            method = getattr(clients[request["service"]], request["op"])
            reply = method(**request.get("args", {}))
            shown = {k: v for k, v in reply.items() if k != "ResponseMetadata"}
            line = {"id": request["id"], "reply": shown}
        except botocore.exceptions.ClientError as e:
            error = e.response.get("Error", {})
            line = {"id": request["id"], "error": {"code": error.get("Code", ""), "message": error.get("Message", "")}}
        except Exception as e:  # a bad request or a lost connection: the player reports it
            line = {"id": request.get("id"), "error": {"code": type(e).__name__, "message": str(e)}}
        text = json.dumps(line, default=str)
        with out:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    threads = []
    for text in sys.stdin:
        if text.strip():
            t = threading.Thread(target=answer, args=(json.loads(text),), daemon=True)
            t.start()
            threads.append(t)
    for t in threads:
        t.join(timeout=25)


def main():
    if sys.argv[1] == "--serve":
        serve(sys.argv[2])
        return
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
