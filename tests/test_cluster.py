"""Cluster batches: ``--scheduler local:N`` / ``tcp://...`` / ``$IMGFILTER_SCHEDULER``.

Every cluster run is compared with a ``--jobs 1`` run of the same command
on the same files: byte-identical outputs, the same stderr lines and exit
status. The CLI always runs in a real process (``python -m imgfilter``) in
its own session, so a hang fails the test (the whole process group,
cluster workers included, is killed) instead of the suite.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

from clitools import snapshot, stderr_lines, tree  # noqa: E402
from PIL import Image  # noqa: E402

import imgfilter  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
TIMEOUT = 120  # seconds for a run that normally takes a few
CHAIN = ["gaussian", "--sigma", "1.5", "+", "sobel"]
BAD = "zz_truncated.png"


# ----------------------------------------------------------------- helpers


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without a scheduler of its own (the reference runs must not use one)."""
    env = {k: v for k, v in os.environ.items() if k not in ("IMGFILTER_SCHEDULER", "IMGFILTER_THREADS")}
    env.update(extra)
    return env


def is_worker(proc) -> bool:
    """A dask.distributed worker process (started by a nanny through multiprocessing spawn)."""
    try:
        return any("spawn_main" in part for part in proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def workers_of(pid: int) -> list:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True) if is_worker(p)]
    except psutil.NoSuchProcess:
        return []


class Run:
    """``python -m imgfilter ARGS`` in its own session; ``wait`` kills the group on a timeout."""

    def __init__(self, *args, env=None, cwd=None, log: Path):
        self.log = log
        self._err = open(log, "wb")  # a file, not a pipe: a chatty run cannot block
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "imgfilter", *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._err,
            env=clean_env() if env is None else env,
            cwd=cwd,
            start_new_session=True,
        )
        self.seen: dict[int, object] = {}  # every worker process seen while it ran

    def watch(self) -> None:
        for p in workers_of(self.proc.pid):
            self.seen.setdefault(p.pid, p)

    def wait(self, timeout: float = TIMEOUT, what: str = "imgfilter") -> subprocess.CompletedProcess:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"{what} did not finish in {timeout} s; stderr: {self.stderr()[-2000:]}")
            self.watch()
            time.sleep(0.05)
        self.elapsed = time.perf_counter() - self.started
        self._err.close()
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, b"", self.stderr())

    def kill(self) -> None:
        """Kill the run if it is still going, with every worker it started (no-op once it ended)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            for p in self.seen.values():
                try:
                    p.kill()
                except psutil.NoSuchProcess:
                    pass
        self._err.close()

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")


def run(
    *args, env=None, cwd=None, log: Path, timeout: float = TIMEOUT
) -> tuple[subprocess.CompletedProcess, Run]:
    r = Run(*args, env=env, cwd=cwd, log=log)
    try:
        return r.wait(timeout), r
    finally:
        r.kill()


def hidden_anywhere(folder: Path) -> list[str]:
    """Hidden files and folders at any depth (temporary outputs of killed workers)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*"))


def assert_same_outputs(got: Path, want: Path) -> None:
    assert tree(got) == tree(want)
    for name in tree(want):
        assert (got / name).read_bytes() == (want / name).read_bytes(), f"{name} differs from --jobs 1"
    assert hidden_anywhere(got) == [], "temporary files left behind"


def crop(name: str, box=(0, 0, 64, 48)) -> Image.Image:
    with Image.open(SAMPLES / name) as im:
        out = im.crop(box)
        out.load()
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """Small images of mixed formats and depths (one in a sub-folder), and one truncated PNG."""
    folder = tmp_path_factory.mktemp("cluster_batch") / "in"
    (folder / "sub").mkdir(parents=True)
    crop("astronaut.png").save(folder / "a_rgb.png")
    crop("rocket.jpg", (100, 50, 180, 110)).save(folder / "b_photo.jpg", quality=90)
    crop("coffee.png", (200, 100, 270, 160)).save(folder / "c_coffee.tif")
    crop("camera.png", (100, 100, 157, 149)).save(folder / "d_grey.bmp")
    crop("chelsea.png", (50, 50, 110, 95)).save(folder / "e_cat.ppm")
    grey = np.asarray(crop("camera.png", (200, 200, 250, 240)).convert("L"))
    np.save(folder / "f_float.npy", grey.astype(np.float32) / 255)
    imgfilter.imwrite(folder / "g_16bit.png", grey.astype(np.uint16) * 257 + 3)
    rgb = np.asarray(crop("astronaut.png", (300, 300, 364, 348)).convert("RGB"))
    alpha = (np.arange(rgb.shape[0] * rgb.shape[1]) % 256).reshape(rgb.shape[:2]).astype(np.uint8)
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(folder / "h_rgba.png")
    crop("chelsea.png", (0, 0, 33, 47)).save(folder / "sub" / "i_nested.png")
    good = (folder / "a_rgb.png").read_bytes()
    (folder / BAD).write_bytes(good[: len(good) // 2])  # a truncated PNG
    return folder


N_GOOD = 9  # images in ``batch`` that decode


@pytest.fixture(scope="module")
def reference(batch, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The ``--jobs 1`` run of CHAIN over ``batch``."""
    folder = tmp_path_factory.mktemp("cluster_reference")
    proc, _ = run(*CHAIN, batch, "-r", "-o", folder / "out", "--jobs", "1", log=folder / "err.log")
    assert proc.returncode == 1, proc.stderr
    out = stderr_lines(proc.stderr)
    assert out[-1] == f"{N_GOOD} written, 0 skipped, 1 failed", proc.stderr
    assert len(out) == 2 and out[0].startswith("imgfilter: ") and BAD in out[0], proc.stderr
    assert len(tree(folder / "out")) == N_GOOD
    return folder / "out", proc


# ----------------------------------------------------------------- local clusters


def test_local_cluster_batch_equals_jobs_1(tmp_path, batch, reference):
    want, ref = reference
    proc, r = run(*CHAIN, batch, "-r", "-o", tmp_path / "out", "--scheduler", "local:2", log=tmp_path / "e")
    assert len(r.seen) >= 2, "no dask worker processes were started"
    assert proc.returncode == ref.returncode == 1, proc.stderr
    got = stderr_lines(proc.stderr)
    assert got == stderr_lines(ref.stderr), proc.stderr
    assert len([line for line in got if BAD in line]) == 1
    assert_same_outputs(tmp_path / "out", want)


def test_skip_existing_with_scheduler_as_with_jobs(tmp_path, batch, reference):
    want, _ = reference
    names = tree(want)
    kept = [names[0], names[-1]]
    old = 1_000_000_000_000_000_000
    results = {}
    for label, opts in (("jobs", ["--jobs", "1"]), ("cluster", ["--scheduler", "local:2"])):
        out = tmp_path / label
        for name in kept:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(b"keep me " + name.encode())
            os.utime(out / name, ns=(old, old))
        before = snapshot(out)
        proc, _ = run(*CHAIN, batch, "-r", "-o", out, "--skip-existing", *opts, log=tmp_path / f"{label}.log")
        after = snapshot(out)
        for name in kept:
            assert after[name] == before[name], f"{label}: {name} was not left alone"
        for name in set(names) - set(kept):
            assert after[name][0] == (want / name).read_bytes(), f"{label}: {name}"
        assert hidden_anywhere(out) == []
        results[label] = (proc.returncode, stderr_lines(proc.stderr), tree(out))
    assert results["cluster"] == results["jobs"]
    rc, err, _ = results["cluster"]
    assert rc == 1 and err[-1] == f"{N_GOOD - 2} written, 2 skipped, 1 failed"


def test_scheduler_from_environment(tmp_path, batch, reference):
    want, ref = reference
    # The variable is read: a bad value in it is refused as --scheduler would be.
    proc, _ = run(
        *CHAIN,
        batch,
        "-r",
        "-o",
        tmp_path / "x",
        env=clean_env(IMGFILTER_SCHEDULER="local:0"),
        log=tmp_path / "a",
    )
    assert proc.returncode == 2 and "local:0" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    # A good value runs the batch on a local cluster.
    env = clean_env(IMGFILTER_SCHEDULER="local:2")
    proc, r = run(*CHAIN, batch, "-r", "-o", tmp_path / "out", env=env, log=tmp_path / "b")
    assert len(r.seen) >= 2, "IMGFILTER_SCHEDULER=local:2 started no dask worker processes"
    assert proc.returncode == ref.returncode and stderr_lines(proc.stderr) == stderr_lines(ref.stderr), (
        proc.stderr
    )
    assert_same_outputs(tmp_path / "out", want)


def test_local_cluster_quiet_when_default_dashboard_port_is_taken(tmp_path, batch, reference):
    """Port 8787 taken (a notebook's Dask dashboard, another cluster): stderr stays that of --jobs.

    A local cluster is private to one command; its scheduler's HTTP server
    has no reason to want the default port, nor to warn when it is busy.
    """
    want, ref = reference
    holder = socket.socket()
    try:
        holder.bind(("", 8787))
        holder.listen()
    except OSError:
        pass  # already taken by something else: the same situation
    try:
        proc, _ = run(
            *CHAIN, batch, "-r", "-o", tmp_path / "out", "--scheduler", "local:2", log=tmp_path / "e"
        )
    finally:
        holder.close()
    assert proc.returncode == ref.returncode
    assert stderr_lines(proc.stderr) == stderr_lines(ref.stderr), proc.stderr
    assert_same_outputs(tmp_path / "out", want)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("local:0", 10),
        ("local:-3", 10),
        ("local:two", 10),
        ("not-an-address", 10),
        # Nothing listens there: distributed retries until the 15 s connect timeout.
        ("tcp://127.0.0.1:1", 15 + 10),
    ],
)
def test_bad_scheduler_is_one_line_usage_error(tmp_path, batch, value, seconds):
    proc, r = run(*CHAIN, batch, "-r", "-o", tmp_path / "out", "--scheduler", value, log=tmp_path / "e")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    errors = [line for line in stderr_lines(proc.stderr) if ": error: " in line]
    assert len(errors) == 1 and f"--scheduler {value}" in errors[0], proc.stderr
    assert not any(line.startswith("imgfilter: ") for line in stderr_lines(proc.stderr))
    assert r.elapsed < seconds, f"--scheduler {value}: the usage error took {r.elapsed:.1f} s"
    assert not (tmp_path / "out").exists() or tree(tmp_path / "out") == []
    assert r.seen == {}


# ----------------------------------------------------------------- a running scheduler


@pytest.fixture(scope="module")
def running_scheduler():
    """A scheduler with one worker process, started here as a user would start one."""
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address="127.0.0.1:0",  # its HTTP server must not take the default port 8787
        silence_logs=logging.ERROR,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_running_scheduler_equals_jobs_1(tmp_path, batch, reference, running_scheduler):
    want, ref = reference
    assert running_scheduler.startswith("tcp://")
    proc, _ = run(
        *CHAIN, batch, "-r", "-o", tmp_path / "out", "--scheduler", running_scheduler, log=tmp_path / "e"
    )
    assert proc.returncode == ref.returncode, proc.stderr
    assert stderr_lines(proc.stderr) == stderr_lines(ref.stderr)
    assert_same_outputs(tmp_path / "out", want)


def test_running_scheduler_with_relative_paths(tmp_path, batch, reference, running_scheduler):
    """Paths relative to the command's folder mean the same files on the cluster's workers.

    The workers run elsewhere (here: in another current folder); the command
    knows where INPUT and --out-dir are, the workers do not.
    """
    want, ref = reference
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(batch, work / "photos", target_is_directory=True)
    assert Path.cwd().resolve() != work.resolve()  # the workers' current folder is another one
    proc, _ = run(
        *CHAIN, "photos", "-r", "-o", "edges", "--scheduler", running_scheduler, cwd=work, log=tmp_path / "e"
    )
    assert proc.returncode == ref.returncode, proc.stderr
    assert stderr_lines(proc.stderr) == [
        line.replace(str(batch), "photos") for line in stderr_lines(ref.stderr)
    ], proc.stderr
    assert_same_outputs(work / "edges", want)
    assert not (Path.cwd() / "edges").exists()


# ----------------------------------------------------------------- a worker killed mid-batch


def open_temp_files(worker, folder: Path) -> list[str]:
    """Hidden temporary outputs (``.name.*.tmp``) in ``folder`` that ``worker`` holds open."""
    try:
        files = worker.open_files()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []
    return [
        f.path
        for f in files
        if os.path.dirname(f.path) == str(folder)
        and os.path.basename(f.path).startswith(".")
        and f.path.endswith(".tmp")
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker's open files in /proc")
def test_worker_killed_mid_write_costs_no_file(tmp_path):
    """SIGKILL a worker while it writes an output: the batch still completes, whole and clean.

    The worker is caught holding its hidden temporary output open, stopped
    (SIGSTOP) so it cannot finish that file, checked again, then killed: it
    leaves a partial temporary file, and its task runs again elsewhere.
    """
    src, ref_in = tmp_path / "in", tmp_path / "ref_in"
    src.mkdir()
    ref_in.mkdir()
    variants = ["astronaut.png", "chelsea.png", "coffee.png", "camera.png", "rocket.jpg"]
    for k, name in enumerate(variants):
        with Image.open(SAMPLES / name) as im:
            big = im.convert("RGB").resize((1024, 1024))
        big.save(ref_in / f"v{k}.png", compress_level=1)
        for i in range(6):
            (src / f"img_{i}{k}.png").write_bytes((ref_in / f"v{k}.png").read_bytes())
    assert len(list(src.iterdir())) == 30
    cmd = ["median", "--size", "9"]
    ref, _ = run(*cmd, ref_in, "-o", tmp_path / "ref", "--jobs", "1", log=tmp_path / "ref.log")
    assert ref.returncode == 0, ref.stderr

    out = tmp_path / "out"
    r = Run(*cmd, src, "-o", out, "--scheduler", "local:2", log=tmp_path / "run.log")
    try:
        deadline = time.monotonic() + 60
        while not (out.is_dir() and any(not n.startswith(".") for n in os.listdir(out))):
            assert r.proc.poll() is None, f"the batch ended before its first output: {r.stderr()}"
            assert time.monotonic() < deadline, "no output after 60 s"
            r.watch()
            time.sleep(0.02)
        orphan = None
        deadline = time.monotonic() + 30
        while orphan is None:
            assert r.proc.poll() is None, "the batch ended before a worker could be caught writing"
            assert time.monotonic() < deadline, "no worker caught writing an output within 30 s"
            r.watch()
            for worker in workers_of(r.proc.pid):
                if not open_temp_files(worker, out):
                    continue
                worker.send_signal(signal.SIGSTOP)
                held = open_temp_files(worker, out)
                if held:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait(10)
                    orphan = Path(held[0])
                    break
                worker.send_signal(signal.SIGCONT)  # it finished that file meanwhile: try again
            time.sleep(0.005)
        assert orphan.exists(), "the killed worker's partial file should exist until the batch sweeps it"
        done = r.wait(TIMEOUT, "the batch with a killed worker")
    finally:
        r.kill()

    assert done.returncode == 0, done.stderr
    assert stderr_lines(done.stderr) == ["30 written, 0 skipped, 0 failed"], done.stderr
    assert len(r.seen) >= 3, "the killed worker was not replaced"  # 2 workers + the restarted one
    assert not orphan.exists()
    assert sorted(os.listdir(out)) == sorted(os.listdir(src)), "missing outputs or temporary files left"
    for name in sorted(os.listdir(src)):
        k = int(name[-5])
        assert (out / name).read_bytes() == (tmp_path / "ref" / f"v{k}.png").read_bytes(), name
        assert imgfilter.imread(out / name).shape == (1024, 1024, 3)
    # The cluster went away with the command: no worker process outlives it.
    _, alive = psutil.wait_procs(list(r.seen.values()), timeout=15)
    for p in alive:
        p.kill()
    assert alive == [], f"worker processes left running: {[p.pid for p in alive]}"
