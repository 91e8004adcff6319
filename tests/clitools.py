"""Helpers shared by the command-line tests: run the CLI, look at folders."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from imgfilter.cli import main


def invoke(*args, input=None, ok=True):
    """Run the CLI in-process; never a Python traceback, whatever the exit status."""
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def stderr_lines(text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode()
    return text.strip().splitlines()


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: relative path -> (bytes, mtime_ns)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
