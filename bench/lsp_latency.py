#!/usr/bin/env python3
"""Latency of `cdl lsp`: from sending a `didChange` on a 2,000-line file to receiving its
published diagnostics. A benchmark, not a test: it prints the figures and exits 0.

    cargo build --release && python3 bench/lsp_latency.py [target/release/cdl] [--changes N]

The file is a generated pipeline written the way people write them (one attribute per line),
checking clean. Each change edits one command string in the middle of the file (an
incremental `didChange`, as editors send while typing); the time is measured on the client
side, so it includes the JSON-RPC round trip through the pipes.
"""
import json
import statistics
import subprocess
import sys
import time


def pipeline(lines_wanted: int) -> str:
    out = [
        "/// Generated for the language server benchmark.",
        "pipeline generated {",
        '  on push { branches = ["main", "release/*"] }',
        "  secret TOKEN",
        '  environment staging { url = "https://staging.example" }',
        "  environment production {",
        '    url = "https://example.com"',
        "    requires approval",
        "    requires tests [integration]",
        "    requires promotion from staging",
        "  }",
        "  stage build {",
        '    artifact app { run = "make"; outputs = ["app"] }',
        "  }",
    ]
    stage = 0
    while len(out) < lines_wanted - 20:
        out.append(f"  /// Stage {stage}.")
        out.append(f"  stage s{stage} {{")
        for job in range(10):
            name = f"j{stage}_{job}"
            out += [
                f"    /// Job {name}.",
                f"    job {name} {{",
                f'      run     = ["./step.sh {name}", "./report.sh {name}"]',
                "      timeout = 10m",
                "      retries = 1",
                f"      after   = [{'app' if job == 0 else f'j{stage}_{job - 1}'}]",
                '      when    = branch == "main" || event == tag',
                "    }",
            ]
        out.append("  }")
        stage += 1
    out += [
        "  stage staging {",
        '    deploy app to staging { run = "./deploy.sh staging"; secrets = [TOKEN] }',
        '    test integration on staging { run = "./it.sh" }',
        "  }",
        "  stage release {",
        '    gate approve { approvers = ["release-managers"] }',
        "  }",
        "  stage production {",
        '    deploy app to production { run = "./deploy.sh production"; secrets = [TOKEN] }',
        "  }",
        "}",
    ]
    return "\n".join(out) + "\n"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), 0 where unknown."""
    try:
        import os

        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class Server:
    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, message):
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == self.next_id:
                return message

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def read(self):
        length = 0
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise EOFError("the server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.process.stdout.read(length))

    def diagnostics(self, uri, version):
        while True:
            message = self.read()
            params = message.get("params") or {}
            if (
                message.get("method") == "textDocument/publishDiagnostics"
                and params.get("uri") == uri
                and params.get("version") == version
            ):
                return params["diagnostics"]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    binary = args[0] if args else "target/release/cdl"
    changes = 200
    if "--changes" in sys.argv:
        changes = int(sys.argv[sys.argv.index("--changes") + 1])
    text = pipeline(2000)
    lines = text.split("\n")
    uri = "file:///tmp/cdl-lsp-bench/generated.cdl"

    server = Server([binary, "lsp"])
    server.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    server.notify("initialized", {})
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "cdl", "version": 1, "text": text}},
    )
    opened = server.diagnostics(uri, 1)

    # The line to edit: a `run` line in the middle of the file.
    target = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].lstrip().startswith("run "))
    cpu_before = cpu_seconds(server.process.pid)
    quote = lines[target].index('"') + 1
    timings = []
    for change in range(changes):
        version = change + 2
        new_text = f"v{change:04d} "
        start = {"line": target, "character": quote}
        end = {"line": target, "character": quote + (0 if change == 0 else 6)}
        began = time.perf_counter()
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": start, "end": end}, "text": new_text}],
            },
        )
        diagnostics = server.diagnostics(uri, version)
        timings.append((time.perf_counter() - began) * 1000)
        assert diagnostics == opened, diagnostics

    cpu = cpu_seconds(server.process.pid) - cpu_before
    server.request("shutdown", None)
    server.notify("exit", None)
    server.process.wait(timeout=10)

    timings.sort()
    p = lambda q: timings[min(len(timings) - 1, int(q * len(timings)))]
    print(f"file: {len(lines) - 1} lines, {len(text)} bytes, {len(opened)} diagnostics")
    print(f"didChange → publishDiagnostics over {changes} changes:")
    print(
        f"  median {statistics.median(timings):.2f} ms   p90 {p(0.9):.2f} ms   "
        f"p99 {p(0.99):.2f} ms   max {timings[-1]:.2f} ms   (target: under 20 ms)"
    )
    print(f"  server CPU time per change: {cpu / changes * 1000:.2f} ms (less sensitive to a busy machine)")


if __name__ == "__main__":
    main()
