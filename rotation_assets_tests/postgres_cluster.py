"""A throwaway PostgreSQL cluster for tests: initdb under a new temporary folder, a server on a
unix socket in that folder (no TCP port to collide with), one database, then stopped and removed.

Why in the test session rather than in ``.ci/run``: the same code starts the server in CI and on
a developer's machine, so the Postgres test runs anywhere Debian's ``postgresql`` package is
installed (``.ci/run`` installs it when missing); the server lives exactly as long as the tests
that use it, and a failure to start is reported by the test with the server's own log.

Binaries: ``ROTATION_POSTGRES_BIN`` (a folder holding ``initdb`` and ``pg_ctl``), else ``initdb``
on PATH, else the newest ``/usr/lib/postgresql/<version>/bin`` (Debian keeps them off PATH).
PostgreSQL refuses to run as root: as root, initdb and the server run as the ``postgres`` user
the package creates (else ``nobody``), and the folder is handed to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BIN_ENV_VAR = "ROTATION_POSTGRES_BIN"
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# The superuser initdb creates; local connections are trusted, so it needs no password.
SUPERUSER = "rotation"
DATABASE = "rotation_dagster"
PORT = 5432  # only names the socket file: the server listens on no TCP address
# Users that may own the cluster when the tests run as root, in order of preference.
NON_ROOT_USERS = ("postgres", "nobody")


class ClusterUnavailable(RuntimeError):
    """No throwaway server could be started here; the message says why."""


def find_binaries() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``; ClusterUnavailable names where it looked."""
    configured = os.environ.get(BIN_ENV_VAR)
    candidates: list[Path] = []
    if configured:
        candidates.append(Path(configured))
    else:
        on_path = shutil.which("initdb")
        if on_path:
            # A symlink on PATH (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb) is
            # followed, so that pg_ctl and the server come from the same version.
            candidates.append(Path(on_path).resolve().parent)
        debian = [Path(p) for p in glob.glob(DEBIAN_BIN_GLOB) if _version(Path(p)) is not None]
        candidates += sorted(debian, key=_version, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise ClusterUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found "
        f"({BIN_ENV_VAR}, PATH, {DEBIAN_BIN_GLOB}): install Debian's postgresql package "
        "(apt-get install -y postgresql), or point ROTATION_TEST_POSTGRES_URL at a database"
    )


def _version(folder: Path) -> int | None:
    """The major version in a Debian path (/usr/lib/postgresql/15/bin -> 15)."""
    name = folder.parent.name
    return int(name) if name.isdigit() else None


def _owner() -> pwd.struct_passwd | None:
    """The user the cluster runs as: None (this process's user) unless this process is root."""
    if os.geteuid() != 0:
        return None
    for name in NON_ROOT_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ClusterUnavailable(
        f"running as root and none of the users {', '.join(NON_ROOT_USERS)} exists to own the "
        "cluster (PostgreSQL refuses to run as root)"
    )


@dataclass
class ThrowawayCluster:
    """A running server; ``url`` is the URL of its database over the unix socket, as
    ROTATION_DAGSTER_POSTGRES_URL takes it."""

    folder: Path
    binaries: Path
    owner: pwd.struct_passwd | None

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{SUPERUSER}@/{DATABASE}?host={self.folder}&port={PORT}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        """Run a server binary as the cluster's owner; ClusterUnavailable with its output if
        it fails."""
        owner = self.owner
        done = subprocess.run(
            [str(self.binaries / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.folder,
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            extra_groups=[] if owner else None,
            env={**os.environ, "LC_ALL": "C", "HOME": str(self.folder)},
            timeout=120,
        )
        if done.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise ClusterUnavailable(
                f"{' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}{log}"
            )
        return done

    def start(self) -> None:
        """initdb, start the server (waiting until it accepts connections), create the database."""
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",  # a throwaway cluster: no fsync at initdb
        )
        options = (
            f"-k {self.folder} -c listen_addresses='' -p {PORT} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "start",
        )
        self._run("createdb", "-h", str(self.folder), "-p", str(PORT), "-U", SUPERUSER, DATABASE)

    def stop(self) -> None:
        """Stop the server (fast: open connections are closed) and remove the folder."""
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_throwaway_cluster() -> ThrowawayCluster:
    """A new cluster under a new folder in the system's temporary folder, running; stop() it.

    The folder is not under pytest's tmp_path: that is private to the user running the tests
    (mode 0700 on its parents), and the server may run as another user."""
    binaries = find_binaries()
    owner = _owner()
    # Short, because a unix socket's path is limited to about 100 bytes. As root, in /tmp
    # itself: a TMPDIR of root's own may not be open to the cluster's user.
    parent = "/tmp" if owner is not None and os.path.isdir("/tmp") else None
    folder = Path(tempfile.mkdtemp(prefix="rotation-pg-", dir=parent))
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    cluster = ThrowawayCluster(folder=folder, binaries=binaries, owner=owner)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
