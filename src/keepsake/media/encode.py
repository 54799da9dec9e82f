"""The output side shared by videos and photos: an H.264/AAC fast-start MP4 and a poster."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.video.frame import VideoFrame

AUDIO_RATE = 48_000
AUDIO_BIT_RATE = 128_000
# A keyframe every 2 s keeps seeking and scrubbing in the apps snappy.
KEYFRAME_SECONDS = 2
POSTER_QUALITY = 85
# FFmpeg's colour enums (AVCOL_*): every output is tagged plain SDR BT.709 video.
_BT709 = 1
_LIMITED_RANGE = 1


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    """How clips are encoded; the defaults were chosen with bench/transcode.py.

    `crf` sets the quality; `max_kbps` caps the bit rate where that quality would cost
    viewers too much data (grainy low-light clips), as streaming services do (None: no
    cap). `threads` is per clip: with one, a clip costs one core, so a worker running N
    clips at once needs N cores and never oversubscribes them. `tone_map_hdr` converts
    HDR (the iPhone default) to SDR properly, for about 25 ms of CPU per 720p frame (a
    60 s iPhone clip: 80 s instead of 34 s on one core); without it the HDR signal is
    shown as SDR, with flatter, paler colours.
    """

    preset: str = "veryfast"
    crf: int = 23
    max_kbps: int | None = 3000
    threads: int = 1
    tone_map_hdr: bool = True


DEFAULT_SETTINGS = EncoderSettings()


@dataclass(frozen=True, slots=True)
class Rendition:
    """The transcoded clip: its duration and the size of both the video and the poster."""

    duration_s: float
    width: int
    height: int


def fit(width: int, height: int, max_short_edge: int) -> tuple[int, int]:
    """Scale (width, height) so the short edge is at most `max_short_edge`, never up,
    with even sides as yuv420p requires (rounded down, so never above the source)."""
    scale = min(1.0, max_short_edge / min(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def save_poster(frame: VideoFrame, path: Path) -> None:
    # Pillow writes no EXIF or other metadata unless asked to. (PyAV's stubs leave
    # to_image unannotated.)
    image = frame.to_image()  # type: ignore[no-untyped-call]
    image.save(path, "JPEG", quality=POSTER_QUALITY, optimize=True)


class ClipWriter:
    """Writes an MP4 from upright, sized yuv420p frames and any audio frames.

    Video is constant frame rate: the n-th frame written is shown at n / rate whatever
    its timestamp was. Every output has a stereo AAC track, silent where the source had
    no sound, so every clip of a memory has the same tracks for the players to chain.
    """

    def __init__(
        self,
        path: Path,
        *,
        width: int,
        height: int,
        rate: Fraction,
        settings: EncoderSettings,
    ) -> None:
        # Written from scratch, so no metadata of the source (GPS above all) can leak.
        self._container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self._rate = rate
        options = {"preset": settings.preset, "crf": str(settings.crf)}
        if settings.max_kbps is not None:
            # A 2 s buffer: the cap holds over a GOP, not frame by frame.
            options |= {"maxrate": f"{settings.max_kbps}k", "bufsize": f"{2 * settings.max_kbps}k"}
        video = self._container.add_stream("libx264", rate=rate, options=options)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        context = video.codec_context
        context.thread_count = settings.threads
        context.gop_size = max(1, round(rate * KEYFRAME_SECONDS))
        context.color_primaries = context.color_trc = context.colorspace = _BT709
        context.color_range = _LIMITED_RANGE
        self._video = video
        audio = self._container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        audio.bit_rate = AUDIO_BIT_RATE
        self._audio = audio
        # The encoder regroups frames into AAC's 1024 samples itself; this resampler only
        # brings every source to one format so that silence can follow real sound.
        self._to_stereo = AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        self._frames = 0
        self._samples = 0

    @property
    def duration_s(self) -> float:
        return float(self._frames / self._rate)

    def add_video(self, frame: VideoFrame) -> None:
        frame.pts = self._frames
        frame.time_base = 1 / self._rate
        self._frames += 1
        self._container.mux(self._video.encode(frame))

    def add_audio(self, frame: AudioFrame) -> None:
        for converted in self._to_stereo.resample(frame):
            self._encode_audio(converted)

    def add_silence(self) -> None:
        """Fill the sound track with silence up to the end of the last video frame;
        called as video is written so that the file stays interleaved."""
        missing = round(self.duration_s * AUDIO_RATE) - self._samples
        while missing > 0:
            samples = min(missing, 1024)
            silence = AudioFrame(format="fltp", layout="stereo", samples=samples)
            silence.sample_rate = AUDIO_RATE
            for plane in silence.planes:
                plane.update(bytes(plane.buffer_size))
            self._encode_audio(silence)
            missing -= samples

    def close(self) -> None:
        for converted in self._to_stereo.resample(None):
            self._encode_audio(converted)
        # A sound track shorter than the picture is padded, so the track spans the clip.
        self.add_silence()
        self._container.mux(self._video.encode(None))
        self._container.mux(self._audio.encode(None))
        self._container.close()

    def abort(self) -> None:
        # The half-written file is deleted by the caller; finishing it may fail too.
        with suppress(av.FFmpegError):
            self._container.close()

    def _encode_audio(self, frame: AudioFrame) -> None:
        # Sound is laid end to end from 0: phones record it without gaps, and counting
        # samples keeps it in step with the picture, which also starts at 0.
        frame.pts = self._samples
        frame.time_base = Fraction(1, AUDIO_RATE)
        self._samples += frame.samples
        self._container.mux(self._audio.encode(frame))
