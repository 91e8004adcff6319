"""Build of imgfilter's compiled engine (everything else is in pyproject.toml).

The engine is plain C99 in ``imgfilter/_engine``: one portable build with an
AVX2 variant of the hot loops that a CPU check picks at run time (never
``-march=native``). Warnings are errors. ``IMGFILTER_SANITIZE=1`` builds it
with AddressSanitizer and UndefinedBehaviorSanitizer, as ``.ci/run`` does for
its sanitizer step.
"""

import os
import sys
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

COMPILER_HELP = (
    "imgfilter needs a C compiler to build its engine (imgfilter/_engine): install gcc or clang "
    "(Debian/Ubuntu: apt-get install gcc python3-dev; macOS: xcode-select --install), "
    "or install a prebuilt wheel."
)


class BuildEngine(build_ext):
    """build_ext that turns a missing or failing compiler into one clear message."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "msvc":
            args = ["/O2", "/WX", "/fp:precise"]
        else:
            args = [
                "-O3",
                "-std=c99",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-ffp-contract=off",
                "-fno-strict-aliasing",
                "-fvisibility=hidden",
            ]
            if os.environ.get("IMGFILTER_SANITIZE"):
                args += [
                    "-fsanitize=address,undefined",
                    "-fno-omit-frame-pointer",
                    "-fno-sanitize-recover=undefined",
                    "-O1",
                ]
        for ext in self.extensions:
            ext.extra_compile_args = args
            if os.environ.get("IMGFILTER_SANITIZE") and self.compiler.compiler_type != "msvc":
                ext.extra_link_args = ["-fsanitize=address,undefined"]
        try:
            super().build_extensions()
        except Exception as exc:  # distutils raises its own CompileError/LinkError types
            sys.exit(f"error: {COMPILER_HELP}\n({type(exc).__name__}: {exc})")

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            if "compiler" in str(exc).lower() or "gcc" in str(exc).lower():
                sys.exit(f"error: {COMPILER_HELP}\n({exc})")
            raise
        if not self.inplace:
            # `python3 -m pytest` in a checkout imports imgfilter from the checkout
            # (the current folder comes first on sys.path), so after `pip install .`
            # the checkout gets the engine it was just built from, too.
            try:
                self.copy_extensions_to_source()
            except OSError:
                pass  # a read-only source tree: the installed copy is complete


setup(
    ext_modules=[
        Extension(
            "imgfilter._engine._kernels",
            sources=sorted(glob("imgfilter/_engine/*.c")),
            depends=sorted(glob("imgfilter/_engine/*.h")),
        )
    ],
    cmdclass={"build_ext": BuildEngine},
)
