"""Turn an accepted clip into what the apps play: an upright H.264/AAC MP4 and a poster."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.filter
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.filter.context import FilterContext
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from keepsake.i18n.catalog import _
from keepsake.media.encode import (
    DEFAULT_SETTINGS,
    ClipWriter,
    EncoderSettings,
    Rendition,
    fit,
    save_poster,
)
from keepsake.media.errors import UNREADABLE, MediaRejected
from keepsake.media.probe import DEFAULT_MAX_DURATION_S, ClipInfo, probe, select_streams
from keepsake.media.still import still_clip

DEFAULT_STILL_SECONDS = 3.0
MAX_FRAME_RATE = Fraction(30)
# The first frames of a phone video are often dark or blurred while the camera settles.
POSTER_AT_S = 0.5
# FFmpeg's AVCOL_TRC_SMPTE2084 (PQ: HDR10, Dolby Vision) and AVCOL_TRC_ARIB_STD_B67 (HLG).
_HDR_TRANSFERS = frozenset({16, 18})
# Headers can understate a duration; decoding this far past the limit proves they lied.
_DURATION_SLACK_S = 1.0


def transcode(
    src: str | Path,
    dst_mp4: str | Path,
    dst_poster_jpg: str | Path,
    *,
    max_short_edge: int = 720,
    still_seconds: float | None = None,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    settings: EncoderSettings = DEFAULT_SETTINGS,
) -> Rendition:
    """Probe `src`, then write its rendition to `dst_mp4` and its poster to `dst_poster_jpg`.

    Videos keep their duration; photos become still clips of `still_seconds` (default 3).
    Raises `MediaRejected` for a clip the pipeline refuses; on any failure neither output
    file is left behind. Streams frames through, so memory stays flat whatever the length.
    """
    if still_seconds is not None and still_seconds <= 0:
        raise ValueError("still_seconds must be positive")
    src, mp4, poster = Path(src), Path(dst_mp4), Path(dst_poster_jpg)
    try:
        info = probe(src, max_duration_s=max_duration_s)
        if info.kind == "photo":
            return still_clip(
                src,
                mp4,
                poster,
                max_short_edge=max_short_edge,
                seconds=DEFAULT_STILL_SECONDS if still_seconds is None else still_seconds,
                settings=settings,
            )
        return _transcode_video(src, mp4, poster, info, max_short_edge, max_duration_s, settings)
    except BaseException:
        mp4.unlink(missing_ok=True)
        poster.unlink(missing_ok=True)
        raise


def _transcode_video(
    src: Path,
    mp4: Path,
    poster: Path,
    info: ClipInfo,
    max_short_edge: int,
    max_duration_s: float,
    settings: EncoderSettings,
) -> Rendition:
    size = fit(info.display_width, info.display_height, max_short_edge)
    with av.open(str(src), metadata_errors="ignore") as source:
        video, audio = select_streams(source)
        video.codec_context.thread_count = settings.threads
        # Frame threading, where more than one thread is allowed, is what speeds up
        # H.264/HEVC decoding; PyAV's default is slice threading.
        video.codec_context.thread_type = "AUTO"
        rate = _output_rate(video)
        writer = ClipWriter(mp4, width=size[0], height=size[1], rate=rate, settings=settings)
        sink = _Sink(writer, poster, silent=audio is None)
        graph: av.filter.Graph | None = None
        try:
            for frame in _decoded(source, video, audio):
                if frame.time is not None and frame.time > max_duration_s + _DURATION_SLACK_S:
                    raise MediaRejected(
                        "clip_too_long",
                        _("This video is longer than {seconds} seconds."),
                        seconds=f"{max_duration_s:g}",
                    )
                if isinstance(frame, AudioFrame):
                    writer.add_audio(frame)
                    continue
                if graph is None:
                    graph = _picture_graph(frame, video, rate, info.rotation, size, settings)
                graph.push(frame)
                sink.write_all(graph)
            if graph is not None:
                graph.push(None)
                sink.write_all(graph)
            sink.finish()
        except BaseException:
            writer.abort()
            raise
    return Rendition(duration_s=writer.duration_s, width=size[0], height=size[1])


class _Sink:
    """Takes upright frames out of the filter graph into the writer, and picks the poster:
    the first frame shown at POSTER_AT_S or later, or the last one of a shorter clip."""

    def __init__(self, writer: ClipWriter, poster: Path, *, silent: bool) -> None:
        self._writer = writer
        self._poster = poster
        self._silent = silent
        self._last: VideoFrame | None = None
        self._poster_saved = False

    def write_all(self, graph: av.filter.Graph) -> None:
        while True:
            try:
                frame = graph.vpull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            shown_at = self._writer.duration_s
            self._writer.add_video(frame)
            if self._silent:
                self._writer.add_silence()
            if not self._poster_saved and shown_at >= POSTER_AT_S:
                save_poster(frame, self._poster)
                self._poster_saved = True
            self._last = frame

    def finish(self) -> None:
        if self._last is None:
            raise MediaRejected("clip_unreadable", UNREADABLE)
        if not self._poster_saved:
            save_poster(self._last, self._poster)
        self._writer.close()


def _output_rate(video: VideoStream) -> Fraction:
    """The source's frame rate, capped at 30 fps (a 60 or 240 fps phone clip plays at 30)."""
    rate = video.average_rate or video.guessed_rate
    if not rate or rate > MAX_FRAME_RATE:
        return MAX_FRAME_RATE
    # Phones record at a variable rate; its average (29.97..., 24.02...) is close enough.
    return rate.limit_denominator(1001)


def _decoded(
    source: InputContainer, video: VideoStream, audio: AudioStream | None
) -> Iterator[VideoFrame | AudioFrame]:
    """Demux and decode in file order, so sound and picture arrive interleaved."""
    streams = (video,) if audio is None else (video, audio)
    try:
        for packet in source.demux(streams):
            for frame in packet.decode():
                if isinstance(frame, VideoFrame | AudioFrame):
                    yield frame
    except av.FFmpegError as exc:
        # Only reading the source fails here: encoding and writing happen in the caller's
        # loop, outside this generator, so their errors are never blamed on the clip.
        raise MediaRejected("clip_unreadable", UNREADABLE) from exc


def _picture_graph(
    first: VideoFrame,
    video: VideoStream,
    rate: Fraction,
    rotation: int,
    size: tuple[int, int],
    settings: EncoderSettings,
) -> av.filter.Graph:
    """fps -> scale (+ colour conversion) -> yuv420p -> turn, ending at the upright `size`.

    Built from the first decoded frame: only decoding tells the pixel format for sure."""
    graph = av.filter.Graph()
    graph.threads = settings.threads
    # Scaled before turning, so the turn moves the fewest pixels.
    width, height = (size[1], size[0]) if rotation in (90, 270) else size
    nodes: list[FilterContext] = [
        graph.add_buffer(
            width=first.width, height=first.height, format=first.format, time_base=video.time_base
        ),
        graph.add("fps", fps=str(rate)),
        graph.add("scale", w=str(width), h=str(height), **_colour_conversion(first, settings)),
        graph.add("format", pix_fmts="yuv420p"),
        *_turn(graph, rotation),
        graph.add("buffersink"),
    ]
    graph.link_nodes(*nodes).configure()
    return graph


def _colour_conversion(first: VideoFrame, settings: EncoderSettings) -> dict[str, str]:
    """Scale options that bring the source to the SDR BT.709 the output is tagged as."""
    # BT.601 (older Android) and BT.2020 (HDR) sources get BT.709 coefficients.
    options = {"out_color_matrix": "bt709", "out_range": "tv"}
    if settings.tone_map_hdr and first.color_trc in _HDR_TRANSFERS:
        # iPhones record HDR (HLG, BT.2020) by default; FFmpeg 8's swscale tone-maps it
        # itself (no zscale needed). Only for HDR: converting the primaries of an SDR
        # source too would cost as much and change nothing one could see.
        options |= {"out_primaries": "bt709", "out_transfer": "bt709", "intent": "perceptual"}
    return options


def _turn(graph: av.filter.Graph, rotation: int) -> list[FilterContext]:
    """Filters that turn the picture counterclockwise by `rotation` degrees."""
    if rotation == 90:
        return [graph.add("transpose", dir="cclock")]
    if rotation == 270:
        return [graph.add("transpose", dir="clock")]
    if rotation == 180:
        return [graph.add("hflip"), graph.add("vflip")]
    return []
