"""Probe an uploaded clip: what it is, and whether the pipeline accepts it.

Video goes through PyAV; photos (JPEG, PNG, HEIC) through Pillow, since FFmpeg would
read a HEIC as a one-frame HEVC "video" and a JPEG as a one-frame MJPEG one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import ExifTags, Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from keepsake.i18n.catalog import _
from keepsake.media.errors import UNREADABLE, MediaRejected

register_heif_opener()

# The one demuxer that reads what phones write: .mov (iPhone) and .mp4/.3gp (Android).
VIDEO_CONTAINERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2"})
# Phone cameras record H.264 or HEVC. AV1 and VP9 in MP4 come from some Android devices
# and from apps that re-encode before sharing; their decoders (dav1d, FFmpeg's vp9) ship
# in the wheel and are fuzzed continuously upstream, so accepting them costs little.
VIDEO_CODECS = frozenset({"h264", "hevc", "av1", "vp9"})
# The sound is re-encoded anyway, so this list only keeps obscure decoders away from
# uploads: AAC (all phones), AMR (old Android voice-grade recorders), Opus, MP3, ALAC
# and LPCM (pro camera apps on iPhone).
AUDIO_CODECS = frozenset(
    {"aac", "amr_nb", "amr_wb", "opus", "mp3", "alac", "pcm_s16le", "pcm_s16be", "pcm_s24le"}
)
PHOTO_FORMATS = ("JPEG", "PNG", "HEIF")

DEFAULT_MAX_DURATION_S = 240.0
MIN_EDGE = 64
# 4K video fits; 8K (a few Android flagships) would take minutes per clip on one core.
MAX_VIDEO_EDGE = 4096
# Above the 48-50 MP sensors of current phones, below Pillow's decompression-bomb limit.
MAX_PHOTO_PIXELS = 64_000_000
# Enough packets to reach the first decoded frames even behind B-frame reordering.
_PROBE_PACKETS = 256

# EXIF orientation -> counterclockwise degrees still to turn the stored pixels by;
# the mirrored orientations (2, 4, 5, 7) are undone by ImageOps.exif_transpose.
_EXIF_ROTATION = {3: 180, 4: 180, 5: 90, 6: 270, 7: 270, 8: 90}


@dataclass(frozen=True, slots=True)
class ClipInfo:
    """What a clip is. `rotation` is counterclockwise degrees (0, 90, 180 or 270) to turn
    the stored `width` x `height` pixels by for display, PyAV's convention, so a stream
    written with `set_display_rotation(90)` reads back 90. Photos have no duration."""

    kind: Literal["video", "photo"]
    container: str
    video_codec: str
    audio_codec: str | None
    duration_s: float
    width: int
    height: int
    rotation: int

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height


def probe(path: str | Path, *, max_duration_s: float = DEFAULT_MAX_DURATION_S) -> ClipInfo:
    """Describe the clip at `path`, or raise `MediaRejected` if the pipeline refuses it.

    Decodes the first frames, so a file with valid headers over broken data is caught.
    """
    path = Path(path)
    # A missing or unreadable file is the caller's problem, not the clip's: let the
    # OSError out before any decoder gets to call it "unreadable".
    path.stat()
    photo = _probe_photo(path)
    if photo is not None:
        return photo
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise MediaRejected("clip_unreadable", UNREADABLE) from exc
    with container:
        return _probe_video(container, max_duration_s)


def select_streams(container: InputContainer) -> tuple[VideoStream, AudioStream | None]:
    """The video and audio streams the pipeline uses; refuses unsupported ones.

    Shared with the transcoder so both always pick the same streams.
    """
    if container.format.name not in VIDEO_CONTAINERS:
        raise MediaRejected(
            "clip_unsupported", _("This file type is not supported. Please upload a video.")
        )
    videos = [
        stream
        for stream in container.streams.video
        # Cover art is stored as a one-picture video stream.
        if not stream.disposition & Disposition.attached_pic
    ]
    if not videos:
        raise MediaRejected("clip_no_video", _("This file has no video in it."))
    video = videos[0]
    if _codec_name(video) not in VIDEO_CODECS:
        raise MediaRejected(
            "clip_unsupported", _("This video is in a format we do not support yet.")
        )
    audios = container.streams.audio
    # Newer iPhones add a spatial-audio track next to the stereo AAC one: take the
    # first track we can read rather than the first track.
    audio = next((s for s in audios if _codec_name(s) in AUDIO_CODECS), None)
    if audios and audio is None:
        raise MediaRejected(
            "clip_unsupported", _("The sound of this video is in a format we do not support.")
        )
    return video, audio


def _probe_video(container: InputContainer, max_duration_s: float) -> ClipInfo:
    video, audio = select_streams(container)
    width, height = video.codec_context.width, video.codec_context.height
    if not width or not height:
        raise MediaRejected("clip_unreadable", UNREADABLE)
    _check_edges(width, height, max_edge=MAX_VIDEO_EDGE)
    duration_s = _duration_s(container, video)
    if duration_s > max_duration_s:
        raise MediaRejected(
            "clip_too_long",
            _("This video is longer than {seconds} seconds."),
            seconds=f"{max_duration_s:g}",
        )
    first = _first_frame(container, video, audio)
    return ClipInfo(
        kind="video",
        container=container.format.name,
        video_codec=_codec_name(video),
        audio_codec=None if audio is None else _codec_name(audio),
        duration_s=duration_s,
        width=width,
        height=height,
        rotation=first.rotation % 360,
    )


def _codec_name(stream: VideoStream | AudioStream) -> str:
    # The codec's name, not the decoder's: AV1 decodes through "libdav1d".
    return stream.codec_context.codec.canonical_name


def _duration_s(container: InputContainer, video: VideoStream) -> float:
    # The container's duration spans every stream, so a long sound track behind a
    # short picture still counts.
    if container.duration is not None:
        return container.duration / av.time_base
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    raise MediaRejected("clip_unreadable", UNREADABLE)


def _first_frame(
    container: InputContainer, video: VideoStream, audio: AudioStream | None
) -> VideoFrame:
    """Decode until the first picture (and the first sound, if any) comes out."""
    # One thread: frame threading would hold the first picture back for several packets.
    video.codec_context.thread_count = 1
    streams = (video,) if audio is None else (video, audio)
    first: VideoFrame | None = None
    heard = audio is None
    try:
        for count, packet in enumerate(container.demux(streams)):
            for frame in packet.decode():
                if not isinstance(frame, VideoFrame):
                    heard = True
                elif first is None:
                    first = frame
            if first is not None and (heard or count >= _PROBE_PACKETS):
                return first
    except av.FFmpegError as exc:
        raise MediaRejected("clip_unreadable", UNREADABLE) from exc
    if first is None:
        raise MediaRejected("clip_unreadable", UNREADABLE)
    return first


def _probe_photo(path: Path) -> ClipInfo | None:
    """Probe `path` as a photo, or return None when it is not one of PHOTO_FORMATS."""
    try:
        image = Image.open(path, formats=PHOTO_FORMATS)
    except UnidentifiedImageError:
        return None
    except Image.DecompressionBombError as exc:
        raise MediaRejected("clip_too_large", _("This photo is too large.")) from exc
    except OSError as exc:
        # Recognised as a photo, but cut off within its headers.
        raise MediaRejected("clip_unreadable", UNREADABLE) from exc
    with image:
        width, height = image.size
        if width * height > MAX_PHOTO_PIXELS:
            raise MediaRejected("clip_too_large", _("This photo is too large."))
        _check_edges(width, height, max_edge=None)
        # Always set by Image.open, which only opens PHOTO_FORMATS here.
        kind = str(image.format).lower()
        try:
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            # A JPEG decodes at 1/8 scale for a fraction of the cost and still reads
            # every byte of its data, which is what proves it is whole.
            image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
        except (OSError, ValueError, SyntaxError) as exc:
            raise MediaRejected("clip_unreadable", UNREADABLE) from exc
    return ClipInfo(
        kind="photo",
        container=kind,
        video_codec=kind,
        audio_codec=None,
        duration_s=0.0,
        width=width,
        height=height,
        rotation=_EXIF_ROTATION.get(orientation, 0),
    )


def _check_edges(width: int, height: int, *, max_edge: int | None) -> None:
    if min(width, height) < MIN_EDGE:
        raise MediaRejected(
            "clip_too_small",
            _("This clip is too small: under {edge} pixels on one side."),
            edge=MIN_EDGE,
        )
    if max_edge is not None and max(width, height) > max_edge:
        raise MediaRejected(
            "clip_too_large",
            _("This video is too large: over {edge} pixels on one side."),
            edge=max_edge,
        )
