"""Photo clips: a JPEG, PNG or HEIC becomes a still video of a chosen length."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from av.video.frame import VideoFrame
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, ImageOps

from keepsake.images import to_srgb
from keepsake.media.encode import (
    POSTER_QUALITY,
    ClipWriter,
    EncoderSettings,
    Rendition,
    fit,
)
from keepsake.media.probe import PHOTO_FORMATS

# The same rate as video clips, so players chain photo and video clips without a
# frame-rate switch; x264 codes the repeated frames as near-empty skips, so the extra
# frames cost a few bytes each.
STILL_RATE = Fraction(30)


def still_clip(
    src: Path,
    mp4: Path,
    poster: Path,
    *,
    max_short_edge: int,
    seconds: float,
    settings: EncoderSettings,
) -> Rendition:
    """Write `src` (a probed photo) as a `seconds`-long still clip and its poster."""
    image = _load_upright(src, max_short_edge)
    image.save(poster, "JPEG", quality=POSTER_QUALITY, optimize=True)
    # PyAV's stubs leave from_image unannotated.
    rgb = VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
    picture = rgb.reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
    )
    writer = ClipWriter(
        mp4, width=image.width, height=image.height, rate=STILL_RATE, settings=settings
    )
    try:
        for _ in range(max(1, round(seconds * STILL_RATE))):
            writer.add_video(picture)
            writer.add_silence()
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return Rendition(duration_s=writer.duration_s, width=image.width, height=image.height)


def _load_upright(src: Path, max_short_edge: int) -> Image.Image:
    """The photo turned upright per its EXIF orientation, in sRGB, sized for the clip."""
    with Image.open(src, formats=PHOTO_FORMATS) as image:
        # A JPEG can decode straight at 1/2, 1/4 or 1/8 scale, still at least this size:
        # a 12 MP photo then never sits in memory at full size.
        image.draft("RGB", fit(image.width, image.height, max_short_edge))
        upright = to_srgb(ImageOps.exif_transpose(image), image.info.get("icc_profile"))
    return upright.resize(
        fit(upright.width, upright.height, max_short_edge),
        Image.Resampling.LANCZOS,
        reducing_gap=2.0,
    )
