#!/usr/bin/env python3
"""The torture test of durable runs (issue 11): a pipeline of 32 jobs is run, `cdl` is killed
with SIGKILL at random moments (also while the artifact is stored, while the run waits at its
gate and while `cdl approve` records the decision) or hung up on through a closed tmux session
(SIGHUP), and resumed until the run ends; then again with a fresh run, until enough kills were
made. After each run it asserts:

- each job's command completed exactly once, from the attempt the record says succeeded;
- the bytes deployed to production are the bytes the artifact job built;
- no two deploys overlapped (each holds a test-only `flock -n`);
- no process of the run is left (no process carries its CDL_ATTEMPT cookie), no zombie child;
- the environments' locks are free.

With --failpoints, it first runs one round per failpoint and occurrence (the points of
`src/run/fault.rs`, armed with CDL_FAILPOINT=NAME:N and counted across processes in a file):
`cdl` (or a supervisor, or `cdl approve`) kills itself with SIGKILL at exactly that moment, the
run is resumed to the end, and the same invariants are checked; a point that never fired is a
failure. `--failpoints first` runs only the first occurrence of each (CI), `all` several.

With --kill-keepers, the run's keeper and supervisors are killed instead (see KeeperTorture).

Usage: torture.py [--kills N] [--seed S] [--cdl PATH] [--keep] [--failpoints first|all]
                  [--sighup SHARE] [--full-disk] [--kill-keepers]
Prints the seed first: rerun with --seed to replay the same kill moments.
"""

import argparse
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

JOBS = 4

# Each failpoint of src/run/fault.rs with the occurrences to try (how often a round passes it:
# 32 attempts, 11 artifact copies, 3-4 snapshots, one decision, one settled gate).
FAILPOINTS = {
    "attempt-started": [1, 9, 27],
    "result-renamed": [1, 12, 30],
    "artifact-copy": [1, 4, 11],
    "artifact-stored": [1],
    "snapshot-renamed": [1, 2, 3],
    "decision-recording": [1],
    "gate-settling": [1],
    "gate-reported": [1],
    "decision-reported": [1],
    # Passed only when a run is cancelled while jobs run: its rounds send SIGTERM (see run()).
    "cancel-journaled": [1, 2],
}


def pipeline():
    end = "trap '' TERM; echo \"{name} $CDL_ATTEMPT\" >> ledger"
    lines = ["pipeline torture {",
             '  environment staging { url = "https://staging.example"; concurrency = 1 }',
             '  environment production {',
             '    url = "https://example.com"',
             '    concurrency = 1',
             '    requires approval',
             '    requires promotion from staging',
             '  }',
             "  stage build {",
             '    artifact app {',
             '      run = ["mkdir -p out/dist/sub", '
             '"for i in 1 2 3 4 5 6; do head -c 400000 /dev/urandom > out/dist/f$i; done; head -c 1000 /dev/urandom > out/dist/sub/g", '
             f'"{esc(end.format(name="app"))}"]',
             '      outputs = ["out/dist"]',
             '    }']
    names = ["app"]
    for i in range(12):
        name = f"w{i}"
        names.append(name)
        body = f"sleep 0.{(i * 37) % 9 + 1}"
        extra = ""
        if i % 4 == 1:  # fails once, then passes on a retry
            body = f"if [ ! -e flaky.{name} ]; then touch flaky.{name}; exit 3; fi; {body}"
            extra = "; retries = 2"
        lines.append(f'    job {name} {{ run = ["{esc(body)}", "{esc(end.format(name=name))}"]{extra} }}')
    lines.append("  }")
    lines.append("  stage check {")
    for i in range(10):
        name = f"t{i}"
        names.append(name)
        body = f"sleep 0.{(i * 53) % 7 + 1}; test -d \\\"$CDL_ARTIFACT_APP\\\""
        lines.append(f'    test unit {name} {{ uses = [app]; run = ["{body}", "{esc(end.format(name=name))}"] }}')
    lines.append("  }")
    deploy = ("flock -n ../deploy.flock -c 'mkdir -p deployed/{env}.tmp && cp -R \\\"$CDL_ARTIFACT_APP\\\"/. deployed/{env}.tmp/ "
              "&& sleep 0.4 && rm -rf deployed/{env} && mv deployed/{env}.tmp deployed/{env}' || echo overlap >> overlaps")
    lines.append("  stage staging { deploy app to staging { run = [\"" + deploy.format(env="staging")
                 + "\", \"" + esc(end.format(name="deploy_app_staging")) + "\"] } }")
    names.append("deploy_app_staging")
    lines.append('  stage release { gate release { approvers = ["tester"]; message = "ship it?" } }')
    lines.append("  stage production { deploy app to production { run = [\"" + deploy.format(env="production")
                 + "\", \"" + esc(end.format(name="deploy_app_production")) + "\"] } }")
    names.append("deploy_app_production")
    lines.append("  stage after {")
    for i in range(6):
        name = f"p{i}"
        names.append(name)
        lines.append(f'    job {name} {{ run = ["sleep 0.{i + 1}", "{esc(end.format(name=name))}"] }}')
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n", names


def esc(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


class Torture:
    def __init__(self, args):
        self.cdl = os.path.abspath(args.cdl)
        self.rng = random.Random(args.seed)
        self.kills = 0
        self.hangups = 0
        self.failpoint_kills = 0
        self.sighup = args.sighup
        self.target = args.kills
        self.rounds = 0
        self.keep = args.keep
        self.base = tempfile.mkdtemp(prefix="cdl-torture-")
        self.dir = None

    def cmd(self, *args, **kw):
        return subprocess.run([self.cdl, *args], cwd=self.dir, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def run_id(self):
        """The latest run with a record (a `cdl run` killed before its first snapshot leaves
        a folder without one, and no job ran in it)."""
        runs = os.path.join(self.dir, ".cdl", "runs")
        ids = sorted(i for i in os.listdir(runs) if os.path.exists(os.path.join(runs, i, "run.json")))
        return ids[-1] if ids else None

    def status(self):
        rid = self.run_id()
        if rid is None:
            return None
        out = self.cmd("status", rid)
        if out.returncode != 0:
            raise AssertionError(f"cdl status failed: {out.stderr}")
        return out.stdout.split("\n")[0].split()[-1]

    def killed_at_random(self, args, longest):
        """Starts `cdl ARGS`, kills it with SIGKILL after a random moment; True if killed."""
        proc = subprocess.Popen([self.cdl, *args], cwd=self.dir, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=self.rng.uniform(0.02, longest))
            return False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.kills += 1
            return True

    def hung_up(self, args, longest):
        """Runs `cdl ARGS` in a tmux session and closes the session (SIGHUP) at a random moment."""
        session = f"cdl-torture-{os.getpid()}"
        # stdin is not the terminal: the gate prompt (another concern) stays out of the way.
        # Half the time stderr is the terminal too (the live view draws to it, as for a person
        # at it); else it goes to a file, to say why if `cdl` died of it.
        live = self.rng.random() < 0.5
        command = "exec " + " ".join([self.cdl, *args]) + " < /dev/null" + ("" if live else " 2>> hangup.err")
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-c", self.dir, "-x", "120", "-y", "40",
                        command], check=True)
        listed = subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                                capture_output=True, text=True).stdout.split()
        pid = int(listed[0]) if listed else 0
        time.sleep(self.rng.uniform(0.05, longest))
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        # tmux loses the exit code: the run's lock tells when `cdl` is gone, the record how
        # it ended.
        lock = os.path.join(self.dir, ".cdl", "runs", args[-1], "lock")
        until = time.time() + 30
        while subprocess.run(["flock", "-n", lock, "true"]).returncode != 0:
            if time.time() > until:
                raise AssertionError("cdl did not stop within 30 s of SIGHUP")
            time.sleep(0.02)
        self.hangups += 1
        self.kills += 1
        status = self.status()
        if status not in ("cancelled", "succeeded", "paused"):
            # Hung up on before it installed its handlers (while starting), `cdl` dies as by
            # kill -9 and never drove the run: the record still names the previous driver.
            record = json.load(open(os.path.join(self.dir, ".cdl", "runs", args[-1], "run.json")))
            if record.get("pid") == pid:
                err = "(stderr was the terminal: the live view)" if live else open(os.path.join(self.dir, "hangup.err")).read()[-2000:]
                raise AssertionError(f"after SIGHUP the record says {status}, not cancelled; cdl said:\n{err}")

    def new_round(self):
        self.rounds += 1
        self.dir = os.path.join(self.base, f"round{self.rounds}")
        os.makedirs(self.dir)
        text, names = pipeline()
        with open(os.path.join(self.dir, "pipeline.cdl"), "w") as f:
            f.write(text)
        check = self.cmd("check", "pipeline.cdl")
        if check.returncode != 0:
            raise AssertionError(f"the torture pipeline does not check:\n{check.stderr}")
        return names

    def failpoint_run(self, point, nth):
        """One round with the failpoint POINT armed for its NTH occurrence (counted across every
        process of the round), resumed to the end once it fired; then the usual checks."""
        names = self.new_round()
        counter = os.path.join(self.dir, "failpoint.count")
        armed = dict(os.environ, CDL_FAILPOINT=f"{point}:{nth}", CDL_FAULT_COUNTER=counter)

        def passed():
            return os.path.getsize(counter) if os.path.exists(counter) else 0

        def run(*args):
            env = armed if passed() < nth else None
            if point == "cancel-journaled" and env is not None:
                # Cancelled (SIGTERM) at a random moment, so that the point is passed.
                proc = subprocess.Popen([self.cdl, *args], cwd=self.dir, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=env)
                time.sleep(self.rng.uniform(0.3, 1.2))
                proc.send_signal(signal.SIGTERM)
                stdout, stderr = proc.communicate(timeout=300)
                out = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
                if out.returncode == -signal.SIGTERM:
                    # Before its handlers were in place: as a kill (the record says so).
                    return out
            else:
                out = subprocess.run([self.cdl, *args], cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, timeout=300)
            if out.returncode == -signal.SIGKILL:
                self.kills += 1
                self.failpoint_kills += 1
            elif out.returncode < 0 or "panicked" in out.stderr:
                raise AssertionError(f"{point}:{nth}: cdl {' '.join(args)} died: {out.returncode} {out.stderr}")
            return out

        run("run", "pipeline.cdl", "--as", "tester", "--jobs", str(JOBS))
        steps = 0
        while True:
            steps += 1
            if steps > 50:
                raise AssertionError(f"{point}:{nth}: the run never ended")
            status = self.status()
            if status in ("succeeded", "failed"):
                break
            rid = self.run_id()
            if status == "paused":
                run("approve", "release", "--run", rid, "--as", "tester")
            run("resume", rid)
        if passed() < nth:
            raise AssertionError(f"{point}:{nth}: the failpoint was passed only {passed()} times: it never fired")
        self.verify(names)

    def full_disk_run(self, size_kb):
        """A real full disk: the round's folder on a tmpfs of SIZE_KB (needs root; skipped
        otherwise). `cdl run` must stop or fail the job that hit it with a message naming the
        full disk, never panic, leave a record that reads and no process; no job may pass with
        bytes missing from its log. Then the tmpfs grows and, if the run was stopped rather than
        failed, `cdl resume` must finish it with the usual checks."""
        names = self.new_round()
        mount = self.dir + ".mnt"
        os.makedirs(mount)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", mount],
                          capture_output=True).returncode != 0:
            os.rmdir(mount)
            print("torture: full disk: cannot mount a tmpfs here (not root?): skipped", flush=True)
            return False
        try:
            shutil.copy(os.path.join(self.dir, "pipeline.cdl"), mount)
            self.dir = mount
            out = subprocess.run([self.cdl, "run", "pipeline.cdl", "--as", "tester", "--jobs", str(JOBS)],
                                 cwd=self.dir, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=300)
            if out.returncode not in (1, 4) or "panicked" in out.stderr:
                raise AssertionError(f"full disk ({size_kb} KiB): cdl exited {out.returncode}:\n{out.stderr[-2000:]}")
            said = out.stdout + out.stderr
            if "No space left on device" not in said:
                raise AssertionError(f"full disk ({size_kb} KiB): the message does not say the disk is full:\n{said[-2000:]}")
            rid = self.run_id()
            status = self.status()  # the record reads
            for result in glob.glob(os.path.join(self.dir, ".cdl", "runs", rid, "results", "*.json")):
                ended = json.load(open(result))
                name = os.path.basename(result).rsplit(".", 2)[0]
                state = json.load(open(os.path.join(self.dir, ".cdl", "runs", rid, "run.json")))["jobs"].get(name, {})
                if ended.get("log_lost_bytes") and state.get("state") == "succeeded":
                    raise AssertionError(f"full disk: `{name}` passed with {ended['log_lost_bytes']} bytes of its log lost")
            left = processes_of(os.path.join(self.dir, ".cdl", "runs", rid))
            if left:
                raise AssertionError(f"full disk: processes left: {left} ({processes_named(left)}); cdl exited "
                                     f"{out.returncode}:\n{out.stderr[-1500:]}")
            subprocess.run(["mount", "-o", "remount,size=262144k", mount], check=True)
            # With space again, a stopped run is resumed to its end: it succeeds (then every
            # check holds) or fails because a job's own write hit the full disk (said in its
            # reason); either way no job's command completed twice.
            for _ in range(5):
                if self.status() in ("succeeded", "failed"):
                    break
                if self.status() == "paused":
                    self.cmd("approve", "release", "--run", rid, "--as", "tester")
                self.cmd("resume", rid)
            final = self.status()
            if final == "succeeded":
                self.verify(names)
            elif final == "failed":
                ledger = [line.split(" ", 1)[0] for line in open(os.path.join(self.dir, "ledger")).read().split("\n") if line] \
                    if os.path.exists(os.path.join(self.dir, "ledger")) else []
                if len(ledger) != len(set(ledger)):
                    raise AssertionError(f"full disk: a job completed twice: {ledger}")
            else:
                raise AssertionError(f"full disk: after resumes the run is {final}")
            print(f"torture: full disk ({size_kb} KiB): cdl exited {out.returncode} (the run {status}), "
                  f"after resuming with space: {final}", flush=True)
            return True
        finally:
            subprocess.run(["umount", "-l", mount], capture_output=True)

    def has_record(self):
        runs = os.path.join(self.dir, ".cdl", "runs")
        return os.path.isdir(runs) and any(
            os.path.exists(os.path.join(runs, rid, "run.json")) for rid in os.listdir(runs))

    def one_run(self):
        names = self.new_round()
        while True:
            self.killed_at_random(["run", "pipeline.cdl", "--as", "tester", "--jobs", str(JOBS)], 1.5)
            if self.has_record():
                break
            # Killed before it wrote its first record (a loaded machine starts slowly): no job
            # may have run; start the run again.
            ledger = os.path.join(self.dir, "ledger")
            if os.path.exists(ledger) and open(ledger).read():
                raise AssertionError(f"round {self.rounds}: jobs ran before the run had a record")
        steps = 0
        while True:
            steps += 1
            if steps > 400:
                raise AssertionError("the run never ended")
            status = self.status()
            if status in ("succeeded", "failed"):
                break
            rid = self.run_id()
            if status == "paused":
                # Killing `cdl approve` while it records the decision, sometimes.
                if self.rng.random() < 0.3:
                    self.killed_at_random(["approve", "release", "--run", rid, "--as", "tester"], 0.01)
                self.cmd("approve", "release", "--run", rid, "--as", "tester")
            if self.rng.random() < self.sighup and shutil.which("tmux"):
                self.hung_up(["resume", rid], 1.2)
            else:
                self.killed_at_random(["resume", rid], 1.2)
        self.verify(names)

    def verify(self, names):
        rid = self.run_id()
        status = self.status()
        if status != "succeeded":
            out = self.cmd("status", rid)
            raise AssertionError(f"round {self.rounds}: the run {status}:\n{out.stdout}")
        record = json.load(open(os.path.join(self.dir, ".cdl", "runs", rid, "run.json")))
        ledger = open(os.path.join(self.dir, "ledger")).read().split("\n")
        ledger = [line.split(" ", 1) for line in ledger if line]
        seen = {}
        for name, cookie in ledger:
            if name in seen:
                raise AssertionError(f"round {self.rounds}: `{name}` completed twice ({seen[name]} and {cookie})")
            seen[name] = cookie
        for name in names:
            if name not in seen:
                raise AssertionError(f"round {self.rounds}: `{name}` never completed")
            job = record["jobs"][name]
            ok = [a for a in job["attempts"] if a.get("exit_code") == 0]
            if len(ok) != 1 or ok[0].get("cookie") != seen[name]:
                raise AssertionError(f"round {self.rounds}: `{name}` completed as {seen[name]}, "
                                     f"the record's succeeded attempts: {ok}")
        if os.path.exists(os.path.join(self.dir, "overlaps")):
            raise AssertionError(f"round {self.rounds}: two deploys overlapped")
        built = tree(os.path.join(self.dir, "out", "dist"))
        production = os.path.join(self.dir, "deployed", "production")
        # The store keeps the outputs' paths (out/dist/...) or, sealed, the folder's content.
        if os.path.isdir(os.path.join(production, "out", "dist")):
            production = os.path.join(production, "out", "dist")
        deployed = tree(production)
        if built != deployed or not built:
            raise AssertionError(f"round {self.rounds}: production did not get the built bytes")
        left = processes_of(os.path.join(self.dir, ".cdl", "runs", rid))
        if left:
            raise AssertionError(f"round {self.rounds}: processes left: {left} ({processes_named(left)})")
        for lock in glob.glob(os.path.join(self.dir, ".cdl", "locks", "*.lock")):
            free = subprocess.run(["flock", "-n", lock, "true"]).returncode == 0
            if not free:
                raise AssertionError(f"round {self.rounds}: {lock} is still held")


class KeeperTorture(Torture):
    """The keeper-kill mode (--kill-keepers): while `cdl` drives the run, the run's keeper or one
    of its supervisors is killed with SIGKILL at random moments (and sometimes `cdl` itself, then
    resumed). A killed supervisor's job may have completed its command without a result, so the
    ledger may hold it twice; what must hold: at most one recorded success per job, and it is
    in the ledger; every attempt whose supervisor was killed before its result is recorded as
    vanished; the run ends; no process is left."""

    def __init__(self, args):
        super().__init__(args)
        self.killed_attempts = []
        # Runs that failed because a supervisor was killed more often than re-launches allow.
        self.capped = 0
        self.vanished = 0

    def keepers(self):
        """(keepers, supervisors) of the run in this folder: processes of the cdl binary in
        keeper mode; a supervisor is a fork of a keeper (same command line, a keeper parent)."""
        found = {}
        for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
            pid = int(cmdline.split("/")[2])
            try:
                args = open(cmdline, "rb").read().split(b"\0")
                if len(args) < 2 or args[1] != b"__keeper" or os.readlink(f"/proc/{pid}/cwd") != self.dir:
                    continue
                stat = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
                if stat[0] != "Z":
                    found[pid] = int(stat[1])
            except OSError:
                continue
        keepers = [p for p, parent in found.items() if parent not in found]
        supervisors = [p for p, parent in found.items() if parent in found]
        return keepers, supervisors

    def kill_supervisor(self, pid):
        """Kills a supervisor; remembers its attempt when it had no result yet."""
        attempt = None
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if "/attempts/" in target and target.endswith(".lock"):
                    attempt = target
        except OSError:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            return
        self.kills += 1
        if attempt:
            key, number = os.path.basename(attempt)[:-len(".lock")].rsplit(".", 1)
            result = os.path.join(os.path.dirname(os.path.dirname(attempt)), "results", f"{key}.{number}.json")
            # Killed after its result was renamed into place: it finished, nothing vanished.
            time.sleep(0.01)
            if not os.path.exists(result):
                self.killed_attempts.append((key, int(number)))

    def one_run(self):
        self.rounds += 1
        self.killed_attempts = []
        self.dir = os.path.join(self.base, f"round{self.rounds}")
        os.makedirs(self.dir)
        text, names = pipeline()
        with open(os.path.join(self.dir, "pipeline.cdl"), "w") as f:
            f.write(text)
        args = ["run", "pipeline.cdl", "--as", "tester", "--jobs", str(JOBS)]
        steps = 0
        while True:
            steps += 1
            if steps > 400:
                raise AssertionError("the run never ended")
            proc = subprocess.Popen([self.cdl, *args], cwd=self.dir, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while proc.poll() is None:
                time.sleep(self.rng.uniform(0.1, 1.2))
                if proc.poll() is not None:
                    break
                keepers, supervisors = self.keepers()
                roll = self.rng.random()
                if roll < 0.4 and keepers:
                    for pid in keepers:
                        try:
                            os.kill(pid, signal.SIGKILL)
                            self.kills += 1
                        except OSError:
                            pass
                elif roll < 0.85 and supervisors:
                    self.kill_supervisor(self.rng.choice(supervisors))
                elif roll >= 0.85:
                    proc.send_signal(signal.SIGKILL)
                    self.kills += 1
            proc.wait()
            status = self.status()
            if status in ("succeeded", "failed"):
                break
            rid = self.run_id()
            if status == "paused":
                self.cmd("approve", "release", "--run", rid, "--as", "tester")
            args = ["resume", rid]
        self.verify_keeper(names)

    def verify_keeper(self, names):
        rid = self.run_id()
        status = self.status()
        record = json.load(open(os.path.join(self.dir, ".cdl", "runs", rid, "run.json")))
        # A job whose supervisor was killed too often fails by design (a cap on re-launches);
        # any other failure is a finding.
        for name, job in record["jobs"].items():
            if job["state"] == "failed" and "ended without a result" not in (job.get("reason") or ""):
                out = self.cmd("status", rid)
                raise AssertionError(f"round {self.rounds}: the run {status}:\n{out.stdout}")
        if status == "failed":
            self.capped += 1
        ledger = open(os.path.join(self.dir, "ledger")).read().split("\n")
        ledger = {tuple(line.split(" ", 1)) for line in ledger if line}
        for name in names:
            job = record["jobs"][name]
            ok = [a for a in job["attempts"] if a.get("exit_code") == 0]
            if not ok and status == "failed":
                continue
            if len(ok) != 1:
                raise AssertionError(f"round {self.rounds}: `{name}` has {len(ok)} recorded successes: {ok}")
            if (name, ok[0].get("cookie")) not in ledger:
                raise AssertionError(f"round {self.rounds}: `{name}`'s recorded success is not in the ledger")
        for key, number in self.killed_attempts:
            attempts = [a for a in record["jobs"].get(key, {}).get("attempts", []) if a["number"] == number]
            if not attempts or not attempts[0].get("vanished"):
                raise AssertionError(f"round {self.rounds}: attempt {number} of `{key}` lost its supervisor "
                                     f"but is not recorded as vanished: {attempts}")
            self.vanished += 1
        if os.path.exists(os.path.join(self.dir, "overlaps")):
            raise AssertionError(f"round {self.rounds}: two deploys overlapped")
        # The run has ended (`cdl` exited): no keeper, supervisor or job process may be left.
        # The only wait allowed is for the kernel to finish the exits already under way (a
        # keeper reaping its last supervisor), bounded to 1 s.
        until = time.time() + 1
        while (self.keepers() != ([], []) or processes_of(rid)) and time.time() < until:
            time.sleep(0.01)
        left = processes_of(rid) + [f"{p} (keeper)" for p in sum(self.keepers(), [])]
        if left:
            left = [describe(p) for p in left]
            raise AssertionError(f"round {self.rounds}: processes left 1 s after the run ended: {left}")


def describe(pid):
    """A process for a message: pid, state, parent and command line, as far as still readable."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        return f"{pid} [{fields[0]}, parent {fields[1]}] {cmdline.strip()}"
    except (OSError, IndexError):
        return str(pid)


def zombie(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].startswith("Z")
    except OSError:
        return False


def tree(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = open(path, "rb").read()
    return out


def processes_named(pids):
    out = []
    for pid in pids:
        try:
            out.append(open(f"/proc/{pid.split()[0]}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")[:120])
        except OSError:
            out.append("(gone)")
    return out


def processes_of(run_dir):
    """Processes (or zombies) whose environment holds one of this run's attempt cookies. The
    cookies are matched whole (`<run>/<job>/<n>/<random>`), never by the run id alone: another
    torture test on the same machine may have started a run in the same second."""
    cookies = set()
    for name in ("run.json", "journal.jsonl"):  # attempts since the last snapshot: journal only
        try:
            text = open(os.path.join(run_dir, name), "rb").read()
        except OSError:
            continue
        for cookie in re.findall(rb'"cookie":\s*"([^"]+)"', text):
            cookies.add(b"CDL_ATTEMPT=" + cookie)
    left = []
    for environ in glob.glob("/proc/[0-9]*/environ"):
        try:
            variables = set(open(environ, "rb").read().split(b"\0"))
        except OSError:
            continue
        if variables & cookies:
            left.append(environ.split("/")[2])
    # A zombie's environment cannot be read: any zombie child of ours counts too.
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = open(stat).read()
        except OSError:
            continue
        fields = text.rsplit(") ", 1)[1].split()
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            left.append(stat.split("/")[2] + " (zombie)")
    return left


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--cdl", default=os.path.join(os.path.dirname(__file__), "..", "..", "target", "release", "cdl"))
    parser.add_argument("--keep", action="store_true", help="keep the folders of the runs")
    parser.add_argument("--sighup", type=float, default=0.15,
                        help="the share of resumes hung up on through tmux (the others: SIGKILL)")
    parser.add_argument("--full-disk", action="store_true",
                        help="also run rounds on a small tmpfs that fills up (root only)")
    parser.add_argument("--failpoints", choices=["none", "first", "all"], default="none",
                        help="also run every failpoint: its first occurrence, or several")
    parser.add_argument("--kill-keepers", action="store_true",
                        help="kill the run's keeper and supervisors instead (at most one success per job)")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    print(f"torture: seed {args.seed} (replay with --seed {args.seed})", flush=True)
    torture = KeeperTorture(args) if args.kill_keepers else Torture(args)
    started = time.time()
    try:
        if args.failpoints != "none":
            for point, occurrences in FAILPOINTS.items():
                for nth in occurrences[:1] if args.failpoints == "first" else occurrences:
                    torture.failpoint_run(point, nth)
                    print(f"torture: failpoint {point}:{nth} ok", flush=True)
        if args.full_disk:
            for size_kb in (1024, 4096, 12288):
                torture.full_disk_run(size_kb)
        # The failpoints' kills come on top: the random ones alone reach --kills.
        while torture.kills - torture.failpoint_kills < torture.target:
            torture.one_run()
            print(f"torture: run {torture.rounds} ok; {torture.kills} kills so far "
                  f"({torture.hangups} by SIGHUP)", flush=True)
    except AssertionError as e:
        print(f"torture: FAILED (seed {args.seed}, folder {torture.dir}): {e}", flush=True)
        sys.exit(1)
    finally:
        if not torture.keep and sys.exc_info()[0] is None:
            shutil.rmtree(torture.base, ignore_errors=True)
    promise = "every job exactly once"
    if args.kill_keepers:
        promise = (f"at most one success per job, {torture.vanished} killed attempts recorded vanished, "
                   f"{torture.capped} runs ended at the re-launch cap")
    print(f"torture: {torture.rounds} runs, {torture.kills} kills ({torture.hangups} by SIGHUP, "
          f"{torture.failpoint_kills} of cdl by failpoints), "
          f"{time.time() - started:.0f} s, {promise}, seed {args.seed}")


if __name__ == "__main__":
    main()
