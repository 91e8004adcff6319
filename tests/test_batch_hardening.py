"""Batches that cannot lose a user's files: collisions, signals, dead workers, odd lists and folders.

Signals, forks and terminals go through real processes (``python -m
imgfilter`` in a session of its own, so a signal to its process group
reaches its workers as Ctrl-C in a shell does). Faults in worker processes
come from the test-only hook ``IMGFILTER_TEST_HOOK`` (see
``imgfilter.run.executors._test_hook``): ``die:NAME`` makes the worker SIGKILL itself
on that input, ``hang:NAME`` leaves a partial temporary file and sleeps.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from clitools import invoke, snapshot, stderr_lines, tree
from PIL import Image

from imgfilter.cli import main, run_options, split_io
from imgfilter.io.atomic import sweep_partial
from imgfilter.run import jobs
from imgfilter.run.progress import ProgressBar

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
TIMEOUT = 60
SUMMARY = re.compile(r"^(\d+) written, (\d+) skipped, (\d+) failed")


# ----------------------------------------------------------------- helpers


def crop(dest: Path, name: str = "astronaut.png", box=(0, 0, 48, 40), fmt: str | None = None) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(SAMPLES / name) as im:
        im.convert("RGB").crop(box).save(dest, format=fmt)
    return dest


def image_set(folder: Path, n: int) -> list[str]:
    names = [f"p{i:02d}.png" for i in range(n)]
    for i, name in enumerate(names):
        crop(folder / name, box=(i, i, 48 + i, 40 + i))
    return names


def start(*args, hook: str = "", **kw) -> subprocess.Popen:
    env = dict(os.environ, IMGFILTER_TEST_HOOK=hook)
    return subprocess.Popen(
        [sys.executable, "-m", "imgfilter", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=kw.pop("stderr", subprocess.PIPE),
        start_new_session=True,
        env=env,
        **kw,
    )


def finish(proc: subprocess.Popen, timeout: float = TIMEOUT) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return proc.returncode, (err or b"").decode(errors="replace")


def run(*args, hook: str = "") -> tuple[int, str]:
    return finish(start(*args, hook=hook))


def wait_for(condition, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def temporaries(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.tmp"))


def assert_whole_images(folder: Path) -> list[str]:
    """Every file in ``folder`` decodes completely; their names."""
    names = tree(folder)
    for name in names:
        with Image.open(folder / name) as im:
            im.load()
    return names


def summary(err: str) -> tuple[int, int, int]:
    match = SUMMARY.match(stderr_lines(err)[-1])
    assert match, err
    return tuple(int(g) for g in match.groups())  # type: ignore[return-value]


def usage_line(res, *needles: str) -> str:
    """The one stderr line naming every needle (a usage error, exit 2)."""
    assert res.exit_code == 2, res.output
    lines = [line for line in stderr_lines(res.stderr) if all(n in line for n in needles)]
    assert len(lines) == 1, res.stderr
    return lines[0]


# ----------------------------------------------------------------- collisions, found when planning


def test_two_inputs_of_one_name_are_refused_before_any_work(tmp_path):
    a, b = crop(tmp_path / "a" / "x.png"), crop(tmp_path / "b" / "x.png", "camera.png")
    out = tmp_path / "out"
    res = invoke("sobel", a, b, "-o", out, ok=False)
    usage_line(res, str(a), str(b), str(out / "x.png"))
    assert not out.exists()


def test_two_folders_holding_one_name_are_refused(tmp_path):
    crop(tmp_path / "a" / "x.png")
    crop(tmp_path / "a" / "only_a.png")
    crop(tmp_path / "b" / "x.png", "camera.png")
    out = tmp_path / "out"
    res = invoke("blur", tmp_path / "a", tmp_path / "b", "-o", out, ok=False)
    usage_line(res, str(tmp_path / "a" / "x.png"), str(tmp_path / "b" / "x.png"))
    assert not out.exists()


def test_recursive_folders_holding_one_relative_path_are_refused(tmp_path):
    crop(tmp_path / "a" / "sub" / "x.png")
    crop(tmp_path / "b" / "sub" / "x.png", "camera.png")
    res = invoke("blur", "-r", tmp_path / "a", tmp_path / "b", "-o", tmp_path / "out", ok=False)
    usage_line(res, "would both be written", str(tmp_path / "out" / "sub" / "x.png"))
    assert not (tmp_path / "out").exists()


def test_names_differing_by_extension_collide_under_format(tmp_path):
    crop(tmp_path / "in" / "y.png")
    crop(tmp_path / "in" / "y.jpg")
    res = invoke("blur", tmp_path / "in", "--format", "png", "-o", tmp_path / "out", ok=False)
    usage_line(res, "y.jpg", "y.png", str(tmp_path / "out" / "y.png"))
    assert not (tmp_path / "out").exists()
    # Without --format each keeps its extension: no collision.
    res = invoke("blur", tmp_path / "in", "-o", tmp_path / "out")
    assert tree(tmp_path / "out") == ["y.jpg", "y.png"]


def test_output_over_another_input_is_refused(tmp_path):
    """--in-place --suffix _e on x.png writes x_e.png, itself an input of the batch."""
    folder = tmp_path / "in"
    crop(folder / "x.png")
    crop(folder / "x_e.png", "camera.png")
    before = snapshot(folder)
    res = invoke("blur", "--in-place", "--suffix", "_e", folder / "x.png", folder / "x_e.png", ok=False)
    usage_line(res, str(folder / "x_e.png"), str(folder / "x.png"))
    assert snapshot(folder) == before


def test_in_place_format_change_over_another_input_is_refused(tmp_path):
    folder = tmp_path / "in"
    crop(folder / "y.png")
    crop(folder / "y.jpg")
    before = snapshot(folder)
    res = invoke("blur", "--in-place", "--format", "png", folder, ok=False)
    assert res.exit_code == 2
    assert snapshot(folder) == before


def test_one_file_given_twice_is_one_job(tmp_path):
    folder = tmp_path / "in"
    names = image_set(folder, 3)
    res = invoke("blur", folder, folder / names[0], "-o", tmp_path / "out")
    assert stderr_lines(res.stderr) == ["3 written, 0 skipped, 0 failed"]
    assert tree(tmp_path / "out") == names


def test_missing_inputs_are_failures_not_collisions(tmp_path):
    real = crop(tmp_path / "a" / "x.png")
    res = invoke("blur", real, tmp_path / "b" / "x.png", "-o", tmp_path / "out", ok=False)
    assert res.exit_code == 1
    assert stderr_lines(res.stderr)[-1] == "1 written, 0 skipped, 1 failed"


# ----------------------------------------------------------------- a single file over its own input


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink"])
def test_single_output_equal_to_its_input_is_refused(tmp_path, spelling):
    src = crop(tmp_path / "x.png")
    dst = {
        "same": str(src),
        "dot": str(tmp_path / "." / "x.png"),
        "symlink": str(tmp_path / "link.png"),
        "hardlink": str(tmp_path / "hard.png"),
    }[spelling]
    if spelling == "symlink":
        os.symlink(src, dst)
    elif spelling == "hardlink":
        os.link(src, dst)
    before = snapshot(tmp_path)
    res = invoke("blur", src, dst, ok=False)
    usage_line(res, "--in-place")
    assert snapshot(tmp_path) == before
    assert os.path.islink(dst) == (spelling == "symlink")


def test_single_file_in_place_replaces_it(tmp_path):
    src = crop(tmp_path / "x.png")
    before = src.read_bytes()
    res = invoke("blur", "--in-place", src, src)
    assert stderr_lines(res.stderr) == ["1 written, 0 skipped, 0 failed"]
    assert src.read_bytes() != before
    assert tree(tmp_path) == ["x.png"]


# ----------------------------------------------------------------- stop signals


def test_stop_signal_during_jobs_stops_cleanly_and_resumes_exactly(tmp_path):
    """One SIGINT to the process group: exit 130, the summary so far, no partial or temporary file.

    p00.png never finishes (its worker holds a partial temporary file),
    so the batch is surely in flight when the signal comes.
    """
    names = image_set(tmp_path / "in", 10)
    out = tmp_path / "out"
    proc = start("median", tmp_path / "in", "-o", out, "--jobs", "2", hook="hang:p00.png")
    wait_for(lambda: out.is_dir() and any(not n.startswith(".") for n in os.listdir(out)), "an output")
    wait_for(lambda: bool(temporaries(out)), "the partial file of p00.png")
    os.killpg(proc.pid, signal.SIGINT)
    code, err = finish(proc)
    assert code == 130, err
    assert "Traceback" not in err and "Aborted" not in err
    assert re.fullmatch(
        r"\d+ written, 0 skipped, 0 failed, \d+ not done \(stopped by SIGINT\)", stderr_lines(err)[-1]
    )
    written = summary(err)[0]
    assert temporaries(out) == []
    done = assert_whole_images(out)
    assert len(done) == written and "p00.png" not in done
    code, err = run("median", tmp_path / "in", "-o", out, "--jobs", "2", "--skip-existing")
    assert code == 0, err
    assert stderr_lines(err) == [f"{len(names) - written} written, {written} skipped, 0 failed"]
    assert assert_whole_images(out) == names
    assert temporaries(out) == []


def test_ctrl_c_inside_a_callback_python_cannot_raise_from_stops_the_command_quietly():
    # CI saw Ctrl-C land in the import lock's weakref callback: Python printed
    # "Exception ignored ... KeyboardInterrupt" with a traceback and went on.
    # The command's hook raises it again in the main thread instead.
    script = textwrap.dedent(
        """
        import sys, weakref
        import imgfilter.__main__ as command
        sys.unraisablehook = command._interrupts_reach_the_command
        class Thing:
            pass
        def callback(ref):
            raise KeyboardInterrupt
        thing = Thing()
        ref = weakref.ref(thing, callback)
        try:
            del thing
            for _ in range(10**7):
                pass
            print("went on")
        except KeyboardInterrupt:
            print("stopped")
        def other(ref):
            raise ValueError("reported as Python does")
        thing = Thing()
        ref = weakref.ref(thing, other)
        del thing
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["stopped"], done
    assert "KeyboardInterrupt" not in done.stderr, done.stderr
    assert "ValueError: reported as Python does" in done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/maps")
@pytest.mark.parametrize("extra", [0.0, 0.02, 0.05, 0.1, 0.2, 0.4])
def test_ctrl_c_at_any_moment_of_one_file_is_130_and_no_traceback(tmp_path, extra):
    """Ctrl-C while the command still imports, parses, reads or filters: 130, quiet, nothing left.

    The signal goes once the process has begun importing numpy (its maps
    show the module), i.e. once imgfilter's own code runs, plus ``extra``.
    """
    src = tmp_path / "in.png"
    photo = Path(__file__).resolve().parents[1] / "sample_images" / "coffee.png"
    Image.open(photo).resize((1600, 1200)).save(src, compress_level=1)
    out = tmp_path / "out.png"
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgfilter", "gaussian", "--sigma", "4", str(src), str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )

    def importing_numpy() -> bool:
        try:
            with open(f"/proc/{proc.pid}/maps") as fh:
                return "_multiarray_umath" in fh.read()
        except OSError:
            return proc.poll() is not None

    deadline = time.monotonic() + TIMEOUT
    while not importing_numpy():
        assert time.monotonic() < deadline, "numpy's import never began"
        time.sleep(0.002)
    time.sleep(extra)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "Aborted" not in err, err
    # 130, or death by the signal itself (the shell's $? is 130 for both): during the
    # interpreter's exit, after the file was written, Python re-raises SIGINT on itself.
    assert proc.returncode in (0, 130, -signal.SIGINT), err
    if out.exists():  # it was written first: whole
        with Image.open(out) as im:
            im.load()
            assert im.size == (1600, 1200)
    else:
        assert proc.returncode != 0
    assert sorted(tree(tmp_path)) in (["in.png"], ["in.png", "out.png"])


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_term_and_hup_stop_like_ctrl_c(tmp_path, sig, code):
    image_set(tmp_path / "in", 4)
    out = tmp_path / "out"
    proc = start("blur", tmp_path / "in", "-o", out, "--jobs", "2", hook="hang:p0[01].png")
    wait_for(lambda: len(temporaries(out)) == 2 if out.is_dir() else False, "two partial files")
    os.killpg(proc.pid, sig)
    got, err = finish(proc)
    assert got == code, err
    assert stderr_lines(err) == [f"0 written, 0 skipped, 0 failed, 4 not done (stopped by {sig.name})"]
    assert os.listdir(out) == []


SEQUENTIAL = textwrap.dedent(
    """
    import os, signal, sys
    from imgfilter.cli import main, run_options, split_io
    from imgfilter.run.batch import run
    from imgfilter.run.options import Step

    calls = []

    def step(pixels, alpha):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # arrives while this file is being filtered
        return pixels, alpha

    ctx = main.commands["blur"].make_context("blur", sys.argv[1:])
    io_kw, _ = split_io(dict(ctx.params))
    sys.exit(run([Step("self-signal", step)], run_options(io_kw)))
    """
)


def test_stop_signal_without_jobs_stops_at_once(tmp_path):
    image_set(tmp_path / "in", 6)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", SEQUENTIAL, str(tmp_path / "in"), "-o", str(out)],
        capture_output=True,
        timeout=TIMEOUT,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 130, err
    assert stderr_lines(err) == ["2 written, 0 skipped, 0 failed, 4 not done (stopped by SIGINT)"]
    assert assert_whole_images(out) == ["p00.png", "p01.png"]
    assert temporaries(out) == []


# ----------------------------------------------------------------- dead workers, dead parents


def test_dead_worker_costs_only_its_file(tmp_path):
    names = image_set(tmp_path / "in", 7)
    out = tmp_path / "out"
    code, err = run("blur", tmp_path / "in", "-o", out, "--jobs", "2", hook="die:p0[25].png")
    assert code == 1, err
    lines = stderr_lines(err)
    assert "Traceback" not in err and "BrokenProcessPool" not in err
    assert lines[-1] == "5 written, 0 skipped, 2 failed"
    failures = sorted(lines[:-1])
    assert len(failures) == 2
    for line, name in zip(failures, ["p02.png", "p05.png"], strict=True):
        assert name in line and "worker process was killed by SIGKILL" in line
    assert assert_whole_images(out) == [n for n in names if n not in ("p02.png", "p05.png")]
    assert temporaries(out) == []


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie has exited


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_workers_end_when_their_parent_is_killed(tmp_path):
    image_set(tmp_path / "in", 4)
    proc = start("blur", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "2", hook="hang:*")
    try:
        wait_for(lambda: len(temporaries(tmp_path)) == 2, "two workers writing")
        workers = _children(proc.pid)
        assert len(workers) == 2
        proc.kill()
        proc.wait(timeout=TIMEOUT)
        wait_for(lambda: not any(_running(w) for w in workers), "the workers to end", timeout=10)
    finally:
        for pid in _children(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.communicate()


# ----------------------------------------------------------------- output folders


def test_out_dir_below_a_file_is_one_line(tmp_path):
    src = crop(tmp_path / "x.png")
    (tmp_path / "f").write_text("a file")
    res = invoke("blur", src, "-o", tmp_path / "f" / "out", ok=False)
    assert res.exit_code == 1
    assert stderr_lines(res.stderr) == [
        f"imgfilter: --out-dir {tmp_path / 'f' / 'out'}: cannot create it ({tmp_path / 'f'} is a file, not a folder)"
    ]


def test_read_only_out_dir_is_one_line(tmp_path):
    src = crop(tmp_path / "x.png")
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        for out in (ro, ro / "sub"):
            res = invoke("blur", src, "-o", out, ok=False)
            assert res.exit_code == 1
            lines = stderr_lines(res.stderr)
            assert len(lines) == 1 and lines[0].startswith(f"imgfilter: --out-dir {out}: "), lines
    finally:
        subprocess.run(["umount", str(ro)], check=True)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_output_folder_that_cannot_be_made_costs_only_its_files(tmp_path, jobs):
    root = tmp_path / "in"
    crop(root / "top.png")
    crop(root / "sub" / "a.png")
    crop(root / "sub" / "b.png")
    crop(root / "other" / "c.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where the folder would go")
    code, err = run("blur", "-r", root, "-o", out, "--jobs", jobs)
    assert code == 1, err
    lines = stderr_lines(err)
    assert lines[-1] == "2 written, 0 skipped, 2 failed"
    assert sorted(lines[:-1]) == [
        f"imgfilter: {root / 'sub' / n}: cannot create the output folder {out / 'sub'} "
        f"({out / 'sub'} is a file, not a folder)"
        for n in ("a.png", "b.png")
    ]
    assert tree(out) == ["other/c.png", "sub", "top.png"]


# ----------------------------------------------------------------- --files-from


def test_files_from_takes_names_as_they_are(tmp_path, monkeypatch):
    """Bytes that are not UTF-8, leading and trailing spaces: only the line ends (LF, CR LF) go."""
    folder = tmp_path / "in"
    names = [b"caf\xe9.png", b" lead.png", b"trail.png ", b"plain.png"]
    for name in names:
        crop(Path(os.fsdecode(os.path.join(os.fsencode(folder), name))), fmt="PNG")
    (tmp_path / "list.txt").write_bytes(b"\r\n".join(names) + b"\n")
    monkeypatch.chdir(folder)
    out = tmp_path / "out"
    res = invoke("blur", "--files-from", tmp_path / "list.txt", "-o", out, "--format", "png")
    assert stderr_lines(res.stderr) == ["4 written, 0 skipped, 0 failed"]
    assert sorted(os.listdir(os.fsencode(out))) == sorted(
        [b"caf\xe9.png", b" lead.png", b"trail.png", b"plain.png"]
    )


def test_files_from_null_separated_from_find(tmp_path):
    folder = tmp_path / "in"
    crop(folder / "new\nline.png")
    crop(folder / "b.png")
    found = subprocess.run(
        ["find", str(folder), "-name", "*.png", "-print0"], capture_output=True, check=True
    )
    out = tmp_path / "out"
    res = invoke("blur", "--files-from", "-", "-0", "-o", out, input=found.stdout)
    assert stderr_lines(res.stderr) == ["2 written, 0 skipped, 0 failed"]
    assert tree(out) == ["b.png", "new\nline.png"]
    res = invoke("blur", "--null", folder / "b.png", "-o", out, ok=False)
    usage_line(res, "--files-from")


# ----------------------------------------------------------------- folder scans


def test_folder_lists_formats_it_cannot_write_back(tmp_path):
    folder = tmp_path / "in"
    crop(folder / "a.png")
    with Image.open(folder / "a.png") as im:
        im.save(folder / "b.tga")
    (folder / "notes.txt").write_text("not an image")
    res = invoke("blur", folder, "-o", tmp_path / "out")
    lines = stderr_lines(res.stderr)
    assert lines[-1] == "1 written, 1 skipped, 0 failed"
    assert len(lines) == 2 and str(folder / "b.tga") in lines[0] and "--format" in lines[0]
    assert tree(tmp_path / "out") == ["a.png"]
    assert invoke("blur", "-q", folder, "-o", tmp_path / "quiet").stderr == ""


def test_folder_with_format_converts_what_it_cannot_write_back(tmp_path):
    folder = tmp_path / "in"
    crop(folder / "a.png")
    with Image.open(folder / "a.png") as im:
        im.save(folder / "b.tga")
    ctx = main.commands["blur"].make_context("blur", [str(folder), "-o", "out", "--format", "png"])
    options = run_options(split_io(dict(ctx.params))[0])
    plan = jobs.plan_run(options.inputs, options.write.fmt)
    assert [(j.src, j.dst) for j in plan.jobs] == [
        (str(folder / "a.png"), os.path.join("out", "a.png")),
        (str(folder / "b.tga"), os.path.join("out", "b.png")),
    ]
    assert plan.skipped == []
    res = invoke("blur", folder, "-o", tmp_path / "out", "--format", "png", ok=False)
    written, skipped, failed = summary(res.stderr)
    assert (written + failed, skipped) == (2, 0)  # b.tga converted, or refused on a line of its own
    assert_whole_images(tmp_path / "out")


def test_folder_with_only_sub_folders_says_so(tmp_path):
    crop(tmp_path / "in" / "sub" / "a.png")
    res = invoke("blur", tmp_path / "in", "-o", tmp_path / "out")
    lines = stderr_lines(res.stderr)
    assert lines[-1] == "0 written, 0 skipped, 0 failed"
    assert len(lines) == 2 and str(tmp_path / "in") in lines[0] and "-r" in lines[0]
    res = invoke("blur", "-r", tmp_path / "in", "-o", tmp_path / "out")
    assert stderr_lines(res.stderr) == ["1 written, 0 skipped, 0 failed"]


# ----------------------------------------------------------------- progress bar


def screen_lines(raw: str) -> list[str]:
    """What a terminal shows: CR returns, ESC[K clears to the end, other escapes are ignored."""
    shown, line, col = [], [], 0
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\x1b":
            m = re.match(r"\x1b\[[0-9;?]*([A-Za-z])", raw[i:])
            assert m, repr(raw[i : i + 8])
            if m.group(1) == "K":
                del line[col:]
            i += m.end()
            continue
        if ch == "\n":
            shown.append("".join(line))
            line, col = [], 0
        elif ch == "\r":
            col = 0
        else:
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
        i += 1
    if line:
        shown.append("".join(line))
    return shown


def test_progress_bar_never_shares_a_line_with_a_message():
    buf = io.StringIO()
    bar = ProgressBar(3, buf)
    bar.start()
    bar.update()
    bar.echo("imgfilter: x.png: cannot read")
    bar.update()
    bar.update()
    bar.finish()
    buf.write("3 written, 0 skipped, 0 failed\n")
    lines = screen_lines(buf.getvalue())
    assert lines[0] == "imgfilter: x.png: cannot read"
    assert lines[1].startswith("imgfilter  [") and lines[1].endswith("3/3")
    assert lines[2] == "3 written, 0 skipped, 0 failed"


def test_progress_bar_on_a_terminal_keeps_errors_on_their_own_lines(tmp_path):
    import pty
    import select

    names = image_set(tmp_path / "in", 4)
    (tmp_path / "in" / "p01_bad.png").write_bytes(b"not a png")
    master, slave = pty.openpty()
    proc = start("blur", tmp_path / "in", "-o", tmp_path / "out", stderr=slave)
    os.close(slave)
    raw = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], TIMEOUT)
            if not ready:
                pytest.fail("no output from the terminal")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            raw += chunk
    finally:
        os.close(master)
        finish(proc)
    assert proc.returncode == 1
    lines = screen_lines(raw.decode().replace("\r\n", "\n"))
    errors = [line for line in lines if "p01_bad.png" in line]
    assert len(errors) == 1 and errors[0].startswith("imgfilter: "), lines
    assert "imgfilter  [" not in errors[0]
    assert lines[-1] == f"{len(names)} written, 0 skipped, 1 failed"
    assert lines[-2].startswith("imgfilter  [") and lines[-2].endswith("5/5")


# ----------------------------------------------------------------- resuming


def test_skip_existing_never_counts_a_temporary_file(tmp_path):
    names = image_set(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".p00.png.abcd1234.tmp").write_bytes(b"\x89PNG partial")
    res = invoke("blur", tmp_path / "in", "-o", out, "--skip-existing")
    assert stderr_lines(res.stderr) == ["2 written, 0 skipped, 0 failed"]
    for name in names:
        with Image.open(out / name) as im:
            im.load()


def test_sweep_removes_only_temporary_names(tmp_path):
    for name in ["x.png", ".x.png.abcd_123.tmp", ".x.png.keep.tmp", ".y.png.abcd1234.tmp", "x.png.tmp"]:
        (tmp_path / name).write_bytes(b"1")
    (tmp_path / ".x.png.zz99zz99.tmp").mkdir()
    (tmp_path / ".x.png.zz99zz99.tmp" / "chunk").write_bytes(b"1")
    sweep_partial(str(tmp_path / "x.png"))
    assert sorted(os.listdir(tmp_path)) == [".x.png.keep.tmp", ".y.png.abcd1234.tmp", "x.png", "x.png.tmp"]
    assert (tmp_path / "x.png").read_bytes() == b"1"


@pytest.mark.parametrize("stop", ["raise KeyboardInterrupt", "raise SystemExit(130)"])
def test_a_stopped_command_does_not_wait_for_a_stray_thread(stop):
    """Exit 130 at once, whatever threads are left: a Ctrl-C landing while a pool
    starts a worker can orphan it (the pool never tells it to stop), and the
    interpreter's exit would wait for it forever. Here a thread nobody wakes
    stands in for it."""
    code = (
        "import sys, threading\n"
        "threading.Thread(target=threading.Event().wait).start()\n"
        "import imgfilter.cli\n"
        "def stopped(*a, **k):\n"
        f"    {stop}\n"
        "imgfilter.cli.main = stopped\n"
        "from imgfilter.__main__ import run\n"
        "run()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 130, res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("3", "3")])
def test_the_command_keeps_blas_to_one_thread_unless_told(given, seen):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    code = (
        "import atexit, os, sys\n"
        "atexit.register(lambda: print('blas', os.environ.get('OPENBLAS_NUM_THREADS')))\n"
        "sys.argv = ['imgfilter', '--version']\n"
        "from imgfilter.__main__ import run\n"
        "run()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == f"blas {seen}"
    # The library itself changes nothing.
    res = subprocess.run(
        [sys.executable, "-c", "import os, imgfilter, numpy; print(os.environ.get('OPENBLAS_NUM_THREADS'))"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.stdout.strip() == str(given)
