"""Probe a music upload with PyAV: audio the apps can play, and how long it lasts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import InputContainer

from keepsake.errors import Invalid
from keepsake.i18n.catalog import _

# Demuxer name -> the content type the file is served with. The uploader's declared
# type is not trusted: an `audio/x-m4a` file is served as the standard `audio/mp4`.
FORMATS = {"mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4", "mp3": "audio/mpeg", "aac": "audio/aac"}
# What AVPlayer (iOS) and ExoPlayer (Android) both play without help.
CODECS = frozenset({"aac", "mp3"})
# Enough packets to get past a damaged start or encoder priming to real samples.
_PROBE_PACKETS = 64


class InvalidAudio(Invalid):
    code = "invalid_audio"


@dataclass(frozen=True, slots=True)
class AudioInfo:
    duration_s: float
    content_type: str


def probe_audio(path: Path) -> AudioInfo:
    """What the file at `path` is, or `InvalidAudio`; decodes its first packets."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return _probe(container)
    except av.FFmpegError as exc:
        raise _invalid(_("This file could not be read as audio.")) from exc


def _probe(container: InputContainer) -> AudioInfo:
    content_type = FORMATS.get(container.format.name)
    if content_type is None:
        raise _invalid(_("Upload an MP3 or AAC (.m4a) file."))
    stream = next(iter(container.streams.audio), None)
    if stream is None:
        raise _invalid(_("This file has no sound in it."))
    if stream.codec_context.codec.canonical_name not in CODECS:
        raise _invalid(_("The sound must be AAC or MP3."))
    duration_s = _duration_s(container, stream)
    if duration_s <= 0:
        raise _invalid(_("This file has no sound in it."))
    _decode_start(container, stream)
    return AudioInfo(duration_s=round(duration_s, 3), content_type=content_type)


def _duration_s(container: InputContainer, stream: AudioStream) -> float:
    if container.duration is not None:
        return container.duration / av.time_base
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return 0.0


def _decode_start(container: InputContainer, stream: AudioStream) -> None:
    """Headers can be fine over broken data; samples must actually come out."""
    for count, packet in enumerate(container.demux(stream)):
        if packet.decode():
            return
        if count >= _PROBE_PACKETS:
            break
    raise _invalid(_("This file could not be read as audio."))


def _invalid(detail: str) -> InvalidAudio:
    return InvalidAudio(detail, code=InvalidAudio.code, field="upload_id")
