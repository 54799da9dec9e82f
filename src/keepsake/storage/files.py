"""The local backend's files: each object and, beside it, a `<name>~type` file with its type.

Bytes are written to a hidden temp file in the destination folder and renamed into
place, so a reader sees either the whole object or none.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import IO

TYPE_SUFFIX = "~type"
DEFAULT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class MediaFile:
    path: Path
    stat: os.stat_result
    content_type: str


def type_path(path: Path) -> Path:
    return path.with_name(path.name + TYPE_SUFFIX)


def temp_file_beside(path: Path) -> Path:
    # Same folder, so the final rename never crosses file systems and stays atomic;
    # a leading dot, so no key can ever name it.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".part")
    os.close(fd)
    return Path(name)


def publish(temp: Path, path: Path, content_type: str) -> None:
    # The type goes first: once the bytes appear, their type is already there.
    type_temp = temp_file_beside(path)
    try:
        type_temp.write_text(content_type)
        type_temp.replace(type_path(path))
    except BaseException:
        type_temp.unlink(missing_ok=True)
        raise
    temp.replace(path)


def copy_in(src: Path, path: Path, content_type: str) -> None:
    temp = temp_file_beside(path)
    try:
        with src.open("rb") as source, temp.open("wb") as out:
            shutil.copyfileobj(source, out)
            sync(out)
        publish(temp, path, content_type)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def sync(out: IO[bytes]) -> None:
    out.flush()
    os.fsync(out.fileno())


def copy_out(path: Path, dest: Path) -> bool:
    try:
        source = path.open("rb")
    except (FileNotFoundError, IsADirectoryError):
        return False
    with source, dest.open("wb") as out:
        shutil.copyfileobj(source, out)
    return True


def read_stat(path: Path) -> MediaFile:
    stat = path.stat()
    if not S_ISREG(stat.st_mode):
        # A folder holding longer keys is not an object, as on S3.
        raise FileNotFoundError(path)
    try:
        content_type = type_path(path).read_text()
    except FileNotFoundError:
        content_type = DEFAULT_TYPE
    return MediaFile(path=path, stat=stat, content_type=content_type)


def link(path: Path, new_path: Path) -> None:
    # A hard link copies in no time, and stays the old bytes when `path` is replaced
    # (a rename onto it) or deleted.
    content_type = read_stat(path).content_type
    temp = temp_file_beside(new_path)
    try:
        temp.unlink()
        temp.hardlink_to(path)
        publish(temp, new_path, content_type)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def delete_files(paths: list[Path]) -> None:
    for path in paths:
        if not path.is_dir():
            path.unlink(missing_ok=True)
        type_path(path).unlink(missing_ok=True)


def delete_matching(folder: Path, stem: str) -> None:
    """Delete what `folder/stem*` names; an empty stem deletes the whole folder."""
    if not stem:
        shutil.rmtree(folder, ignore_errors=True)
        return
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        if not entry.name.startswith(stem):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
