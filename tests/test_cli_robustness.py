"""The command under hostile conditions: stop signals at any moment, closed standard streams,
alpha a format cannot hold, output names at the file system's length limit.

Signals and closed descriptors go through real processes (``python -m
imgfilter``, or a small wrapper around ``imgfilter.__main__.run`` that sends
the signal from a chosen place of the run, so a race seen once in a hundred
runs happens every time).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke, stderr_lines
from PIL import Image

from imgfilter.io.atomic import staged, sweep_partial

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and descriptors")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_images"
CAM = SAMPLES / "camera.png"
# A stopped run ends within about a second (README); this leaves room for a loaded machine.
PROMPT = 8
STOPS = [(signal.SIGTERM, 143), (signal.SIGHUP, 129)]


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A 3840x2160 RGB PNG: a ``gaussian --sigma 3`` of it runs for most of a second."""
    path = tmp_path_factory.mktemp("big") / "big.png"
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 200, 3840, dtype=np.float32)[None, :, None]
    noise = rng.integers(0, 56, (2160, 3840, 3), dtype=np.uint8)
    Image.fromarray((ramp + noise).astype(np.uint8)).save(path, compress_level=1)
    return path


def old_output(path: Path) -> bytes:
    """An existing output that a stopped run must leave as it is."""
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path)
    return path.read_bytes()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def finish(proc: subprocess.Popen, timeout: float = PROMPT) -> tuple[int, str]:
    """Exit status and stderr; a process still running after ``timeout`` is a hang."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"still running {timeout} s after the signal: the command hung")
    return proc.returncode, (err or b"").decode(errors="replace")


def assert_quiet(err: str) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.strip() == "", err


# ----------------------------------------------------------------- signals at any moment


@pytest.mark.parametrize(("sig", "code"), STOPS)
def test_term_hup_at_any_moment_of_a_run_stop_it_and_write_nothing(tmp_path, big, sig, code):
    """One SIGTERM/SIGHUP while the command imports, reads or filters: 143/129, nothing written."""
    out = tmp_path / "out.png"
    before = old_output(out)
    for delay in (0.03, 0.08, 0.12, 0.16, 0.2, 0.3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "imgfilter", "gaussian", "--sigma", "3", str(big), str(out)],
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(sig)
        got, err = finish(proc)
        # Death by the signal itself (before Python's handlers exist) is 143/129 to a shell too.
        assert got in (code, -sig), (delay, got, err)
        assert_quiet(err)
        assert out.read_bytes() == before, delay
        assert leftovers(tmp_path) == [], delay


# Runs the command with one stop signal sent from a chosen place of the run: when
# the function named WHERE is called (its name; "<module>" is io/atomic.py's module
# code, "cb" the import lock's weakref callback) and the signal's handler is the
# command's (WHEN=loading) or the jobs' (WHEN=running). "sent" on stdout says it was.
# With STUCK=1, a thread that never ends waits on an empty queue, as a thread pool's
# worker does that a stop caught while the pool was starting it.
WRAPPER = textwrap.dedent(
    """
    import os, queue, signal, sys, threading

    SIG = getattr(signal, sys.argv[1])
    WHERE, WHEN, STUCK = sys.argv[2], sys.argv[3], sys.argv[4] == "1"

    def handler_is_ours():
        handler = signal.getsignal(SIG)
        jobs = type(getattr(handler, "__self__", None)).__name__ == "StopSignals"
        return callable(handler) and jobs == (WHEN == "running")

    def place(code):
        if code.co_name != WHERE:
            return False
        if WHERE == "<module>":
            return code.co_filename.endswith(os.path.join("io", "atomic.py"))
        if WHERE == "cb":
            return "importlib" in code.co_filename
        return True

    def tracer(frame, event, arg):
        if event == "call" and place(frame.f_code) and handler_is_ours():
            sys.settrace(None)
            print("sent", flush=True)
            signal.raise_signal(SIG)
        return None

    if STUCK:
        threading.Thread(target=queue.Queue().get, name="stuck").start()
    sys.settrace(tracer)
    sys.argv = ["imgfilter", *sys.argv[5:]]
    from imgfilter.__main__ import run

    run()
    """
)


def run_wrapped(sig, where: str, when: str, *args, stuck: bool = False) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, sig.name, where, when, "1" if stuck else "0", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # The whole run, not only its stop: the tracer slows the interpreter down.
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"{sig.name} from {where} ({when}): the command hung")
    assert out.decode().split() == ["sent"], "the signal was never sent: the test proves nothing"
    return proc.returncode, err.decode(errors="replace")


@pytest.mark.parametrize("when", ["loading", "running"])
@pytest.mark.parametrize(("sig", "code"), STOPS)
def test_stop_signal_in_a_weakref_callback_is_not_ignored(tmp_path, big, sig, code, when):
    """A signal whose handler runs inside the import lock's weakref callback still stops the run.

    Python only prints "Exception ignored" for an exception raised there, and
    the run went on: exit 0 and the output written (while loading), or 143
    with the output written all the same (while the file was in flight).
    """
    out = tmp_path / "out.png"
    before = old_output(out)
    got, err = run_wrapped(sig, "cb", when, "gaussian", "--sigma", "3", big, out)
    assert got == code, err
    assert_quiet(err)
    assert out.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("sig", "code"), STOPS)
def test_stop_signal_while_the_atomic_writer_is_still_importing(tmp_path, sig, code):
    """The handler meets a partly imported ``imgfilter.io.atomic``: 143/129, no AttributeError."""
    out = tmp_path / "z.png"
    got, err = run_wrapped(sig, "<module>", "loading", "sobel", CAM, out)
    assert got == code, err
    assert_quiet(err)
    assert not out.exists()


@pytest.mark.parametrize(("where", "when"), [("plan_run", "loading"), ("process_one", "running")])
@pytest.mark.parametrize(("sig", "code"), STOPS)
def test_stop_signal_ends_the_process_despite_a_thread_that_never_ends(tmp_path, sig, code, where, when):
    """The exit does not wait for threads: one blocked on an empty queue used to hang it for ever."""
    out = tmp_path / "z.png"
    got, err = run_wrapped(sig, where, when, "sobel", CAM, out, stuck=True)
    assert got == code, err
    assert_quiet(err)
    assert not out.exists()
    assert leftovers(tmp_path) == []


# ----------------------------------------------------------------- closed standard streams


def run_closed(redirect: str, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """The command with a standard descriptor closed by the shell (``<&-``, ``>&-``, ``2>&-``)."""
    script = f'exec "$0" -m imgfilter "$@" {redirect}'
    return subprocess.run(
        ["sh", "-c", script, sys.executable, *map(str, args)],
        capture_output=True,
        input=stdin,
        timeout=60,
    )


def assert_image(path: Path, size: tuple[int, int]) -> None:
    with Image.open(path) as im:
        im.load()
        assert im.size == size


@pytest.mark.parametrize("redirect", ["<&-", "2>&-", ">&-", "<&- >&- 2>&-"])
@pytest.mark.parametrize("ext", ["png", "tif", "jpg"])
def test_a_closed_standard_stream_does_not_matter_to_a_file_run(tmp_path, redirect, ext):
    out = tmp_path / f"z.{ext}"
    done = run_closed(redirect, "sobel", CAM, out)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b"" and done.stdout == b""
    assert_image(out, (512, 512))
    assert leftovers(tmp_path) == []


def test_a_closed_stderr_does_not_matter_to_a_batch(tmp_path):
    out = tmp_path / "out"
    done = run_closed("2>&-", "sobel", CAM, SAMPLES / "coffee.png", "-o", out)
    assert done.returncode == 0
    assert sorted(os.listdir(out)) == ["camera.png", "coffee.png"]


def test_a_bad_file_with_stderr_closed_still_fails(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    done = run_closed("2>&-", "sobel", bad, tmp_path / "z.png")
    assert done.returncode == 1
    assert not (tmp_path / "z.png").exists()


def test_standard_input_closed_with_dash_input_is_one_line(tmp_path):
    out = tmp_path / "z.png"
    done = run_closed("<&-", "sobel", "-", out)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert stderr_lines(err) == ["imgfilter: -: standard input is closed; nothing to read"]
    assert not out.exists()


def test_standard_input_closed_with_files_from_dash_is_one_line(tmp_path):
    done = run_closed("<&-", "sobel", "--files-from", "-", "-o", tmp_path / "out")
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert stderr_lines(err) == ["imgfilter sobel: error: --files-from -: standard input is closed"]


def test_standard_output_closed_with_dash_output_is_one_line(tmp_path):
    done = run_closed(">&-", "sobel", CAM, "-")
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert stderr_lines(err) == ["imgfilter: -: standard output is closed; nothing was written"]


def test_dash_to_dash_with_both_closed_names_the_input(tmp_path):
    done = run_closed("<&- >&-", "sobel", "-", "-")
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert stderr_lines(err) == ["imgfilter: -: standard input is closed; nothing to read"]


def test_dev_stdin_with_standard_input_closed_reads_no_stray_file(tmp_path):
    """A closed descriptor 0 gets /dev/null, never a file the run opened itself."""
    done = run_closed("<&-", "sobel", "/dev/stdin", tmp_path / "z.png")
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert stderr_lines(err) == ["imgfilter: /dev/stdin: is a device, not an image file"]


# ----------------------------------------------------------------- alpha in GIF


def rgba(path: Path, alpha: np.ndarray) -> Path:
    rng = np.random.default_rng(1)
    colour = rng.integers(0, 256, (*alpha.shape, 3), dtype=np.uint8)
    Image.fromarray(np.dstack([colour, alpha]), "RGBA").save(path)
    return path


def test_gif_refuses_a_graded_alpha(tmp_path):
    alpha = np.tile(np.linspace(0, 255, 50).astype(np.uint8), (40, 1))
    src = rgba(tmp_path / "rgba.png", alpha)
    out = tmp_path / "out.gif"
    Image.new("P", (4, 4)).save(out)
    before = out.read_bytes()
    result = invoke("sobel", src, out, ok=False)
    assert result.exit_code == 1
    assert stderr_lines(result.output) == [
        f"imgfilter: {out}: GIF cannot hold a graded alpha channel (only fully transparent or "
        "opaque pixels); write PNG, TIFF or WebP to keep it"
    ]
    assert out.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_gif_refuses_a_graded_grey_alpha_too(tmp_path):
    la = np.dstack([np.full((20, 20), 90, np.uint8), np.full((20, 20), 128, np.uint8)])
    src = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(src)
    result = invoke("sobel", src, tmp_path / "out.gif", ok=False)
    assert result.exit_code == 1
    assert "GIF cannot hold a graded alpha channel" in result.output
    assert not (tmp_path / "out.gif").exists()


def test_gif_keeps_an_on_off_alpha(tmp_path):
    alpha = np.where(np.add.outer(np.arange(40), np.arange(50)) % 7 < 3, 0, 255).astype(np.uint8)
    src = rgba(tmp_path / "rgba.png", alpha)
    out = tmp_path / "out.gif"
    invoke("sobel", src, out)
    with Image.open(out) as im:
        kept = np.asarray(im.convert("RGBA"))[..., 3]
    assert np.array_equal(kept, alpha)


# ----------------------------------------------------------------- long output names


@pytest.mark.parametrize("length", [241, 242, 250, 255])
def test_output_names_up_to_255_bytes_are_written(tmp_path, length):
    name = "a" * (length - 4) + ".png"
    out = tmp_path / name
    invoke("sobel", CAM, out)
    assert_image(out, (512, 512))
    assert os.listdir(tmp_path) == [name]


def test_long_multibyte_output_name_is_written(tmp_path):
    name = "é" * 125 + ".png"  # 254 bytes in UTF-8
    invoke("sobel", CAM, tmp_path / name)
    assert os.listdir(tmp_path) == [name]


def test_temporary_of_a_long_name_fits_and_is_swept_as_its_own(tmp_path):
    first = tmp_path / ("b" * 250 + "1.png")
    second = tmp_path / ("b" * 250 + "2.png")
    with staged(str(first)) as tmp_first, staged(str(second)) as tmp_second:
        for tmp in (tmp_first, tmp_second):
            assert len(os.fsencode(os.path.basename(tmp))) <= 255
            assert os.path.basename(tmp).startswith(".b") and tmp.endswith(".tmp")
        assert os.path.basename(tmp_first) != os.path.basename(tmp_second)
        # A stopped job's sweep takes its own temporary, never the other output's.
        sweep_partial(str(first))
        assert not os.path.exists(tmp_first)
        assert os.path.exists(tmp_second)
        open(tmp_first, "wb").close()  # staged renames it into place on the way out
    assert sorted(os.listdir(tmp_path)) == sorted([first.name, second.name])


def test_batch_resume_sweeps_a_long_names_partial_file(tmp_path):
    """The partial file a killed worker leaves for a long name is found and removed."""
    src = tmp_path / "in" / ("c" * 240 + ".png")
    src.parent.mkdir()
    Image.open(CAM).crop((0, 0, 40, 30)).save(src)
    # Two files, so that --jobs 2 runs worker processes (the test hook lives there).
    Image.open(CAM).crop((0, 0, 40, 30)).save(src.parent / ("c" * 239 + "2.png"))
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgfilter", "blur", str(src.parent), "-o", str(out), "--jobs", "2"],
        stderr=subprocess.PIPE,
        env=dict(os.environ, IMGFILTER_TEST_HOOK="hang:c*.png"),
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while len([p for p in os.listdir(out) if p.endswith(".tmp")]) < 2:
        assert time.monotonic() < deadline, "no partial file"
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGTERM)
    got, err = finish(proc, timeout=30)
    assert got == 143, err
    assert os.listdir(out) == []


def test_depth_help_is_canny_own():
    """canny's --depth default (8, a mask) once replaced the shared option's help in every command."""
    from clitools import invoke

    assert "default: 8, a 0/255 mask" in invoke("canny", "--help").output
    for cmd in ("sobel", "median", "gaussian", "blur"):
        out = invoke(cmd, "--help").output
        assert "default: 8, a 0/255 mask" not in out and "default: the input's" in out, cmd
