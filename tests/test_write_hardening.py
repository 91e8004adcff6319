"""The write side under stress (issue 15): special output paths, short writes,
signals and temporary files, metadata that must (not) travel, JPEG/WebP
re-encoding, the one source-scale rule of imwrite, the gallery and the CLI,
and refusals that used to be tracebacks.

Everything involving pipes, FIFOs, devices, signals or full disks runs the
real command in a subprocess.
"""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke
from PIL import Image, ImageCms, JpegImagePlugin, PngImagePlugin

import imgfilter
from imgfilter.core.names import OptionError
from imgfilter.io import (
    ImageError,
    ImageWarning,
    Picture,
    cleanup_temporaries,
    register_temporary,
    source_scale,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TIMEOUT = 120
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Zoë</dc:creator>'
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
).encode()


def run(*args, cwd=None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "imgfilter", *map(str, args)],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        timeout=TIMEOUT,
        **kwargs,
    )


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A small RGB PNG (a crop of a sample)."""
    path = tmp_path_factory.mktemp("write_photo") / "photo.png"
    rgb = np.asarray(Image.open(SAMPLES / "astronaut.png").convert("RGB"))[:96, :128]
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture(scope="module")
def noise(tmp_path_factory) -> Path:
    """An image whose PNG is megabytes (noise does not compress): more than any pipe holds."""
    path = tmp_path_factory.mktemp("write_noise") / "noise.npy"
    np.save(path, np.random.default_rng(0).integers(0, 256, (1000, 1000, 3), dtype=np.uint8))
    return path


# ----------------------------------------------------------------- 1. special output paths


def test_symlink_output_replaces_its_target_and_keeps_the_link(tmp_path, photo):
    target = tmp_path / "data" / "target.png"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o640)
    link = tmp_path / "link.png"
    link.symlink_to(os.path.join("data", "target.png"))
    result = run("blur", photo, link.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.join("data", "target.png")
    np.testing.assert_array_equal(imgfilter.imread(target), imgfilter.blur(imgfilter.imread(photo)))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the target's mode stays
    assert temporaries(tmp_path) == [] and temporaries(target.parent) == []


def test_dangling_symlink_output_creates_its_target(tmp_path, photo):
    link = tmp_path / "link.png"
    link.symlink_to("made.png")
    result = run("blur", photo, link, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and (tmp_path / "made.png").is_file()


def test_fifo_output_is_streamed_whole_to_its_reader(tmp_path, noise):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run("blur", noise, fifo)
    reader.join(TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO, not replaced by a file
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(got[0]))), imgfilter.blur(np.load(noise)))
    assert temporaries(tmp_path) == []


def test_character_device_output_stays_a_device(tmp_path, photo):
    null = tmp_path / "null.png"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a copy of /dev/null
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot mknod here ({exc})")
    result = run("blur", photo, null)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert temporaries(tmp_path) == []


def test_dev_stdout_streams_and_needs_format_only_without_extension(photo):
    mode = os.lstat("/dev/stdout").st_mode
    if not (stat.S_ISLNK(mode) or stat.S_ISCHR(mode)):
        pytest.skip("/dev/stdout is not a link or a device on this machine")
    result = run("blur", "--format", "png", photo, "/dev/stdout")
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(
        np.asarray(Image.open(io.BytesIO(result.stdout))), imgfilter.blur(imgfilter.imread(photo))
    )
    refused = run("blur", photo, "/dev/stdout")
    assert refused.returncode != 0 and b"--format" in refused.stderr
    assert b"Traceback" not in refused.stderr


def test_process_substitution_descriptor_is_streamed(tmp_path, photo):
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgfilter", "blur", str(photo), f"/dev/fd/{write_end}", "--format", "png"],
        env=ENV,
        pass_fds=(write_end,),
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        data = fh.read()
    assert proc.wait(TIMEOUT) == 0, proc.stderr.read()
    proc.stderr.close()
    np.testing.assert_array_equal(
        np.asarray(Image.open(io.BytesIO(data))), imgfilter.blur(imgfilter.imread(photo))
    )


def test_regular_output_is_still_replaced_atomically(tmp_path, photo):
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    inode = out.stat().st_ino
    assert run("blur", photo, out).returncode == 0
    assert out.stat().st_ino != inode  # a new file renamed over the old one
    assert temporaries(tmp_path) == []


# ----------------------------------------------------------------- 2. short writes to standard output


def test_stdout_on_a_full_device_is_one_line_and_non_zero(photo):
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "imgfilter", "blur", str(photo), "-"],
            env=ENV,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=TIMEOUT,
        )
    assert result.returncode != 0
    assert "No space left" in one_line(result.stderr)


def test_stdout_on_a_full_file_system_is_an_error(tmp_path, noise):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with open(mount / "out.png", "wb") as fh:
            result = subprocess.run(
                [sys.executable, "-m", "imgfilter", "blur", str(noise), "-"],
                env=ENV,
                stdout=fh,
                stderr=subprocess.PIPE,
                timeout=TIMEOUT,
            )
        assert result.returncode != 0
        assert "No space left" in one_line(result.stderr)
    finally:
        subprocess.run(["umount", str(mount)])


def test_stdout_reader_that_goes_away_exits_non_zero_quietly(noise):
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgfilter", "blur", str(noise), "-"],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.read(8) == b"\x89PNG\r\n\x1a\n"
    proc.stdout.close()  # as `| head -c 8` does
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(TIMEOUT) != 0
    assert stderr == b""  # EPIPE: quiet, as Unix tools are


def test_fifo_reader_that_goes_away_is_one_line(tmp_path, noise):
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)

    def read_a_little():
        with open(fifo, "rb") as fh:
            fh.read(8)

    reader = threading.Thread(target=read_a_little, daemon=True)
    reader.start()
    result = run("blur", noise, fifo)
    reader.join(TIMEOUT)
    assert result.returncode != 0
    assert str(fifo) in one_line(result.stderr)


# ----------------------------------------------------------------- 3. temporary files and signals

# The command with its encoder held up once the temporary file exists, so a
# signal lands during a write on every run.
SLOW_WRITE = """
import sys, time
import imgfilter.io.encoders as encoders
def slow(fh, *args, **kwargs):
    fh.write(b"partial")
    fh.flush()
    print("writing", file=sys.stderr, flush=True)
    time.sleep(60)
encoders.encode = slow
from imgfilter.cli import main
sys.argv = ["imgfilter", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(("signame", "status"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_signal_during_a_write_removes_the_temporary_file(tmp_path, photo, signame, status):
    out = tmp_path / "out.png"
    out.write_bytes(b"keep me")
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITE, "blur", str(photo), str(out)],
        env=ENV,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr.readline().strip() == b"writing"
        assert len(temporaries(tmp_path)) == 1
        proc.send_signal(getattr(signal, signame))
        assert proc.wait(TIMEOUT) == status
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert temporaries(tmp_path) == []
    assert out.read_bytes() == b"keep me"


def test_cleanup_temporaries_removes_registered_files_and_folders(tmp_path):
    f = tmp_path / ".a.png.x.tmp"
    d = tmp_path / ".b.zarr.y.tmp"
    f.write_bytes(b"x")
    (d / "c").mkdir(parents=True)
    register_temporary(str(f))
    register_temporary(str(d))
    cleanup_temporaries()
    assert list(tmp_path.iterdir()) == []
    cleanup_temporaries()  # nothing left: nothing happens


def test_importing_the_library_installs_no_signal_handler():
    code = "import signal, imgfilter, imgfilter.io; print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)"
    result = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, timeout=TIMEOUT)
    assert result.stdout.strip() == b"True"


# ----------------------------------------------------------------- 4. ICC profiles of grey results


@pytest.fixture(scope="module")
def icc_photo(tmp_path_factory, photo) -> Path:
    path = tmp_path_factory.mktemp("write_icc") / "icc.png"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert srgb[16:20] == b"RGB "
    Image.open(photo).save(path, icc_profile=srgb)
    return path


@pytest.mark.parametrize("ext", ["png", "jpg", "tif"])
def test_grey_result_drops_the_rgb_profile_colour_result_keeps_it(tmp_path, icc_photo, ext):
    invoke("sobel", "--gray", icc_photo, tmp_path / f"grey.{ext}")
    invoke("gaussian", "+", "sobel", "--gray", icc_photo, tmp_path / f"chain.{ext}")
    invoke("blur", icc_photo, tmp_path / f"colour.{ext}")
    for name in ("grey", "chain"):
        with Image.open(tmp_path / f"{name}.{ext}") as im:
            assert im.mode in ("L", "I;16"), im.mode
            assert not im.info.get("icc_profile"), name
    with Image.open(tmp_path / f"colour.{ext}") as im:
        assert im.info["icc_profile"][16:20] == b"RGB "


def test_grey_profile_is_kept_on_grey_and_dropped_on_colour():
    gray = b"\x00" * 16 + b"GRAY" + b"\x00" * 108
    buf = io.BytesIO()
    pic = Picture(pixels=np.zeros((2, 2), np.uint8), icc_profile=gray)
    imgfilter.io.encode(buf, np.zeros((2, 2), np.uint8), "PNG", pic)
    assert b"iCCP" in buf.getvalue()
    buf = io.BytesIO()
    imgfilter.io.encode(buf, np.zeros((2, 2, 3), np.uint8), "PNG", pic)
    assert b"iCCP" not in buf.getvalue()


# ----------------------------------------------------------------- 5. XMP and comments


@pytest.fixture(scope="module")
def tagged(tmp_path_factory, photo) -> dict[str, Path]:
    """The photo as PNG, JPEG, TIFF and WebP carrying XMP (and comments where the format has them)."""
    folder = tmp_path_factory.mktemp("write_tagged")
    im = Image.open(photo)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Comment", "a png comment")
    info.add_itxt("Title", "Zoë's title")
    files = {
        "png": folder / "t.png",
        "jpg": folder / "t.jpg",
        "tif": folder / "t.tif",
        "webp": folder / "t.webp",
    }
    im.save(files["png"], pnginfo=info)
    im.save(files["jpg"], xmp=XMP, comment=b"a jpeg comment", quality=92)
    im.save(files["tif"], tiffinfo={700: XMP})
    im.save(files["webp"], xmp=XMP)
    return files


def xmp_of(path: Path) -> bytes | None:
    with Image.open(path) as im:
        im.load()
        xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
        if path.suffix == ".tif":
            xmp = im.tag_v2.get(700)
    return xmp.encode() if isinstance(xmp, str) else xmp


def comment_of(path: Path) -> bytes | None:
    with Image.open(path) as im:
        im.load()
        c = im.info.get("comment") or im.info.get("Comment")
    return c.encode() if isinstance(c, str) else c


@pytest.mark.parametrize("src", ["png", "jpg", "tif", "webp"])
@pytest.mark.parametrize("ext", ["png", "jpg", "tif", "webp"])
def test_xmp_is_kept_by_default_and_dropped_by_strip(tmp_path, tagged, src, ext):
    out, stripped = tmp_path / f"o.{ext}", tmp_path / f"s.{ext}"
    invoke("blur", tagged[src], out)
    invoke("blur", "--strip", tagged[src], stripped)
    assert xmp_of(out) == XMP
    assert not xmp_of(stripped)


def test_sixteen_bit_tiff_keeps_xmp(tmp_path, tagged):
    invoke("blur", "--depth", "16", tagged["png"], tmp_path / "o.tif")
    assert xmp_of(tmp_path / "o.tif") == XMP


@pytest.mark.parametrize(("src", "comment"), [("png", b"a png comment"), ("jpg", b"a jpeg comment")])
@pytest.mark.parametrize("ext", ["png", "jpg"])
def test_comments_are_kept_by_default_and_dropped_by_strip(tmp_path, tagged, src, comment, ext):
    invoke("blur", tagged[src], tmp_path / f"o.{ext}")
    invoke("blur", "--strip", tagged[src], tmp_path / f"s.{ext}")
    assert comment_of(tmp_path / f"o.{ext}") == comment
    assert not comment_of(tmp_path / f"s.{ext}")


def test_png_text_chunks_survive_png_to_png(tmp_path, tagged):
    invoke("blur", tagged["png"], tmp_path / "o.png")
    with Image.open(tmp_path / "o.png") as im:
        im.load()
        assert im.text["Title"] == "Zoë's title"  # not Latin-1: an iTXt chunk


# ----------------------------------------------------------------- 6. JPEG and WebP re-encoding


@pytest.fixture(scope="module")
def q96_444(tmp_path_factory, photo) -> Path:
    path = tmp_path_factory.mktemp("write_jpeg") / "q96.jpg"
    Image.open(photo).save(path, quality=96, subsampling=0)
    return path


def test_jpeg_output_keeps_the_inputs_tables_and_subsampling(tmp_path, q96_444):
    invoke("blur", q96_444, tmp_path / "o.jpg")
    with Image.open(q96_444) as a, Image.open(tmp_path / "o.jpg") as b:
        assert b.quantization == a.quantization
        assert JpegImagePlugin.get_sampling(b) == JpegImagePlugin.get_sampling(a) == 0


def test_jpeg_quality_and_subsampling_options_override(tmp_path, q96_444):
    invoke("blur", "--quality", "50", "--subsampling", "4:2:0", q96_444, tmp_path / "o.jpg")
    invoke("blur", "--quality", "50", q96_444, tmp_path / "q.jpg")
    reference = io.BytesIO()
    Image.open(q96_444).save(reference, "JPEG", quality=50)
    with Image.open(tmp_path / "o.jpg") as b, Image.open(reference) as ref:
        assert b.quantization == ref.quantization
        assert JpegImagePlugin.get_sampling(b) == 2
    with Image.open(tmp_path / "q.jpg") as q:
        assert JpegImagePlugin.get_sampling(q) == 0  # the input's subsampling, at the asked quality
    bad = invoke("blur", "--subsampling", "4:1:1", q96_444, tmp_path / "x.jpg", ok=False)
    assert bad.exit_code == 2


def test_jpeg_batch_output_is_not_larger_than_its_input(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("astronaut.png", "coffee.png", "chelsea.png"):
        Image.open(SAMPLES / name).convert("RGB").save(folder / name.replace(".png", ".jpg"), quality=90)
    invoke("median", "--size", "1", folder, "-o", tmp_path / "out", "-q")  # size 1: the same pixels
    for src in sorted(folder.iterdir()):
        out = tmp_path / "out" / src.name
        assert out.stat().st_size <= 1.02 * src.stat().st_size, src.name


def webp_is_lossless(path: Path) -> bool:
    return imgfilter.io.metadata._webp_is_lossless(path.read_bytes())


def test_webp_lossless_input_stays_lossless_and_lossless_option(tmp_path, photo):
    Image.open(photo).save(tmp_path / "lossless.webp", lossless=True)
    Image.open(photo).save(tmp_path / "lossy.webp", quality=80)
    invoke("median", "--size", "1", tmp_path / "lossless.webp", tmp_path / "a.webp")
    invoke("median", "--size", "1", tmp_path / "lossy.webp", tmp_path / "b.webp")
    invoke("median", "--size", "1", "--lossless", photo, tmp_path / "c.webp")
    assert webp_is_lossless(tmp_path / "a.webp")
    np.testing.assert_array_equal(imgfilter.imread(tmp_path / "a.webp"), imgfilter.imread(photo))
    assert not webp_is_lossless(tmp_path / "b.webp")
    assert webp_is_lossless(tmp_path / "c.webp")
    np.testing.assert_array_equal(imgfilter.imread(tmp_path / "c.webp"), imgfilter.imread(photo))


# ----------------------------------------------------------------- 7. one rule for the scale of values


def test_imwrite_of_a_float_file_is_not_black(tmp_path, photo):
    grey = imgfilter.imread(photo)[..., 0]
    imgfilter.imwrite(tmp_path / "f.tif", grey.astype(np.float32) / 255)
    imgfilter.imwrite(tmp_path / "f.png", imgfilter.imread(tmp_path / "f.tif"))
    np.testing.assert_array_equal(imgfilter.imread(tmp_path / "f.png"), grey)


def test_imwrite_of_a_16_bit_result_matches_the_cli(tmp_path, photo):
    img16 = imgfilter.imread(photo).astype(np.uint16) * 257
    imgfilter.imwrite(tmp_path / "in16.png", img16)
    invoke("sobel", tmp_path / "in16.png", tmp_path / "cli.png")
    imgfilter.imwrite(tmp_path / "api.png", imgfilter.sobel(img16), source_depth=img16)
    api, cli = imgfilter.imread(tmp_path / "api.png"), imgfilter.imread(tmp_path / "cli.png")
    assert api.dtype == np.uint16
    np.testing.assert_array_equal(api, cli)
    assert (api == 65535).mean() < 0.05
    imgfilter.imwrite(tmp_path / "named.png", imgfilter.sobel(img16), source_depth="16")
    np.testing.assert_array_equal(imgfilter.imread(tmp_path / "named.png"), cli)


def test_imwrite_of_an_8_bit_result_matches_the_cli(tmp_path, photo):
    invoke("sobel", photo, tmp_path / "cli.png")
    img = imgfilter.imread(photo)
    imgfilter.imwrite(tmp_path / "api.png", imgfilter.sobel(img), source_depth=img.dtype)
    assert (tmp_path / "api.png").read_bytes() == (tmp_path / "cli.png").read_bytes()


def test_imwrite_of_int64_codes_writes_them_as_they_are(tmp_path):
    imgfilter.imwrite(tmp_path / "a.png", np.array([[0, 255], [255, 0]]))
    back = imgfilter.imread(tmp_path / "a.png")
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, [[0, 255], [255, 0]])
    imgfilter.imwrite(tmp_path / "b.png", np.array([[0, 1000]], dtype=np.int32))
    np.testing.assert_array_equal(imgfilter.imread(tmp_path / "b.png"), np.array([[0, 1000]], np.uint16))


def test_imwrite_of_a_bool_mask_is_black_and_white(tmp_path):
    imgfilter.imwrite(tmp_path / "m.png", np.array([[False, True]]))
    np.testing.assert_array_equal(imgfilter.imread(tmp_path / "m.png"), [[0, 255]])


def test_source_scale_is_the_one_rule():
    assert source_scale(np.zeros(1, np.uint8)) == ("8", 255.0)
    assert source_scale(np.zeros(1, np.uint16)) == ("16", 65535.0)
    assert source_scale(np.zeros(1, np.float32)) == ("float", 1.0)
    assert source_scale(np.zeros(1, np.float32), "8") == ("8", 255.0)
    assert source_scale(np.zeros(1, np.float32), np.uint16) == ("16", 65535.0)
    assert source_scale(np.zeros(1, np.float32), np.zeros(3, np.uint8)) == ("8", 255.0)
    assert source_scale(np.array([0, 300])) == ("16", 65535.0)
    assert Picture(pixels=np.array([[0, 255]])).depth == "8"
    with pytest.raises(ValueError):
        source_scale(np.zeros(1), "12")


def test_imwrite_refuses_floats_on_a_scale_it_is_not_told(tmp_path, photo):
    img = imgfilter.imread(photo)
    edges = imgfilter.sobel(img)  # on img's 0..255 scale
    assert edges.max() > 1
    cases = {
        "big.png": np.array([[0.0, 300.0]]),
        "sobel.png": edges,
        "small.jpg": np.array([[0.0, 11.0]], np.float32),  # once silently 89% white
        "abs.png": np.array([[0.0, -3.0]]),
    }
    scales = {"abs.png": "abs"}
    for name, arr in cases.items():
        with pytest.raises(OptionError, match="source_depth") as info:
            imgfilter.imwrite(tmp_path / name, arr, scale=scales.get(name, "clip"))
        message = str(info.value)
        assert message.startswith(str(tmp_path / name)) and "\n" not in message
        assert not (tmp_path / name).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary left either
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        said = {
            "unit.png": (np.array([[0.0, 1.0]]), {}),
            "rounding.png": (np.float32([[0.0, 1.0 + 2.0**-12]]), {}),
            "eight.png": (np.array([[0.0, 300.0]]), {"source_depth": "8"}),
            "image.png": (np.array([[0.0, 300.0]]), {"source_depth": img}),
            "float.png": (np.array([[0.0, 3.0]]), {"source_depth": "float"}),
            "max.png": (np.array([[0.0, 3.0]]), {"source_max": 3.0}),
            "stretch.png": (np.array([[0.0, 3.0]]), {"scale": "stretch"}),
        }
        for name, (arr, kw) in said.items():
            imgfilter.imwrite(tmp_path / name, arr, **kw)
            np.testing.assert_array_equal(imgfilter.imread(tmp_path / name), [[0, 255]], err_msg=name)
        # Float outputs keep the values as they are: no scale to say.
        imgfilter.imwrite(tmp_path / "f.tif", np.array([[0.0, 300.0]], np.float32))
        imgfilter.imwrite(tmp_path / "f.npy", np.array([[0.0, 300.0]]))
    np.testing.assert_array_equal(imgfilter.imread(tmp_path / "f.tif"), [[0.0, 300.0]])
    np.testing.assert_array_equal(np.load(tmp_path / "f.npy"), [[0.0, 300.0]])


def test_gallery_of_a_float_tiff_matches_its_8_bit_twin(tmp_path, photo):
    from imgfilter.gallery import make_gallery

    grey = imgfilter.imread(photo)[..., 1]
    imgfilter.imwrite(tmp_path / "f.tif", grey.astype(np.float32) / 255)
    imgfilter.imwrite(tmp_path / "g.png", grey)
    make_gallery(tmp_path / "f.tif", str(tmp_path / "float.png"))
    make_gallery(tmp_path / "g.png", str(tmp_path / "eight.png"))
    np.testing.assert_array_equal(
        imgfilter.imread(tmp_path / "float.png"), imgfilter.imread(tmp_path / "eight.png")
    )


# ----------------------------------------------------------------- 8. refusals instead of tracebacks


@pytest.mark.parametrize("dpi", [(1e12, 1e12), (1e-6, 72.0)])
def test_dpi_the_png_cannot_hold_is_left_out_with_one_warning(tmp_path, photo, dpi):
    src = tmp_path / "in.tif"
    Image.open(photo).save(src, dpi=dpi)
    result = run("blur", src, tmp_path / "out.png")
    assert result.returncode == 0
    assert "DPI" in one_line(result.stderr)
    with Image.open(tmp_path / "out.png") as im:
        assert "dpi" not in im.info
        np.testing.assert_array_equal(np.asarray(im), imgfilter.blur(imgfilter.imread(photo)))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP"])
def test_negative_or_nan_dpi_is_left_out_with_a_warning(fmt):
    for dpi in ((-72.0, 72.0), (float("nan"), 72.0)):
        pic = Picture(pixels=np.zeros((2, 2, 3), np.uint8), dpi=dpi)
        with pytest.warns(ImageWarning, match="DPI"):
            imgfilter.io.encode(io.BytesIO(), np.zeros((2, 2, 3), np.uint8), fmt, pic)
        with pytest.warns(ImageWarning, match="DPI"):
            imgfilter.io.encode(io.BytesIO(), np.zeros((2, 2, 3), np.uint16), "TIFF", pic)


def test_dpi_that_fits_is_kept(tmp_path, photo):
    src = tmp_path / "in.tif"
    Image.open(photo).save(src, dpi=(300, 300))
    invoke("blur", src, tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as im:
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)


@pytest.mark.parametrize(("ext", "width"), [("gif", 65536), ("jpg", 65501), ("webp", 16384)])
def test_output_too_wide_for_its_format_is_one_line(tmp_path, ext, width):
    src = tmp_path / "wide.npy"
    np.save(src, np.zeros((1, width), np.uint8))
    result = run("blur", src, tmp_path / f"out.{ext}")
    assert result.returncode == 1
    assert "too large" in one_line(result.stderr)
    assert not (tmp_path / f"out.{ext}").exists() and temporaries(tmp_path) == []


def test_complex_arrays_are_refused(tmp_path):
    with pytest.raises(TypeError, match="complex"):
        imgfilter.imwrite(tmp_path / "c.png", np.zeros((3, 3), complex))
    assert not (tmp_path / "c.png").exists()


def test_block_device_and_directory_outputs_are_refused(tmp_path):
    with pytest.raises(ImageError, match="directory"):
        imgfilter.imwrite(tmp_path, np.zeros((2, 2), np.uint8), format="png")


def test_reading_leaves_no_unclosed_file_at_exit(photo):
    code = f"import imgfilter; imgfilter.imread({str(photo)!r}); imgfilter.imread({str(photo)!r})"
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
