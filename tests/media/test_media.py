"""The media library on small real clips: what probing finds, what it refuses, and what
transcoding writes (read back with PyAV, Pillow and the MP4's own boxes)."""

from __future__ import annotations

import importlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from PIL import Image, ImageCms, ImageStat

from keepsake.media import ClipInfo, EncoderSettings, MediaRejected, probe, transcode
from tests.fixtures.media_factory import (
    GPS_ISO6709,
    write_audio_only,
    write_photo,
    write_random_bytes,
    write_truncated,
    write_video,
)

MP4_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"


@dataclass(frozen=True)
class Clips:
    portrait: Path
    rotated_hevc: Path
    silent: Path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    folder = tmp_path_factory.mktemp("clips")
    return Clips(
        # Android: portrait H.264 .mp4 with AAC sound.
        portrait=write_video(folder / "portrait.mp4", size=(96, 160), audio="aac"),
        # iPhone: HEVC .mov coded landscape, shown portrait through its display matrix.
        rotated_hevc=write_video(folder / "rotated.mov", codec="libx265", rotation=90),
        silent=write_video(folder / "silent.mp4"),
    )


@dataclass
class Outputs:
    mp4: Path
    poster: Path


@pytest.fixture
def out(tmp_path: Path) -> Outputs:
    return Outputs(mp4=tmp_path / "out.mp4", poster=tmp_path / "poster.jpg")


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4's top-level boxes, in file order."""
    data, boxes, offset = path.read_bytes(), [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
        elif size == 0:
            size = len(data) - offset
        boxes.append(kind.decode("latin-1"))
        offset += size
    return boxes


def band_side(image: Image.Image) -> str:
    """Where the factory's white band (drawn along the left edge) ended up."""
    gray = image.convert("L")
    w, h = gray.size
    regions = {
        "left": (0, 0, w // 6, h),
        "right": (w - w // 6, 0, w, h),
        "top": (0, 0, w, h // 6),
        "bottom": (0, h - h // 6, w, h),
    }
    return max(regions, key=lambda side: ImageStat.Stat(gray.crop(regions[side])).mean[0])


def rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    pixel = image.convert("RGB").getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


def first_picture(mp4: Path) -> tuple[Image.Image, int]:
    """The first frame a player shows, and the display rotation it would still apply."""
    with av.open(str(mp4)) as container:
        frame = next(container.decode(video=0))
        image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
        return image, frame.rotation


def streams(mp4: Path) -> tuple[VideoStream, AudioStream | None]:
    container = av.open(str(mp4))
    audio = container.streams.audio
    return container.streams.video[0], audio[0] if audio else None


# --- probe -------------------------------------------------------------------------


def test_probe_reads_a_portrait_h264_mp4_with_sound(clips: Clips) -> None:
    info = probe(clips.portrait)

    assert (info.kind, info.container, info.video_codec, info.audio_codec) == (
        "video",
        MP4_DEMUXER,
        "h264",
        "aac",
    )
    assert info.has_audio
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    assert (info.width, info.height, info.rotation) == (96, 160, 0)
    assert (info.display_width, info.display_height) == (96, 160)


def test_probe_reads_the_display_rotation_of_an_hevc_mov(clips: Clips) -> None:
    info = probe(clips.rotated_hevc)

    assert (info.video_codec, info.audio_codec, info.has_audio) == ("hevc", None, False)
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    assert (info.width, info.height, info.rotation) == (160, 96, 90)
    assert (info.display_width, info.display_height) == (96, 160)


@pytest.mark.parametrize(("suffix", "orientation", "expected"), [
    # EXIF 6 (turn clockwise to view) is what a phone held upright writes.
    (".jpg", 6, ClipInfo("photo", "jpeg", "jpeg", None, 0.0, 160, 96, 270)),
    (".png", None, ClipInfo("photo", "png", "png", None, 0.0, 160, 96, 0)),
    # libheif applies HEIF's own rotation while decoding: the pixels come out upright.
    (".heic", 6, ClipInfo("photo", "heif", "heif", None, 0.0, 96, 160, 0)),
])  # fmt: skip
def test_probe_reads_photos(
    tmp_path: Path, suffix: str, orientation: int | None, expected: ClipInfo
) -> None:
    info = probe(write_photo(tmp_path / f"photo{suffix}", orientation=orientation))

    assert info == expected
    assert not info.has_audio
    assert (info.display_width, info.display_height) == ((96, 160) if orientation else (160, 96))


@pytest.mark.parametrize(("encoder", "codec"), [("libsvtav1", "av1"), ("libvpx-vp9", "vp9")])
def test_av1_and_vp9_in_mp4_are_accepted(
    tmp_path: Path, out: Outputs, encoder: str, codec: str
) -> None:
    clip = write_video(tmp_path / "clip.mp4", codec=encoder, size=(64, 64), seconds=0.2)

    assert probe(clip).video_codec == codec
    assert transcode(clip, out.mp4, out.poster).duration_s == pytest.approx(0.2, abs=0.04)


def _long(folder: Path) -> Path:
    # 250 frames of 64x64 at 1 fps: over the 240 s default in a fraction of a second.
    return write_video(folder / "long.mp4", size=(64, 64), rate=1, seconds=250)


def _truncated_jpeg(folder: Path) -> Path:
    return write_truncated(folder / "cut.jpg", write_photo(folder / "whole.jpg"), keep=0.7)


def _gif(folder: Path) -> Path:
    Image.new("RGB", (100, 100)).save(folder / "anim.gif")
    return folder / "anim.gif"


REJECTIONS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("random bytes", lambda d: write_random_bytes(d / "noise.mp4"), "clip_unreadable"),
    ("empty file", lambda d: write_random_bytes(d / "empty.mov", size=0), "clip_unreadable"),
    (
        "mp4 cut before its index",
        lambda d: write_truncated(d / "cut.mp4", write_video(d / "whole.mp4", audio="aac")),
        "clip_unreadable",
    ),
    ("jpeg cut short", _truncated_jpeg, "clip_unreadable"),
    (
        "matroska",
        lambda d: write_video(d / "clip.mkv", container_format="matroska"),
        "clip_unsupported",
    ),
    ("mpeg-4 part 2", lambda d: write_video(d / "old.mp4", codec="mpeg4"), "clip_unsupported"),
    ("gif", _gif, "clip_unsupported"),
    ("voice memo", lambda d: write_audio_only(d / "memo.m4a"), "clip_no_video"),
    ("32 px video", lambda d: write_video(d / "tiny.mp4", size=(32, 32)), "clip_too_small"),
    ("32 px photo", lambda d: write_photo(d / "tiny.png", size=(32, 32)), "clip_too_small"),
    (
        "4160 px wide",
        lambda d: write_video(d / "wide.mp4", size=(4160, 64), seconds=0.1),
        "clip_too_large",
    ),
    ("250 s", _long, "clip_too_long"),
]


@pytest.mark.parametrize(
    ("make", "code"), [case[1:] for case in REJECTIONS], ids=[case[0] for case in REJECTIONS]
)
def test_probe_and_transcode_refuse_with_a_code(
    tmp_path: Path, out: Outputs, make: Callable[[Path], Path], code: str
) -> None:
    clip = make(tmp_path)

    with pytest.raises(MediaRejected) as probed:
        probe(clip)
    with pytest.raises(MediaRejected) as transcoded:
        transcode(clip, out.mp4, out.poster)

    assert probed.value.code == transcoded.value.code == code
    assert probed.value.detail.endswith(".")
    assert not out.mp4.exists()
    assert not out.poster.exists()


def test_the_duration_limit_is_a_parameter(clips: Clips) -> None:
    with pytest.raises(MediaRejected) as rejected:
        probe(clips.portrait, max_duration_s=0.5)

    assert rejected.value.code == "clip_too_long"
    assert "0.5 seconds" in rejected.value.detail


def test_a_missing_file_is_an_error_not_a_rejection(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "gone.mp4")


# --- transcode ---------------------------------------------------------------------


def test_portrait_h264_with_sound(clips: Clips, out: Outputs) -> None:
    rendition = transcode(clips.portrait, out.mp4, out.poster)

    # Never scaled up: 96x160 is already under 720 on the short edge.
    assert (rendition.width, rendition.height) == (96, 160)
    assert rendition.duration_s == pytest.approx(1.0, abs=0.05)
    info = probe(out.mp4)
    assert (info.video_codec, info.audio_codec, info.rotation) == ("h264", "aac", 0)
    assert (info.width, info.height) == (96, 160)
    # AAC works in whole 1024-sample frames, so the sound may run a frame long.
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    video, audio = streams(out.mp4)
    assert video.codec_context.pix_fmt == "yuv420p"
    assert video.average_rate == 30
    assert audio is not None
    assert (audio.codec_context.sample_rate, audio.codec_context.layout.name) == (48000, "stereo")


def test_output_is_fast_start(clips: Clips, out: Outputs) -> None:
    transcode(clips.portrait, out.mp4, out.poster)

    boxes = top_level_boxes(out.mp4)
    assert boxes.index("moov") < boxes.index("mdat")


@pytest.mark.parametrize(("codec", "rotation", "size", "band"), [
    # The iPhone case. Turned counterclockwise, the left edge goes to the bottom.
    ("libx265", 90, (96, 160), "bottom"),
    ("libx264", 270, (96, 160), "top"),
    ("libx264", 180, (160, 96), "right"),
])  # fmt: skip
def test_rotation_is_applied_to_the_pixels(
    tmp_path: Path,
    out: Outputs,
    codec: str,
    rotation: int,
    size: tuple[int, int],
    band: str,
) -> None:
    clip = write_video(tmp_path / "clip.mov", codec=codec, rotation=rotation)

    rendition = transcode(clip, out.mp4, out.poster)

    assert (rendition.width, rendition.height) == size
    picture, display_rotation = first_picture(out.mp4)
    assert picture.size == size
    assert display_rotation == 0
    assert band_side(picture) == band
    with Image.open(out.poster) as poster:
        assert (poster.format, poster.size) == ("JPEG", size)
        assert band_side(poster) == band


def test_a_clip_without_sound_gets_a_silent_track(clips: Clips, out: Outputs) -> None:
    transcode(clips.rotated_hevc, out.mp4, out.poster)

    assert probe(out.mp4).audio_codec == "aac"
    with av.open(str(out.mp4)) as container:
        samples = list(container.decode(audio=0))
    assert sum(frame.samples for frame in samples) >= 48_000
    assert not any(any(bytes(plane)) for frame in samples for plane in frame.planes)


def test_the_short_edge_is_scaled_down_to_even_sizes(clips: Clips, out: Outputs) -> None:
    rendition = transcode(clips.silent, out.mp4, out.poster, max_short_edge=65)

    # 160x96 at 65/96 is 108.3x65, floored to even sides.
    assert (rendition.width, rendition.height) == (108, 64)
    assert (probe(out.mp4).width, probe(out.mp4).height) == (108, 64)
    with Image.open(out.poster) as poster:
        assert poster.size == (108, 64)


def test_metadata_and_gps_are_stripped(tmp_path: Path, out: Outputs) -> None:
    tags = {
        "com.apple.quicktime.location.ISO6709": GPS_ISO6709,
        "location": GPS_ISO6709,
        "title": "Our street",
    }
    clip = write_video(tmp_path / "gps.mov", audio="aac", metadata=tags)
    with av.open(str(clip)) as source:
        assert source.metadata["com.apple.quicktime.location.ISO6709"] == GPS_ISO6709

    transcode(clip, out.mp4, out.poster)

    with av.open(str(out.mp4)) as container:
        found = [container.metadata, *(stream.metadata for stream in container.streams)]
    leaked = {key for meta in found for key in meta} & {*tags, "location-eng"}
    assert not leaked
    assert not {value for meta in found for value in meta.values()} & set(tags.values())
    for written in (out.mp4, out.poster):
        assert b"37.7749" not in written.read_bytes()
        assert b"Our street" not in written.read_bytes()


def test_high_frame_rates_are_capped_at_30(tmp_path: Path, out: Outputs) -> None:
    clip = write_video(tmp_path / "fast.mp4", rate=60, seconds=0.5)

    rendition = transcode(clip, out.mp4, out.poster)

    assert rendition.duration_s == pytest.approx(0.5, abs=0.04)
    video, _ = streams(out.mp4)
    assert video.average_rate == 30
    assert video.frames == 15


@pytest.mark.parametrize("tone_map", [True, False])
def test_hdr_comes_out_as_sdr_bt709(tmp_path: Path, out: Outputs, tone_map: bool) -> None:
    # iPhones record 10-bit HLG by default. Tone-mapped, swscale builds its table once per
    # clip, which makes this the slowest test here (about 2 s).
    clip = write_video(tmp_path / "hdr.mov", codec="libx265", hdr=True, size=(96, 64))

    transcode(clip, out.mp4, out.poster, settings=EncoderSettings(tone_map_hdr=tone_map))

    video, _ = streams(out.mp4)
    context = video.codec_context
    assert context.pix_fmt == "yuv420p"
    assert (context.color_primaries, context.color_trc, context.colorspace) == (1, 1, 1)
    with av.open(str(clip)) as source:
        signal = next(source.decode(video=0)).to_image()  # type: ignore[no-untyped-call]
    picture, _ = first_picture(out.mp4)
    # In the red patch: tone mapping moves a BT.2020 red to BT.709 (about 18 levels off
    # the signal shown as is); without it the signal passes through (about 4).
    red = (48, 32)
    changed = max(abs(a - b) for a, b in zip(rgb(picture, red), rgb(signal, red), strict=True))
    assert (changed > 10) == tone_map


@pytest.mark.parametrize(("suffix", "orientation"), [(".jpg", 6), (".heic", 6), (".png", None)])
def test_a_photo_becomes_an_upright_still_clip(
    tmp_path: Path, out: Outputs, suffix: str, orientation: int | None
) -> None:
    photo = write_photo(tmp_path / f"photo{suffix}", orientation=orientation)

    rendition = transcode(photo, out.mp4, out.poster)

    size = (96, 160) if orientation else (160, 96)
    assert (rendition.width, rendition.height) == size
    assert rendition.duration_s == pytest.approx(3.0)
    info = probe(out.mp4)
    assert (info.video_codec, info.audio_codec, info.rotation) == ("h264", "aac", 0)
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    picture, _ = first_picture(out.mp4)
    # EXIF 6 turns clockwise: the left edge goes to the top.
    assert band_side(picture) == ("top" if orientation else "left")
    with Image.open(out.poster) as poster:
        assert poster.size == size
        assert band_side(poster) == band_side(picture)


def test_still_seconds_sets_the_length_of_a_photo_clip(tmp_path: Path, out: Outputs) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = write_photo(tmp_path / "photo.jpg", size=(1600, 900), icc_profile=srgb)

    rendition = transcode(photo, out.mp4, out.poster, still_seconds=1.5)

    assert (rendition.width, rendition.height, rendition.duration_s) == (1280, 720, 1.5)
    assert probe(out.mp4).duration_s == pytest.approx(1.5, abs=0.05)
    with pytest.raises(ValueError, match="positive"):
        transcode(photo, out.mp4, out.poster, still_seconds=0)


def test_a_file_broken_after_its_first_frames_fails_and_leaves_nothing(
    tmp_path: Path, clips: Clips, out: Outputs
) -> None:
    # A fast-start MP4 keeps its index first, so a cut one still probes as whole.
    whole = tmp_path / "whole.mp4"
    transcode(write_video(tmp_path / "long.mp4", seconds=3, audio="aac"), whole, out.poster)
    cut = write_truncated(tmp_path / "cut.mp4", whole, keep=0.6)
    assert probe(cut).duration_s == pytest.approx(3.0, abs=0.05)
    out.mp4.write_bytes(b"from an earlier attempt")

    with pytest.raises(MediaRejected) as rejected:
        transcode(cut, out.mp4, out.poster)

    assert rejected.value.code == "clip_unreadable"
    assert not out.mp4.exists()
    assert not out.poster.exists()


def test_a_duration_understated_by_the_headers_is_caught_while_decoding(
    tmp_path: Path, out: Outputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_video(tmp_path / "clip.mp4", size=(64, 64), rate=5, seconds=3)
    real_probe = probe
    # As if the headers claimed less than the limit: the probe lets it through. (The
    # package's `transcode` function hides the module of the same name.)
    monkeypatch.setattr(
        importlib.import_module("keepsake.media.transcode"),
        "probe",
        lambda path, max_duration_s: real_probe(path, max_duration_s=float("inf")),
    )

    with pytest.raises(MediaRejected) as rejected:
        transcode(clip, out.mp4, out.poster, max_duration_s=1)

    assert rejected.value.code == "clip_too_long"
    assert not out.mp4.exists()
