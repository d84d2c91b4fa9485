"""The production stack on this machine, on loopback, without containers (`make stack`):

    .venv/bin/python scripts/stack.py start        # make stack
    .venv/bin/python scripts/stack.py stop         # make stack-stop
    .venv/bin/python scripts/stack.py status
    .venv/bin/python scripts/stack.py stop-part NAME / start-part NAME   # postgres, redis,
                                                   # web-<port>, worker-<n>, beat (fault tests)

PostgreSQL (a cluster of its own, Debian's binaries), Redis, granian with production settings
(scheduler_site/production.py: DEBUG off, HTTPS with a certificate made for 127.0.0.1 and
localhost, `check --deploy` clean), Celery workers and one Celery beat, after migrate,
collectstatic (WhiteNoise serves them) and the demo data. Everything lives in STACK_DIR (default
var/stack): the database cluster, Redis's append-only file, logs (log/), pid files (run/), the
generated secrets, and `env`, the environment the processes run with, for `manage.py` beside them:

    set -a; . var/stack/env; set +a; .venv/bin/python manage.py shell

Each process is started in a session of its own and its pid file records the pid with the
process's start time, so that `stop` signals exactly the process groups it started, never a
process that took a reused pid. On a real host, systemd runs the same commands (deploy/).

Environment: STACK_DIR, HOST (127.0.0.1), STACK_WEB_PORTS ("8443"; several ports start several
web servers), STACK_WORKERS (Celery worker processes, 1), STACK_WORKER_CONCURRENCY (threads per
worker, 8), STACK_WEB_WORKERS / STACK_WEB_THREADS (the web server's processes and threads, default:
production.py's),
STACK_PG_PORT (5442), STACK_REDIS_PORT (6390), STACK_TLS (true), DEMO_ADMIN_PASSWORD.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
START_TIMEOUT = 90.0  # seconds for one part to answer
STOP_TIMEOUT = 30.0  # seconds for a part to stop before it is killed


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Config:
    folder: Path
    host: str
    web_ports: list[int]
    workers: int
    worker_concurrency: int
    pg_port: int
    redis_port: int
    tls: bool

    @classmethod
    def from_environment(cls) -> Config:
        return cls(
            folder=Path(os.environ.get("STACK_DIR") or ROOT / "var" / "stack").resolve(),
            host=os.environ.get("HOST", "127.0.0.1"),
            web_ports=[int(port) for port in os.environ.get("STACK_WEB_PORTS", "8443").split()],
            workers=int(os.environ.get("STACK_WORKERS", "1")),
            worker_concurrency=int(os.environ.get("STACK_WORKER_CONCURRENCY", "8")),
            pg_port=int(os.environ.get("STACK_PG_PORT", "5442")),
            redis_port=int(os.environ.get("STACK_REDIS_PORT", "6390")),
            tls=env_bool("STACK_TLS", True),
        )

    def url(self, port: int | None = None) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{port or self.web_ports[0]}/"

    def path(self, *parts: str) -> Path:
        return self.folder.joinpath(*parts)


# ---------------------------------------------------------------- secrets and certificates


def secret(config: Config, name: str, make: Callable[[], str]) -> str:
    """A value generated once per stack and kept (mode 600): keys survive restarts, and sign-ins
    and encrypted secrets with them."""
    path = config.path("secrets", name)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()


def fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def certificate(config: Config) -> tuple[Path, Path]:
    """A self-signed certificate for the loopback names, made once with openssl. A real host has
    its TLS at the proxy (deploy/nginx.conf) with a real certificate."""
    cert, key = config.path("tls", "cert.pem"), config.path("tls", "key.pem")
    if not cert.is_file():
        cert.parent.mkdir(parents=True, exist_ok=True)
        names = f"DNS:localhost,IP:127.0.0.1,IP:{config.host}" if config.host != "127.0.0.1" else ""
        run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "825", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
             "-addext", f"subjectAltName={names or 'DNS:localhost,IP:127.0.0.1'}"],
        )  # fmt: skip
        key.chmod(0o600)
    return cert, key


# ---------------------------------------------------------------- the environment


def environment(config: Config) -> dict[str, str]:
    """The production settings the processes run with (docs/operations.md's variables)."""
    pg_password = secret(config, "pg-scheduler-password", lambda: secrets.token_urlsafe(24))
    hosts = ",".join(dict.fromkeys(["127.0.0.1", "localhost", config.host]))
    values = {
        "DJANGO_SETTINGS_MODULE": "scheduler_site.settings",
        "DEBUG": "false",
        "HTTPS": "true" if config.tls else "false",
        "SECRET_KEY": secret(config, "secret-key", lambda: secrets.token_urlsafe(50)),
        "FIELD_ENCRYPTION_KEYS": secret(config, "field-encryption-key", fernet_key),
        "ALLOWED_HOSTS": hosts,
        "DATABASE_URL": f"postgres://scheduler:{pg_password}@{config.host}:{config.pg_port}/scheduler",
        "REDIS_URL": f"redis://{config.host}:{config.redis_port}/0",
        "VAR_DIR": str(config.folder),
        "STATIC_ROOT": str(config.path("static")),
        "MEDIA_ROOT": str(config.path("media")),
        "PROMETHEUS_MULTIPROC_DIR": str(config.path("metrics")),
        "HOST": config.host,
        "PYTHONUNBUFFERED": "1",
    }
    if config.tls:
        cert, key = certificate(config)
        values.update(TLS_CERT=str(cert), TLS_KEY=str(key))
    for name in ("STACK_WEB_WORKERS", "STACK_WEB_THREADS"):
        if os.environ.get(name):
            values[name.removeprefix("STACK_")] = os.environ[name]
    return values


def write_env_file(config: Config, values: dict[str, str]) -> None:
    path = config.path("env")
    path.touch(mode=0o600)
    path.write_text("".join(f"{key}={_quoted(value)}\n" for key, value in values.items()))


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def process_env(values: dict[str, str], **extra: str) -> dict[str, str]:
    # The caller's database, broker and keys must not leak in: the stack's own values win, and
    # libpq's PG* variables are dropped.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("PG", "STACK_"))}
    for name in ("SQLITE_TEST_NAME", "TASK_QUEUE_DIR"):
        inherited.pop(name, None)
    return {**inherited, **values, **extra}


# ---------------------------------------------------------------- processes


@dataclass
class Part:
    """One long-running process of the stack, started in its own session (its group is its pid)."""

    name: str
    command: list[str]
    ready: Callable[[], bool]
    extra_env: dict[str, str] = field(default_factory=dict)


def pid_file(config: Config, name: str) -> Path:
    return config.path("run", f"{name}.pid")


def log_file(config: Config, name: str) -> Path:
    return config.path("log", f"{name}.log")


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat): with the
    pid it names one process for good."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def running_pid(config: Config, name: str) -> int | None:
    """The pid recorded for `name` when that very process still runs, else None."""
    try:
        pid_text, started = pid_file(config, name).read_text().split()
    except (OSError, ValueError):
        return None
    pid = int(pid_text)
    return pid if start_time(pid) == started else None


def launch(config: Config, part: Part, values: dict[str, str]) -> None:
    if running_pid(config, part.name):
        print(f"   {part.name}: already running")
        return
    log = log_file(config, part.name)
    with log.open("a") as out:
        process = subprocess.Popen(
            part.command, cwd=ROOT, env=process_env(values, **part.extra_env), stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    pid_file(config, part.name).write_text(f"{process.pid} {start_time(process.pid)}\n")
    wait_for(part, lambda: process.poll() is None, log)
    print(f"   {part.name}: pid {process.pid}")


def wait_for(part: Part, alive: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not alive():
            raise SystemExit(f"{part.name} exited while starting; its log ({log}) ends:\n{tail(log)}")
        if part.ready():
            return
        time.sleep(0.2)
    raise SystemExit(f"{part.name} did not answer within {START_TIMEOUT:.0f} s; {log} ends:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def terminate(config: Config, name: str) -> bool:
    """SIGTERM to the group `name` leads (the web server's workers, Celery's pool go with it), SIGKILL
    after STOP_TIMEOUT. False when it was not running."""
    pid = running_pid(config, name)
    pid_file(config, name).unlink(missing_ok=True)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and _group_alive(pid):
        time.sleep(0.1)
    if _group_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # A group whose leader is a zombie of ours (not reaped: we are not its parent after a restart
    # of this script) counts as gone once no member is left but zombies.
    return any(_in_group(entry, pgid) for entry in Path("/proc").iterdir() if entry.name.isdigit())


def _in_group(entry: Path, pgid: int) -> bool:
    try:
        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z" and int(fields[2]) == pgid


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{done.stdout}{done.stderr}")
    return done


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- PostgreSQL


def pg_bin(program: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql (see the README)")
    return str(found[-1])


def as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: Debian's package made the postgres user for this.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def postgres_data(config: Config) -> Path:
    return config.path("pg", "data")


def init_postgres(config: Config) -> None:
    data = postgres_data(config)
    if (data / "PG_VERSION").is_file():
        return
    reachable = ["runuser", "-u", "postgres", "--", "test", "-x", str(config.folder)]
    if os.geteuid() == 0 and subprocess.run(reachable).returncode:
        raise SystemExit(
            f"PostgreSQL runs as the postgres user, who cannot enter {config.folder}: choose a STACK_DIR "
            "whose folders others may enter (mode 711 or 755; pytest's and mktemp's are 700)"
        )
    data.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(data.parent, "postgres")
    password = secret(config, "pg-superuser-password", lambda: secrets.token_urlsafe(24))
    pwfile = config.path("pg", "superuser-password")
    pwfile.write_text(password)
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres")
    try:
        initdb = [pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                  "--auth-local=peer", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]  # fmt: skip
        run(as_postgres(initdb))
    finally:
        pwfile.unlink()


def start_postgres(config: Config) -> None:
    # Its log beside its data: the server runs as the postgres user, which owns that folder.
    data = postgres_data(config)
    log = data.parent / "postgres.log"
    options = f"-c listen_addresses={config.host} -p {config.pg_port} -k {data.parent} -c max_connections=200"
    pg_ctl = [pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"]
    run(as_postgres(pg_ctl))


def stop_postgres(config: Config) -> bool:
    data = postgres_data(config)
    if not (data / "postmaster.pid").is_file():
        return False
    run(as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]))
    return True


def create_database(config: Config, values: dict[str, str]) -> None:
    """The application's own role and database (not the superuser), made once."""
    password = secret(config, "pg-scheduler-password", lambda: secrets.token_urlsafe(24))
    psql = as_postgres([pg_bin("psql"), "-h", str(postgres_data(config).parent), "-p", str(config.pg_port),
                        "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc"])  # fmt: skip
    exists = run([*psql, "SELECT 1 FROM pg_roles WHERE rolname = 'scheduler'"]).stdout.strip()
    if not exists:
        run([*psql, f"CREATE ROLE scheduler LOGIN PASSWORD '{password}'"])
        run([*psql, "CREATE DATABASE scheduler OWNER scheduler"])


# ---------------------------------------------------------------- the parts


def parts(config: Config) -> list[Part]:
    """In start order; `stop` goes backwards. PostgreSQL is managed by pg_ctl, not here."""
    redis = Part(
        "redis",
        [shutil.which("redis-server") or "redis-server", "--port", str(config.redis_port),
         "--bind", config.host, "--dir", str(config.path("redis")), "--appendonly", "yes",
         "--save", "", "--protected-mode", "yes"],
        lambda: port_answers(config.host, config.redis_port),
    )  # fmt: skip
    webs = [
        Part(f"web-{port}", [PYTHON, "-m", "scheduler_site.production"],
             lambda port=port: port_answers(config.host, port), {"PORT": str(port)})
        for port in config.web_ports
    ]  # fmt: skip
    workers = [
        Part(f"worker-{n}", [PYTHON, "-W", "ignore:You're running the worker with superuser", "-m",
                             "celery", "-A", "scheduler_site", "worker", "--hostname", f"worker{n}@%h",
                             "--pool", "threads", "--concurrency", str(config.worker_concurrency),
                             "--loglevel", "INFO"],
             lambda n=n: "ready." in tail(log_file(config, f"worker-{n}"), 200))
        for n in range(1, config.workers + 1)
    ]  # fmt: skip
    beat = Part(
        "beat",
        [PYTHON, "-m", "celery", "-A", "scheduler_site", "beat", "--loglevel", "INFO",
         "--schedule", str(config.path("beat-schedule"))],
        lambda: "beat: Starting..." in tail(log_file(config, "beat"), 200),
    )  # fmt: skip
    return [redis, *webs, *workers, beat]


def part_named(config: Config, name: str) -> Part:
    for part in parts(config):
        if part.name == name:
            return part
    raise SystemExit(f"no part named {name!r}: postgres, " + ", ".join(p.name for p in parts(config)))


def manage(values: dict[str, str], *args: str) -> str:
    return run([PYTHON, "manage.py", *args], env=process_env(values)).stdout


# ---------------------------------------------------------------- commands


def start(config: Config) -> None:
    for folder in ("run", "log", "redis", "media", "metrics"):
        config.path(folder).mkdir(parents=True, exist_ok=True)
    values = environment(config)
    write_env_file(config, values)
    print(f"== stack in {config.folder}")
    init_postgres(config)
    if not stop_postgres_running(config):
        start_postgres(config)
    print(f"   postgres: {config.host}:{config.pg_port}")
    create_database(config, values)
    # Metrics files of processes from an earlier run would be summed with this run's.
    shutil.rmtree(config.path("metrics"))
    config.path("metrics").mkdir()
    launch(config, part_named(config, "redis"), values)
    manage(values, "migrate", "--no-input", "-v", "0")
    manage(values, "collectstatic", "--no-input", "-v", "0")
    check_deployment(config, values)
    print(manage(values, "seed_demo", "--url", config.url()).rstrip())
    for part in parts(config)[1:]:
        launch(config, part, values)
    print("== the stack is up: " + ", ".join(config.url(port) for port in config.web_ports))
    if config.tls:
        print(f"   (a certificate made for this machine: {config.path('tls', 'cert.pem')})")
    print("   stop it with: make stack-stop")


def check_deployment(config: Config, values: dict[str, str]) -> None:
    """`check --deploy` must be clean: the start stops on any warning. Over plain HTTP
    (STACK_TLS=false, for a proxy of one's own in front) the HTTPS settings are off by choice, so
    their warnings are printed and only errors stop it."""
    if config.tls:
        manage(values, "check", "--deploy", "--fail-level", "WARNING")
        return
    found = run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "ERROR"], env=process_env(values))
    print("   plain HTTP (STACK_TLS=false): check --deploy's HTTPS warnings apply\n" + found.stderr.rstrip())


def stop_postgres_running(config: Config) -> bool:
    return port_answers(config.host, config.pg_port) and (postgres_data(config) / "postmaster.pid").is_file()


def stop(config: Config) -> None:
    for part in reversed(parts(config)):
        if terminate(config, part.name):
            print(f"   {part.name}: stopped")
    if stop_postgres(config):
        print("   postgres: stopped")


def status(config: Config) -> int:
    down = 0
    for part in parts(config):
        pid = running_pid(config, part.name)
        down += pid is None
        print(f"{part.name:<12} {'pid ' + str(pid) if pid else 'not running'}")
    postgres = stop_postgres_running(config)
    down += not postgres
    print(f"{'postgres':<12} {'running on port ' + str(config.pg_port) if postgres else 'not running'}")
    return 1 if down else 0


def start_part(config: Config, name: str) -> None:
    if name == "postgres":
        start_postgres(config)
    else:
        launch(config, part_named(config, name), environment(config))


def stop_part(config: Config, name: str) -> None:
    if name == "postgres":
        stop_postgres(config)
    else:
        part_named(config, name)
        terminate(config, name)


def main(argv: list[str]) -> int:
    config = Config.from_environment()
    command, *rest = argv or ["status"]
    if command == "start":
        start(config)
    elif command == "stop":
        stop(config)
    elif command == "status":
        return status(config)
    elif command in ("start-part", "stop-part") and len(rest) == 1:
        (start_part if command == "start-part" else stop_part)(config, rest[0])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
