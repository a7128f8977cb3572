"""The team stack of a generated project (its compose.yaml) as local processes,
for tests on a machine without a Docker engine: PostgreSQL, an S3-compatible
server (moto) and the project's MLflow tracking server on both, on 127.0.0.1
with free ports, stopped and deleted afterwards."""

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from devtools.testing.dockerfile import last_instruction
from devtools.testing.projects import free_port, project_env, virtual_environment

DATABASE = "mlflow"
DATABASE_USER = "mlflow"
# moto accepts any credentials; clients must still send some.
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "stack-test",
    "AWS_SECRET_ACCESS_KEY": "stack-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class StackError(RuntimeError):
    pass


@dataclass
class Postgres:
    port: int

    def uri(self, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{DATABASE_USER}@127.0.0.1:{self.port}/{DATABASE}"

    def psql(self, sql: str, database: str = DATABASE) -> subprocess.CompletedProcess:
        """Run SQL with psql (the tests need no database driver of their own)."""
        return subprocess.run(
            [_postgres_program("psql"), "--no-psqlrc", "--tuples-only", "--no-align",
             "--field-separator", "\t", "--host", "127.0.0.1", "--port", str(self.port),
             "--username", DATABASE_USER, "--dbname", database, "--command", sql],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    def query(self, sql: str) -> list[list[str]]:
        """Rows of a query in the MLflow database."""
        result = self.psql(sql)
        if result.returncode != 0:
            raise StackError(f"psql failed on {sql!r}: {result.stderr}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]


def _postgres_program(name: str) -> str:
    """A PostgreSQL program: on PATH, or where Debian's packages put it."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise StackError(
            f"PostgreSQL's {name} not found: install PostgreSQL (Debian: apt-get "
            "install postgresql; .ci/run does this when it is missing)"
        )
    return found


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as user postgres
    (which Debian's package creates)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise StackError(
            "running as root, but there is no user postgres to run PostgreSQL"
        ) from None
    return ["runuser", "-u", "postgres", "--"]


def _wait_for(check, process: subprocess.Popen, log: Path, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{what} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.3)
    raise StackError(f"{what} not ready after {timeout:.0f}s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def _process(command: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator:
    with log.open("w") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            yield process
        finally:
            # The whole group: servers with worker processes stop with them.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextlib.contextmanager
def postgres_server(logs: Path) -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster with an empty database for MLflow."""
    # The server user must reach its data directory: not under pytest's
    # private temporary directory.
    data_root = Path(tempfile.mkdtemp(prefix="stack-postgres-"))
    try:
        prefix = _as_server_user()
        if prefix:
            shutil.chown(data_root, user="postgres")
        data = data_root / "data"
        initdb = subprocess.run(
            [*prefix, _postgres_program("initdb"), "--pgdata", str(data), "--username",
             DATABASE_USER, "--auth", "trust", "--encoding", "UTF8", "--no-sync"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if initdb.returncode != 0:
            raise StackError(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
        server = Postgres(free_port())
        command = [
            *prefix, _postgres_program("postgres"), "-D", str(data), "-h", "127.0.0.1",
            "-p", str(server.port), "-k", "", "-c", "fsync=off",
        ]  # fmt: skip
        with _process(command, logs / "postgres.log") as process:
            # Ready once it accepts connections: the database is made then.
            create = f"create database {DATABASE}"
            _wait_for(lambda: server.psql(create, "postgres").returncode == 0, process,
                      logs / "postgres.log", "PostgreSQL", timeout=60)  # fmt: skip
            yield server
    finally:
        shutil.rmtree(data_root, ignore_errors=True)


@contextlib.contextmanager
def s3_server(logs: Path, buckets: list[str]) -> Iterator[str]:
    """moto's S3 server with `buckets` created; yields its endpoint URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    moto = Path(sys.executable).with_name("moto_server")
    with _process([str(moto), "-H", "127.0.0.1", "-p", str(port)], logs / "s3.log") as process:
        _wait_for(lambda: httpx.get(url, timeout=1).status_code < 500, process,
                  logs / "s3.log", "the S3 server", timeout=60)  # fmt: skip
        client = s3_client(url)
        for bucket in buckets:
            client.create_bucket(Bucket=bucket)
        yield url


def s3_client(url: str):
    import boto3  # comes with moto; only the stack tests need it

    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
    )


def s3_keys(url: str, bucket: str) -> list[str]:
    pages = s3_client(url).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def mlflow_server_environment(server_dir: Path, workdir: Path) -> Path:
    """A virtual environment with the project's pinned server requirements
    (deploy/mlflow-server/requirements.txt), as its image installs them."""
    requirements = str(server_dir / "requirements.txt")
    env_dir = workdir / "mlflow-server-env"
    virtual_environment(env_dir, "--requirement", requirements)
    return env_dir


def server_command(server_dir: Path, port: int) -> list[str]:
    """The image's CMD, listening on 127.0.0.1:port with one worker (2 cores)."""
    command = json.loads(last_instruction(server_dir / "Dockerfile", "CMD"))
    replaced = {"0.0.0.0": "127.0.0.1", "5000": str(port)}
    return [replaced.get(part, part) for part in command] + ["--workers", "1"]


@contextlib.contextmanager
def mlflow_server(
    env_dir: Path, server_dir: Path, environment: dict[str, str], logs: Path
) -> Iterator[str]:
    """The project's tracking server, configured by `environment` alone as
    compose configures it; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = server_command(server_dir, port)
    command[0] = str(env_dir / "bin" / command[0])
    env = {
        **{k: v for k, v in project_env().items() if not k.startswith("AWS_")},
        **environment,
    }
    log = logs / "mlflow-server.log"
    with _process(command, log, env=env) as process:
        # Its first start creates the schema in PostgreSQL: allow for that.
        _wait_for(lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200,
                  process, log, "the MLflow server", timeout=240)  # fmt: skip
        yield url
