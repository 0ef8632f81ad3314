"""Failover drill: the app and its worker on a Patroni cluster whose primary is killed mid-run.

    .venv/bin/python scripts/failover_drill.py              # 3 kills and 3 switchovers (~10 min)
    .venv/bin/python scripts/failover_drill.py --kills 1    # one of each (~6 min)
    .venv/bin/python scripts/failover_drill.py --short      # CI's version (~3 min)

Options: --nodes 2|3 (PostgreSQL nodes, default 2), --clients N (HTTP clients, default 4),
--drain-timeout S (how long to wait for queued tasks at the end), --max-seconds S (bound on
the load), --no-install, --keep (leave the folder and its logs). Most of the --kills 1 run's
time is the wait for tasks that failed in the outage: they run again after Q_CLUSTER["retry"].
--short is one kill and one switchover with two HTTP clients at a slower pace, fewer tasks
and a smaller world, Patroni's loop every second, the worker's task timeout 20 s and retry
30 s, and no measurement of synchronous replication's cost or of replica reads.

Run as root on Debian (it installs `patroni`, `etcd-server` and the PostgreSQL server with apt
when missing, and runs PostgreSQL as the `postgres` user) or as a user who has them. Everything
listens on 127.0.0.1 only, on free ports, in a temporary folder, and is stopped at the end.

It starts one etcd node and PostgreSQL nodes under Patroni (synchronous mode), two gunicorn
app servers and one `azukari worker`, all pointed at the cluster through a libpq multi-host
address with `target_session_attrs=read-write`. It loads the demo world, measures the write
latency of synchronous against asynchronous replication, then runs HTTP clients (contact
events, case opens, parks and resolves) and queues worker tasks while it kills the primary
(SIGKILL of the postmaster, then of its Patroni), waits for the promotion, brings the old node
back as a replica and switches over to the synchronous standby with `patronictl switchover`.
Afterwards every write that got a 2xx answer and every task whose queueing committed must
exist, once.

Exit status: 0 when nothing acknowledged was lost or doubled, 1 otherwise.
"""

import argparse
import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SCOPE = "azukari-drill"
DIALLED = "0120-111-222"  # the coffee client's line in the demo world
TEAM = "sapporo-desk"
PROBES_PER_BATCH = 5


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


# ------------------------------------------------------------------------------ packages


def postgres_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version_key)
    return Path(found[-1]).parent if found else None


def _version_key(path: str) -> float:
    with contextlib.suppress(ValueError):
        return float(path.split("/")[4])
    return 0.0


def ensure_packages(install: bool) -> Path:
    missing = [
        pkg
        for cmd, pkg in (("patroni", "patroni"), ("etcd", "etcd-server"))
        if not shutil.which(cmd)
    ]
    if postgres_bin_dir() is None:
        # the server of the version whose client is installed, or Debian's default
        versions = sorted(glob.glob("/usr/lib/postgresql/*/"), key=_version_key)
        missing.append(f"postgresql-{versions[-1].split('/')[4]}" if versions else "postgresql")
    if missing:
        if not install or os.geteuid() != 0:
            sys.exit(f"missing: {' '.join(missing)} (run as root to install them with apt)")
        log(f"installing {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None
    return bin_dir


# ------------------------------------------------------------------------------ processes


def free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def http_json(url: str, timeout: float = 2.0) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        with contextlib.suppress(ValueError):
            return exc.code, json.loads(body or b"null")
        return exc.code, None
    except (OSError, ValueError):
        return 0, None


def stop_group(proc: subprocess.Popen | None, grace: float = 15.0) -> None:
    """SIGTERM to the process's group, SIGKILL after the grace period."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_until(what: str, predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Node:
    name: str
    pg_port: int
    api_port: int
    folder: Path
    proc: subprocess.Popen | None = None

    @property
    def config(self) -> Path:
        return self.folder / "patroni.yml"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def is_primary(self) -> bool:
        return http_json(f"http://127.0.0.1:{self.api_port}/primary")[0] == 200

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        return None


class Cluster:
    """One etcd node and PostgreSQL nodes under Patroni, on loopback."""

    def __init__(self, folder: Path, bin_dir: Path, nodes: int, loop_wait: int = 2) -> None:
        self.folder = folder
        self.loop_wait = loop_wait
        self.bin_dir = bin_dir
        ports = free_ports(2 + 2 * nodes)
        self.etcd_port, self.etcd_peer = ports[0], ports[1]
        self.nodes = [
            Node(f"pg{n + 1}", ports[2 + 2 * n], ports[3 + 2 * n], folder / f"pg{n + 1}")
            for n in range(nodes)
        ]
        self.etcd: subprocess.Popen | None = None
        self.superuser_password = secrets.token_urlsafe(16)
        self.replication_password = secrets.token_urlsafe(16)
        self.run_as = "postgres" if os.geteuid() == 0 else None

    # -- start and stop

    def start(self) -> None:
        etcd_dir = self.folder / "etcd"
        etcd_dir.mkdir()
        self.etcd = subprocess.Popen(
            [
                "etcd",
                "--name=drill",
                f"--data-dir={etcd_dir}",
                f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{self.etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{self.etcd_peer}",
                f"--initial-cluster=drill=http://127.0.0.1:{self.etcd_peer}",
                "--initial-cluster-state=new",
                "--log-level=warn",
            ],
            stdout=open(self.folder / "etcd.log", "wb"),  # noqa: SIM115 (closed with the process)
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            "etcd",
            lambda: http_json(f"http://127.0.0.1:{self.etcd_port}/health")[0] == 200,
            30,
        )
        for node in self.nodes:
            node.folder.mkdir()
            node.config.write_text(json.dumps(self._patroni_config(node), indent=1))
            (node.folder / "pgpass").touch(mode=0o600)
            if self.run_as:
                shutil.chown(node.folder, self.run_as, self.run_as)
                for path in node.folder.iterdir():
                    shutil.chown(path, self.run_as, self.run_as)
        self.start_node(self.nodes[0])
        wait_until("the first primary", self.nodes[0].is_primary, 90)
        for node in self.nodes[1:]:
            self.start_node(node)
        wait_until("the replicas to stream synchronously", self.healthy, 120)

    def start_node(self, node: Node) -> None:
        node.proc = subprocess.Popen(
            ["patroni", str(node.config)],
            cwd=node.folder,
            user=self.run_as,
            env={"PATH": os.environ["PATH"], "HOME": str(node.folder), "LC_ALL": "C.UTF-8"},
            stdout=open(node.folder / "patroni.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        for node in self.nodes:
            stop_group(node.proc, grace=30)
            pid = node.postmaster_pid()
            if pid and _alive(pid):  # a postmaster left by a killed Patroni
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        stop_group(self.etcd)

    def _patroni_config(self, node: Node) -> dict:
        # JSON is YAML: Patroni reads this file as its YAML configuration.
        return {
            "scope": SCOPE,
            "namespace": "/azukari/",
            "name": node.name,
            "log": {"level": "INFO"},
            "restapi": {
                "listen": f"127.0.0.1:{node.api_port}",
                "connect_address": f"127.0.0.1:{node.api_port}",
            },
            "etcd3": {"hosts": [f"127.0.0.1:{self.etcd_port}"]},
            "bootstrap": {
                "dcs": {
                    "ttl": 20,
                    "loop_wait": self.loop_wait,
                    "retry_timeout": 5,
                    "maximum_lag_on_failover": 1048576,
                    "synchronous_mode": True,
                    "synchronous_mode_strict": False,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "use_slots": True,
                        "parameters": {
                            "max_connections": 100,
                            "shared_buffers": "64MB",
                            "wal_keep_size": "256MB",
                            "hot_standby": "on",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{node.pg_port}",
                "connect_address": f"127.0.0.1:{node.pg_port}",
                "data_dir": str(node.data_dir),
                "bin_dir": str(self.bin_dir),
                "pgpass": str(node.folder / "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": self.superuser_password},
                    "replication": {
                        "username": "replicator",
                        "password": self.replication_password,
                    },
                },
                "parameters": {"unix_socket_directories": str(node.folder)},
                "pg_hba": [
                    "local all all trust",
                    "host replication replicator 127.0.0.1/32 scram-sha-256",
                    "host all all 127.0.0.1/32 scram-sha-256",
                ],
            },
        }

    # -- state

    def leader(self) -> Node | None:
        for node in self.nodes:
            if node.proc and node.proc.poll() is None and node.is_primary():
                return node
        return None

    def members(self) -> list[dict]:
        for node in self.nodes:
            status, body = http_json(f"http://127.0.0.1:{node.api_port}/cluster")
            if status == 200 and isinstance(body, dict):
                return body.get("members", [])
        return []

    def healthy(self) -> bool:
        """A leader, and every other node running as a replica, one of them synchronous."""
        members = self.members()
        if len(members) != len(self.nodes):
            return False
        roles = Counter(m.get("role") for m in members)
        running = all(m.get("state") in ("running", "streaming") for m in members)
        return running and roles["leader"] == 1 and roles["sync_standby"] >= 1

    def patronictl(self, *args: str) -> str:
        done = subprocess.run(
            ["patronictl", "-c", str(self.nodes[0].config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": os.environ["PATH"], "HOME": str(self.folder)},
        )
        if done.returncode:
            raise RuntimeError(f"patronictl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def dsn(self, node: Node, dbname: str = "postgres") -> str:
        return (
            f"host=127.0.0.1 port={node.pg_port} dbname={dbname} user=postgres "
            f"password={self.superuser_password} connect_timeout=2"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


# ------------------------------------------------------------------------------ HTTP clients


@dataclass
class Answer:
    started: float
    ended: float
    op: str
    status: int  # 0: no answer (connection refused, reset, timeout)
    json_body: bool
    retry_after: str | None


@dataclass
class Ledger:
    """What the clients were told: every answer, and the writes acknowledged with a 2xx."""

    answers: list[Answer] = field(default_factory=list)
    contacts: set[str] = field(default_factory=set)  # acknowledged call ids
    cases: dict[int, str] = field(default_factory=dict)  # case id -> its call id
    events: set[tuple[int, str]] = field(default_factory=set)  # (case id, to_state)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    def __init__(self, base: str, token: str, ledger: Ledger) -> None:
        self.base, self.token, self.ledger = base, token, ledger

    def post(self, op: str, path: str, body: dict) -> dict | None:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept-Language": "en",
            },
        )
        started = time.monotonic()
        status, payload, content_type, retry_after = 0, None, "", None
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, json.loads(response.read())
                content_type = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            status, content_type = exc.code, exc.headers.get("Content-Type", "")
            retry_after = exc.headers.get("Retry-After")
            exc.read()
        except (OSError, ValueError):
            status = 0
        answer = Answer(started, time.monotonic(), op, status, "json" in content_type, retry_after)
        with self.ledger.lock:
            self.ledger.answers.append(answer)
        if 200 <= status < 300:
            return payload
        # A client that honours Retry-After, within bounds, and otherwise backs off a little.
        pause = 0.5
        with contextlib.suppress(TypeError, ValueError):
            pause = min(max(float(retry_after), 0.2), 2.0)
        time.sleep(pause)
        return None

    def call(self, n: int, phone: str, agent: str) -> None:
        """One inbound call: the PBX's event, a case opened from it, parked, and every other
        one resolved. A failed step ends the call (its writes so far stay acknowledged)."""
        call_id = f"drill-{n}"
        now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        event = {
            "event": "answered",
            "call_id": call_id,
            "dialled_number": DIALLED,
            "caller_number": phone,
            "at": now,
            "agent_id": agent,
        }
        contact = self.post("contact event", "/contacts/events", event)
        if contact is None:
            return
        with self.ledger.lock:
            self.ledger.contacts.add(call_id)
        case = self.post(
            "case open",
            "/cases",
            {"contact_id": contact["id"], "kind": "cancellation", "subject": f"Drill {n}"},
        )
        if case is None:
            return
        with self.ledger.lock:
            self.ledger.cases[case["id"]] = call_id
            self.ledger.events.add((case["id"], "open"))
        park = {"version": case["version"], "reason": "client_decision", "team": TEAM}
        case = self.post("case park", f"/cases/{case['id']}/park", park)
        if case is None:
            return
        with self.ledger.lock:
            self.ledger.events.add((case["id"], "azukari"))
        if n % 2:
            return
        resolve = {"version": case["version"], "outcome": "Cancelled as asked"}
        case = self.post("case resolve", f"/cases/{case['id']}/resolve", resolve)
        if case is not None:
            with self.ledger.lock:
                self.ledger.events.add((case["id"], "resolved"))


# ------------------------------------------------------------------------------ the drill


class Drill:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        bin_dir = ensure_packages(not args.no_install)
        self.folder = Path(tempfile.mkdtemp(prefix="azukari-drill-"))
        os.chmod(self.folder, 0o755)  # PostgreSQL runs as another user below it
        self.cluster = Cluster(self.folder, bin_dir, args.nodes, 1 if args.short else 2)
        self.app_password = secrets.token_urlsafe(16)
        self.apps: list[subprocess.Popen] = []
        self.app_ports = free_ports(2)
        self.worker: subprocess.Popen | None = None
        self.ledger = Ledger()
        self.stop_load = threading.Event()
        self.probes_acked: list[str] = []  # batch run ids whose queueing committed
        self.probes_in_doubt: list[str] = []  # batch run ids whose commit raised
        self.events: list[dict] = []  # kills and switchovers with their times
        self.drill_id = secrets.token_hex(4)
        self.load_stopped_at = 0.0

    # -- environment of the app

    def database_url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.cluster.nodes)
        return (
            f"postgres://azukari:{self.app_password}@{hosts}/azukari"
            "?target_session_attrs=read-write&connect_timeout=2"
        )

    def replica_url(self) -> str:
        """Every node, the standby preferred: reads that may lag (reports, exports, the board's
        trend) go to a replica while there is one, else to the primary."""
        return self.database_url().replace(
            "target_session_attrs=read-write", "target_session_attrs=prefer-standby"
        )

    def app_env(self) -> dict[str, str]:
        # false in the drill's own environment shows what the checks spare in a failover
        health_checks = os.environ.get("AZUKARI_DB_CONN_HEALTH_CHECKS", "true")
        return {
            **os.environ,
            "DATABASE_URL": self.database_url(),
            "DATABASE_REPLICA_URL": self.replica_url(),
            "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
            "AZUKARI_DATA_DIR": str(self.folder / "var"),
            "AZUKARI_DB_CONN_MAX_AGE": "60",
            "AZUKARI_DB_CONN_HEALTH_CHECKS": health_checks,
            "AZUKARI_API_REQUESTS_PER_MINUTE": "0",
            "AZUKARI_LOG_LEVEL": "ERROR",
            # --short: a task that failed in the outage runs again 30 s later, not 180 s
            **(
                {"AZUKARI_TASK_TIMEOUT": "20", "AZUKARI_TASK_RETRY": "30"}
                if self.args.short
                else {}
            ),
        }

    def run(self) -> int:
        log(f"folder {self.folder}; starting etcd and {len(self.cluster.nodes)} PostgreSQL nodes")
        started = time.monotonic()
        self.cluster.start()
        log(f"cluster up in {time.monotonic() - started:.0f} s: {self.describe()}")
        self.create_database()
        os.environ.update(self.app_env())
        self.load_demo()
        import django

        django.setup()
        token, phones, agent = self.integration()
        self.start_app()
        latency = None if self.args.short else self.measure_sync_cost(token, phones, agent)
        replica = None if self.args.short else self.measure_replica_reads()
        self.start_worker()
        self.failovers(token, phones, agent)
        return self.verify(latency, replica)

    def describe(self) -> str:
        return ", ".join(
            f"{m.get('name')} {m.get('role')} ({m.get('state')})" for m in self.cluster.members()
        )

    def create_database(self) -> None:
        import psycopg

        leader = self.cluster.leader()
        assert leader is not None
        with psycopg.connect(self.cluster.dsn(leader), autocommit=True) as conn:
            conn.execute(
                f"CREATE ROLE azukari LOGIN PASSWORD '{self.app_password}'"  # token_urlsafe
            )
            conn.execute("CREATE DATABASE azukari OWNER azukari")
        with psycopg.connect(self.cluster.dsn(leader, "azukari"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    def load_demo(self) -> None:
        command = ["demo", "--no-serve", "--customers", "50" if self.args.short else "200"]
        log(f"migrating and loading the demo world (azukari {' '.join(command)})")
        started = time.monotonic()
        subprocess.run(
            [str(VENV_BIN / "azukari"), *command],
            check=True,
            cwd=ROOT,
            env=self.app_env(),
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
        log(f"demo world loaded in {time.monotonic() - started:.0f} s")

    def integration(self) -> tuple[str, list[str], str]:
        from django.db.models import Count

        from azukari.api.models import Scope
        from azukari.api.services import api_token_create
        from azukari.customers.models import CustomerPhone
        from azukari.org.models import Client as Company
        from azukari.org.models import User

        coffee = Company.objects.get(code="coffee")
        _token, raw = api_token_create(
            name="drill PBX",
            scopes=[Scope.CONTACTS_WRITE, Scope.CASES_READ, Scope.CASES_WRITE],
            center_clients=[coffee],
        )
        phones = list(
            CustomerPhone.objects.filter(customer__client=coffee)
            .values("number")
            .annotate(n=Count("customer"))
            .filter(n=1)
            .values_list("number", flat=True)[:200]
        )
        agent = User.objects.get(username="op_sapporo").agent_id
        return raw, phones, agent

    def start_app(self) -> None:
        for port in self.app_ports:
            self.apps.append(
                subprocess.Popen(
                    [
                        str(VENV_BIN / "gunicorn"),
                        "azukari.config.wsgi:application",
                        f"--bind=127.0.0.1:{port}",
                        "--workers=1",
                        "--threads=4",
                        "--timeout=60",
                        "--log-level=warning",
                    ],
                    cwd=ROOT,
                    env=self.app_env(),
                    stdout=open(self.folder / f"app-{port}.log", "wb"),  # noqa: SIM115
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for port in self.app_ports:
            wait_until(
                f"the app server on {port}",
                lambda port=port: (
                    http_json(f"http://127.0.0.1:{port}/api/v1/openapi.json")[0] == 200
                ),
                120,
                0.5,
            )
        log(f"app servers on ports {self.app_ports[0]} and {self.app_ports[1]}")

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [str(VENV_BIN / "azukari"), "worker", "--workers", "2"],
            cwd=ROOT,
            env=self.app_env(),
            stdout=open(self.folder / "worker.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def clients(self, token: str) -> list[Client]:
        return [Client(f"http://127.0.0.1:{p}/api/v1", token, self.ledger) for p in self.app_ports]

    # -- synchronous replication's cost

    def measure_sync_cost(self, token: str, phones: list[str], agent: str) -> dict:
        """The same writes with synchronous and with asynchronous replication, in alternating
        rounds: a bare commit on the primary (psycopg) and a contact event through the API."""
        import psycopg

        samples: dict[str, dict[str, list[float]]] = {
            mode: {"commit": [], "api": []} for mode in ("sync", "async")
        }
        client = Client(f"http://127.0.0.1:{self.app_ports[0]}/api/v1", token, Ledger())
        for round_ in range(3):
            for mode in ("sync", "async"):
                self.set_synchronous(mode == "sync")
                leader = self.cluster.leader()
                assert leader is not None
                with psycopg.connect(self.cluster.dsn(leader), autocommit=True) as conn:
                    conn.execute("CREATE TABLE IF NOT EXISTS drill_commit (n int, at timestamptz)")
                    for n in range(100):
                        t = time.perf_counter()
                        conn.execute("INSERT INTO drill_commit VALUES (%s, now())", (n,))
                        samples[mode]["commit"].append((time.perf_counter() - t) * 1000)
                for n in range(30):
                    body = {
                        "event": "answered",
                        "call_id": f"latency-{mode}-{round_}-{n}",
                        "dialled_number": DIALLED,
                        "caller_number": phones[n % len(phones)],
                        "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                        "agent_id": agent,
                    }
                    t = time.perf_counter()
                    if client.post("latency", "/contacts/events", body) is not None:
                        samples[mode]["api"].append((time.perf_counter() - t) * 1000)
        self.set_synchronous(True)
        figures = {}
        for mode, kinds in samples.items():
            figures[mode] = {
                f"{kind}_{q}": (statistics.median(v) if q == "p50" else _p95(v))
                if v
                else float("nan")
                for kind, v in kinds.items()
                for q in ("p50", "p95")
            }
            log(
                f"{mode}: commit p50 {figures[mode]['commit_p50']:.2f} ms p95 "
                f"{figures[mode]['commit_p95']:.2f} ms; contact event over HTTP p50 "
                f"{figures[mode]['api_p50']:.1f} ms p95 {figures[mode]['api_p95']:.1f} ms"
            )
        return figures

    def measure_replica_reads(self, rounds: int = 10) -> dict:
        """The monthly report and a customer export, read from the primary and through
        `replica_reads()` from the standby, in alternating rounds; and how long a commit on the
        primary takes to be visible on the standby."""
        import datetime as dt

        import psycopg
        from django.db import connections
        from django.utils import timezone

        from azukari.core.dbrouting import REPLICA, replica_reads
        from azukari.dataio.exports import export_rows
        from azukari.org.models import Client as Company
        from azukari.org.models import User
        from azukari.reports.selectors import monthly_report

        manager = User.objects.get(username="manager")
        coffee = Company.objects.get(code="coffee")
        start = timezone.localdate().replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1)
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
            in_recovery, port = cursor.fetchone()
        log(f"replica reads: the replica alias is on port {port}, standby: {in_recovery}")

        def report() -> None:
            monthly_report(viewer=manager, client=coffee, start=start, end=end).rows()

        def export() -> None:
            list(export_rows(viewer=manager, client=coffee, what="customers", purpose="drill"))

        samples: dict[str, list[float]] = {}
        for _round in range(rounds):
            for where in ("primary", "replica"):
                for name, read in (("report", report), ("export", export)):
                    with replica_reads() if where == "replica" else contextlib.nullcontext():
                        t = time.perf_counter()
                        read()
                        elapsed = (time.perf_counter() - t) * 1000
                    if _round:  # the first round warms the connections and caches
                        samples.setdefault(f"{name} {where}", []).append(elapsed)
        figures = {k: (statistics.median(v), _p95(v)) for k, v in samples.items()}
        for key, (p50, p95) in figures.items():
            log(f"{key}: p50 {p50:.1f} ms p95 {p95:.1f} ms")

        leader = self.cluster.leader()
        standby = next(n for n in self.cluster.nodes if n.pg_port == port)
        visible = []
        with (
            psycopg.connect(self.cluster.dsn(leader), autocommit=True) as primary,
            psycopg.connect(self.cluster.dsn(standby), autocommit=True) as replica,
        ):
            primary.execute("CREATE TABLE IF NOT EXISTS drill_lag (n int)")
            time.sleep(1)
            for n in range(50):
                primary.execute("INSERT INTO drill_lag VALUES (%s)", (n,))
                t = time.perf_counter()
                while not replica.execute("SELECT 1 FROM drill_lag WHERE n = %s", (n,)).fetchone():
                    time.sleep(0.0005)
                visible.append((time.perf_counter() - t) * 1000)
        figures["lag"] = p50, p95, worst = statistics.median(visible), _p95(visible), max(visible)
        log(
            f"a commit on the primary was visible on the standby after p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms, max {worst:.1f} ms"
        )
        figures["standby"] = (bool(in_recovery),)
        return figures

    def set_synchronous(self, on: bool) -> None:
        import psycopg

        self.cluster.patronictl(
            "edit-config", "--force", "-s", f"synchronous_mode={'true' if on else 'false'}"
        )

        def applied() -> bool:
            leader = self.cluster.leader()
            if leader is None:
                return False
            with psycopg.connect(self.cluster.dsn(leader), autocommit=True) as conn:
                names = conn.execute("SHOW synchronous_standby_names").fetchone()[0]
            return bool(names) == on

        wait_until(f"synchronous_mode={on}", applied, 60, 0.5)
        if on:
            wait_until("a synchronous standby", self.cluster.healthy, 60, 0.5)

    # -- load, kills and switchovers

    def load(self, client: Client, first: int, phones: list[str], agent: str) -> None:
        n = first
        deadline = time.monotonic() + self.args.max_seconds
        while not self.stop_load.is_set() and time.monotonic() < deadline and n < first + 100_000:
            client.call(n, phones[n % len(phones)], agent)
            n += self.args.clients
            time.sleep(0.2 if self.args.short else 0.05)

    def queue_tasks(self) -> None:
        """Queues 5 worker tasks every half second (--short: 1.5 s), each batch in one
        transaction."""
        from django.db import connection, transaction

        from azukari.cases.background import probe_enqueue

        batch = 0
        deadline = time.monotonic() + self.args.max_seconds
        while not self.stop_load.is_set() and time.monotonic() < deadline:
            run = f"drill{self.drill_id}b{batch}"
            batch += 1
            try:
                with transaction.atomic():
                    probe_enqueue(run, PROBES_PER_BATCH)
                self.probes_acked.append(run)
            except Exception:  # any failure: the commit's outcome is unknown
                self.probes_in_doubt.append(run)
                connection.close()
            time.sleep(1.5 if self.args.short else 0.5)
        connection.close()

    def failovers(self, token: str, phones: list[str], agent: str) -> None:
        servers = self.clients(token)
        threads = [
            threading.Thread(target=self.load, args=(servers[i % 2], i, phones, agent), daemon=True)
            for i in range(self.args.clients)
        ]
        threads.append(threading.Thread(target=self.queue_tasks, daemon=True))
        for t in threads:
            t.start()
        pause = 5 if self.args.short else 10
        try:
            time.sleep(pause + 5)
            for k in range(self.args.kills):
                self.kill_primary(k + 1)
                time.sleep(pause)
                self.switch_back(k + 1)
                time.sleep(pause)
        finally:
            self.stop_load.set()
            for t in threads:
                t.join(60)
            self.load_stopped_at = time.monotonic()

    def kill_primary(self, k: int) -> None:
        leader = self.cluster.leader()
        assert leader is not None, "no primary to kill"
        pid = leader.postmaster_pid()
        assert pid is not None
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        assert leader.proc is not None
        os.killpg(leader.proc.pid, signal.SIGKILL)
        leader.proc.wait(10)
        log(f"kill {k}: SIGKILL to {leader.name}'s postmaster ({pid}) and its Patroni")
        others = [n for n in self.cluster.nodes if n is not leader]
        new = wait_until(
            "a promotion", lambda: next((n for n in others if n.is_primary()), None), 120, 0.1
        )
        promoted_at = time.monotonic()
        log(f"kill {k}: {new.name} promoted after {promoted_at - killed_at:.1f} s")
        serving_at = self.wait_serving(killed_at)
        log(f"kill {k}: the app served a write again {serving_at - killed_at:.1f} s after the kill")
        self.cluster.start_node(leader)
        wait_until(f"{leader.name} back as a replica", self.cluster.healthy, 180, 0.5)
        log(f"kill {k}: {leader.name} is back: {self.describe()}")
        self.events.append(
            {
                "what": f"kill {k}",
                "at": killed_at,
                "promotion_s": promoted_at - killed_at,
                "serving_s": serving_at - killed_at,
                "old": leader.name,
                "new": new.name,
            }
        )

    def switch_back(self, k: int) -> None:
        leader = self.cluster.leader()
        assert leader is not None
        # In synchronous mode Patroni switches over to the synchronous standby only: with two
        # nodes that is the old primary, back from its kill.
        standby = next(m["name"] for m in self.cluster.members() if m["role"] == "sync_standby")
        candidate = next(n for n in self.cluster.nodes if n.name == standby)
        asked_at = time.monotonic()
        said = self.cluster.patronictl(
            "switchover", "--leader", leader.name, "--candidate", candidate.name, "--force"
        )
        try:
            wait_until("the switchover", candidate.is_primary, 120, 0.1)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; patronictl said: {said.strip()}") from None
        promoted_at = time.monotonic()
        serving_at = self.wait_serving(asked_at)
        wait_until("the old primary back as a replica", self.cluster.healthy, 180, 0.5)
        log(
            f"switchover {k}: {leader.name} -> {candidate.name} in {promoted_at - asked_at:.1f} s;"
            f" a write served {serving_at - asked_at:.1f} s after the request"
        )
        self.events.append(
            {
                "what": f"switchover {k}",
                "at": asked_at,
                "promotion_s": promoted_at - asked_at,
                "serving_s": serving_at - asked_at,
                "old": leader.name,
                "new": candidate.name,
            }
        )

    def wait_serving(self, since: float) -> float:
        def served() -> float | None:
            with self.ledger.lock:
                done = [
                    a.ended
                    for a in self.ledger.answers
                    if a.started > since and 200 <= a.status < 300
                ]
            return min(done) if done else None

        return wait_until("a write served again", served, 180, 0.2)

    # -- verdict

    def verify(self, latency: dict | None, replica: dict | None = None) -> int:
        from django.db import connections

        from azukari.cases.models import Case, CaseEvent, Contact
        from azukari.org.models import TaskReceipt

        connections.close_all()  # this thread's connection went down with the first primary
        log("load stopped; waiting for the worker to drain the queue")
        prefix = f"probe:drill{self.drill_id}b"
        batch = range(PROBES_PER_BATCH)
        acked_keys = {f"probe:{run}:{n}" for run in self.probes_acked for n in batch}
        doubt_keys = {f"probe:{run}:{n}" for run in self.probes_in_doubt for n in batch}

        def receipts() -> dict[str, int]:
            return dict(
                TaskReceipt.objects.filter(key__startswith=prefix).values_list(
                    "key", "duplicate_runs"
                )
            )

        from django_q.models import OrmQ

        def queued() -> tuple[int, Counter]:
            """The drill's probes still queued, and the other tasks (the periodic work) by name."""
            rows = list(OrmQ.objects.all())
            ours = sum(1 for q in rows if str(q.group()).startswith(f"probe-drill{self.drill_id}"))
            others = Counter(q.func() for q in rows if not str(q.group()).startswith("probe-drill"))
            return ours, others

        deadline = time.monotonic() + self.args.drain_timeout
        reported = time.monotonic()
        while time.monotonic() < deadline:
            done = receipts()
            if acked_keys <= done.keys() and not queued()[0]:
                break
            if time.monotonic() - reported > 30:
                reported = time.monotonic()
                ours, others = queued()
                log(
                    f"{len(acked_keys & done.keys())}/{len(acked_keys)} tasks done, "
                    f"{ours} of the drill's tasks queued; other tasks queued: {dict(others)}"
                )
            time.sleep(2)
        done = receipts()
        queued_left, others_left = queued()
        tasks_lost = len(acked_keys - done.keys())
        doubt_done = len(doubt_keys & done.keys())
        duplicate_deliveries = sum(done.values())
        failed_tasks = self.failed_task_count()

        calls = sorted(self.ledger.contacts)
        found_calls = set(
            Contact.objects.filter(pbx_call_id__in=calls).values_list("pbx_call_id", flat=True)
        )
        contacts_lost = len(set(calls) - found_calls)
        found_cases = set(
            Case.objects.filter(pk__in=self.ledger.cases).values_list("pk", flat=True)
        )
        cases_lost = len(set(self.ledger.cases) - found_cases)
        states = set(
            CaseEvent.objects.filter(case_id__in=self.ledger.cases).values_list(
                "case_id", "to_state"
            )
        )
        events_lost = len(self.ledger.events - states)
        per_call = Counter(
            Case.objects.filter(subject__startswith="Drill ").values_list("subject", flat=True)
        )
        doubled_cases = sum(1 for n in per_call.values() if n > 1)

        print()
        print("== failover drill")
        print(f"nodes {len(self.cluster.nodes)}, synchronous_mode on, kills {self.args.kills}")
        for mode in ("sync", "async") if latency else ():
            f = latency[mode]
            print(
                f"write latency {mode:>5}: commit p50 {f['commit_p50']:.2f} ms p95 "
                f"{f['commit_p95']:.2f} ms; contact event over HTTP p50 {f['api_p50']:.1f} ms "
                f"p95 {f['api_p95']:.1f} ms"
            )
        if replica:
            print(
                f"replica reads (standby: {replica['standby'][0]}): "
                + "; ".join(
                    f"{key} p50 {figures[0]:.1f} ms p95 {figures[1]:.1f} ms"
                    for key, figures in replica.items()
                    if key not in ("lag", "standby")
                )
            )
            print(
                f"a commit visible on the standby after p50 {replica['lag'][0]:.1f} ms, "
                f"p95 {replica['lag'][1]:.1f} ms, max {replica['lag'][2]:.1f} ms"
            )
        writes = len(self.ledger.contacts) + len(self.ledger.cases) + len(self.ledger.events)
        print(
            f"acknowledged writes: {len(calls)} contacts, {len(self.ledger.cases)} cases, "
            f"{len(self.ledger.events)} case events ({writes} in all)"
        )
        print(
            f"lost after the failovers: {contacts_lost} contacts, {cases_lost} cases, "
            f"{events_lost} events; cases doubled: {doubled_cases}"
        )
        print(
            f"tasks: {len(acked_keys)} queued and acknowledged, {len(acked_keys) - tasks_lost} "
            f"done, {tasks_lost} lost, 0 doubled (one receipt per task; {duplicate_deliveries} "
            f"duplicate deliveries found their receipt); {len(doubt_keys)} in batches whose "
            f"commit failed, of which {doubt_done} done; {queued_left} rows left in the "
            f"queue; {failed_tasks} failed task results; other tasks queued: "
            f"{dict(others_left) or 'none'}"
        )
        ends = [e["at"] for e in self.events[1:]] + [self.load_stopped_at]
        for event, until in zip(self.events, ends, strict=True):
            window = self.failure_window(event["at"], until)
            print(
                f"{event['what']:<13} {event['old']}->{event['new']}: promotion "
                f"{event['promotion_s']:.1f} s, app serving again after {event['serving_s']:.1f} s"
                f" without a restart; {window}"
            )
        answers = self.ledger.answers
        ok = sum(1 for a in answers if 200 <= a.status < 300)
        print(f"requests: {len(answers)}, {ok} answered 2xx")
        lost = contacts_lost + cases_lost + events_lost + tasks_lost + doubled_cases
        print("RESULT: " + ("0 lost, 0 doubled" if not lost else f"{lost} LOST OR DOUBLED"))
        return 1 if lost else 0

    def failure_window(self, since: float, until: float) -> str:
        failed = [
            a
            for a in self.ledger.answers
            # from a second before the event to a second before the next one: requests
            # already in flight when the primary went down belong to its window
            if since - 1 <= a.started < until - 1 and not 200 <= a.status < 300
        ]
        if not failed:
            return "no failed requests"
        start, end = min(a.started for a in failed), max(a.ended for a in failed)
        kinds = Counter(
            f"{a.status or 'no answer'}"
            + (" JSON" if a.json_body else " not JSON" if a.status else "")
            + (" Retry-After" if a.retry_after else "")
            for a in failed
        )
        described = ", ".join(f"{n}× {k}" for k, n in kinds.most_common())
        return f"{len(failed)} failed requests over {end - start:.1f} s: {described}"

    def failed_task_count(self) -> int:
        from django_q.models import Failure

        return Failure.objects.filter(group__startswith=f"probe-drill{self.drill_id}").count()

    def close(self) -> None:
        self.stop_load.set()
        for proc in self.apps:
            stop_group(proc)
        stop_group(self.worker, grace=20)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        self.cluster.stop()
        if self.args.keep:
            log(f"kept {self.folder}")
        else:
            shutil.rmtree(self.folder, ignore_errors=True)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=2, choices=(2, 3))
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--max-seconds", type=float, default=1200.0, help="bound on the load")
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--short", action="store_true", help="CI's version: one kill, one switchover, ~2 min"
    )
    args = parser.parse_args()
    if args.short:
        args.kills = 1
        args.clients = min(args.clients, 2)
        args.max_seconds = min(args.max_seconds, 120.0)
        args.drain_timeout = min(args.drain_timeout, 120.0)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped like Ctrl-C
    drill = Drill(args)
    try:
        return drill.run()
    finally:
        drill.close()


if __name__ == "__main__":
    sys.exit(main())
