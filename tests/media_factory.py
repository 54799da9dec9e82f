"""Small real clips and photos for media tests, written with PyAV and Pillow.

Every picture is dark with a white band along its left edge, so a test can tell which
way up a transcoded frame is: turned counterclockwise the band ends at the bottom,
turned clockwise at the top. A saturated red patch sits in its middle, where colour
conversions show.
"""

from __future__ import annotations

import math
import os
from array import array
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

# An address in San Francisco, as an iPhone writes it; tests look for it in outputs.
GPS_ISO6709 = "+37.7749-122.4194+010.000/"
_X265_QUIET = {"x265-params": "log-level=none"}


RED = (200, 30, 30)


def picture(width: int, height: int, shade: int = 40) -> Image.Image:
    """Dark picture with a white band over the left quarter and a red patch in the middle."""
    image = Image.new("RGB", (width, height), (shade, shade, shade))
    image.paste((255, 255, 255), (0, 0, max(1, width // 4), height))
    image.paste(RED, (width * 3 // 8, height * 3 // 8, width * 5 // 8, height * 5 // 8))
    return image


def write_video(
    path: Path,
    *,
    size: tuple[int, int] = (160, 96),
    seconds: float = 1.0,
    rate: int | Fraction = 30,
    codec: str = "libx264",
    audio: str | None = None,
    rotation: int | None = None,
    metadata: dict[str, str] | None = None,
    hdr: bool = False,
    container_format: str | None = None,
) -> Path:
    """Write a clip of `seconds` at `rate` fps: `size` coded pixels, `rotation` as a display
    matrix (counterclockwise degrees), `audio` a codec for a 440 Hz mono 44.1 kHz tone,
    `hdr` for 10-bit HLG/BT.2020 as iPhones record by default."""
    options = {"movflags": "+use_metadata_tags"} if metadata else {}
    with av.open(str(path), "w", format=container_format, options=options) as container:
        container.metadata.update(metadata or {})
        video = container.add_stream(
            codec, rate=rate, options=_X265_QUIET if codec == "libx265" else {}
        )
        assert isinstance(video, VideoStream)
        video.width, video.height = size
        video.pix_fmt = "yuv420p10le" if hdr else "yuv420p"
        if hdr:
            context = video.codec_context
            context.color_primaries = context.colorspace = 9  # BT.2020
            context.color_trc = 18  # ARIB STD-B67 (HLG)
        if codec == "libx265":
            # The tag iPhones write and Apple's players require.
            video.codec_tag = "hvc1"
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = container.add_stream(audio, rate=44_100, layout="mono") if audio else None
        assert sound is None or isinstance(sound, AudioStream)
        frames = max(1, round(seconds * rate))
        for index in range(frames):
            # A slowly changing shade so that frames differ, as in a real recording.
            frame = _frame(picture(*size, shade=40 + index % 20), hdr=hdr)
            frame.pts = index
            frame.time_base = 1 / Fraction(rate)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            for tone in _tone(float(frames / Fraction(rate))):
                container.mux(sound.encode(tone))
            container.mux(sound.encode(None))
    return path


def write_audio_only(path: Path) -> Path:
    """An .m4a voice memo: the MP4 demuxer reads it, but it has no picture."""
    with av.open(str(path), "w", format="mp4") as container:
        sound = container.add_stream("aac", rate=44_100, layout="mono")
        for tone in _tone(0.5):
            container.mux(sound.encode(tone))
        container.mux(sound.encode(None))
    return path


def write_random_bytes(path: Path, size: int = 4096) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def write_truncated(path: Path, source: Path, keep: float = 0.5) -> Path:
    """The first `keep` share of `source`, as an upload cut off half-way."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_photo(
    path: Path,
    *,
    size: tuple[int, int] = (160, 96),
    orientation: int | None = None,
    icc_profile: bytes | None = None,
) -> Path:
    """A JPEG, PNG or HEIC (by suffix) whose stored pixels are `size`, with an optional
    EXIF orientation (6: turn 90° clockwise to view, as a phone held upright writes)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    image = picture(*size)
    extra: dict[str, bytes] = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        extra["exif"] = exif.tobytes()
    if icc_profile is not None:
        extra["icc_profile"] = icc_profile
    image.save(path, None, **extra)
    return path


def _frame(image: Image.Image, *, hdr: bool) -> VideoFrame:
    rgb: VideoFrame = VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
    if not hdr:
        return rgb
    frame = rgb.reformat(format="yuv420p10le", dst_colorspace="ITU709")
    frame.color_primaries = frame.colorspace = 9
    frame.color_trc = 18
    return frame


def _tone(seconds: float, rate: int = 44_100, chunk: int = 1024) -> list[AudioFrame]:
    """A 440 Hz mono tone of `seconds`, in s16 frames of `chunk` samples."""
    total = round(seconds * rate)
    frames = []
    for start in range(0, total, chunk):
        count = min(chunk, total - start)
        step = 2 * math.pi * 440 / rate
        samples = array("h", (int(8000 * math.sin(step * (start + n))) for n in range(count)))
        frame = AudioFrame(format="s16", layout="mono", samples=count)
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        frame.planes[0].update(samples.tobytes())
        frames.append(frame)
    return frames
