"""Seconds to transcode a 60 s 720p clip on one core, per libx264 preset.

Run: `.venv/bin/python bench/transcode.py [--presets ultrafast,veryfast] [--no-iphone]`.
It writes a 60 s 1280x720 30 fps H.264 + AAC source clip with PyAV (FFmpeg's `testsrc2`
pattern under light moving grain, at a phone's bit rate, so the encoder has real work),
then pins itself to one CPU (the decoder and encoder also run one thread each, as in the
worker) and times `keepsake.media.transcode` on it once per preset: CPU seconds (and
wall time, which other load on the machine inflates), their ratio to the clip's duration
(the budget is 0.5) and the output size (`--max-kbps 0` lifts the bit-rate cap to compare
the presets' compression). Then, unless `--no-iphone`, it does the same on what an iPhone
records by default (1920x1080 HEVC, 10-bit HLG, 90° display rotation), with HDR tone
mapping and without. Sources are cached in the temp folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import av
import av.filter
from av.audio.frame import AudioFrame

from keepsake.media import EncoderSettings, probe, transcode
from keepsake.media.encode import DEFAULT_SETTINGS

SECONDS = 60
RATE = 30
BUDGET = 0.5
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")
CACHE = Path(tempfile.gettempdir()) / "keepsake-bench-media"


def pin_to_one_cpu() -> int:
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def pattern(width: int, height: int) -> av.filter.Graph:
    """FFmpeg's moving test pattern with temporal grain, like a lightly noisy camera."""
    graph = av.filter.Graph()
    graph.link_nodes(
        graph.add("testsrc2", size=f"{width}x{height}", rate=str(RATE), duration=str(SECONDS)),
        graph.add("noise", alls="3", allf="t"),
        graph.add("buffersink"),
    ).configure()
    return graph


def tone() -> av.filter.Graph:
    graph = av.filter.Graph()
    graph.link_nodes(
        graph.add("sine", frequency="440", sample_rate="48000", duration=str(SECONDS)),
        graph.add("abuffersink"),
    ).configure()
    return graph


def write_source(path: Path, *, width: int, height: int, iphone: bool) -> Path:
    """Write the source clip once, at about a phone's bit rate (10 Mb/s for 720p H.264,
    16 Mb/s for 1080p HDR HEVC)."""
    if path.exists():
        return path
    partial = path.with_suffix(".partial" + path.suffix)
    with av.open(str(partial), "w", format="mov" if iphone else "mp4") as container:
        if iphone:
            video = container.add_stream(
                "libx265",
                rate=RATE,
                options={
                    "preset": "ultrafast",
                    "crf": "20",
                    "x265-params": "log-level=none:vbv-maxrate=16000:vbv-bufsize=32000",
                },
            )
            video.pix_fmt = "yuv420p10le"
            context = video.codec_context
            context.color_primaries = context.colorspace = 9  # BT.2020
            context.color_trc = 18  # HLG
            # Coded landscape, shown portrait, as a phone held upright records.
            video.set_display_rotation(90)
        else:
            video = container.add_stream(
                "libx264",
                rate=RATE,
                options={"preset": "veryfast", "crf": "18", "maxrate": "10M", "bufsize": "20M"},
            )
            video.pix_fmt = "yuv420p"
        video.width, video.height = width, height
        audio = container.add_stream("aac", rate=48_000, layout="stereo")
        frames, sounds = pattern(width, height), tone()
        heard = 0.0
        while True:
            try:
                frame = frames.vpull()
            except av.error.EOFError:
                break
            if iphone:
                frame = frame.reformat(format="yuv420p10le")
                frame.color_primaries = frame.colorspace = 9
                frame.color_trc = 18
            container.mux(video.encode(frame))
            # Keep the sound level with the picture so the file interleaves as a phone's.
            while heard <= (frame.time or 0.0):
                try:
                    sound = sounds.pull()
                except av.error.EOFError:
                    break
                assert isinstance(sound, AudioFrame)
                heard += sound.samples / sound.sample_rate
                container.mux(audio.encode(sound))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    partial.rename(path)
    return path


def run(source: Path, settings: EncoderSettings) -> tuple[float, float, int, str]:
    out, poster = CACHE / "out.mp4", CACHE / "out.jpg"
    wall, cpu = time.perf_counter(), time.process_time()
    rendition = transcode(source, out, poster, settings=settings)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu, wall, out.stat().st_size, f"{rendition.width}x{rendition.height}"


def report(label: str, source: Path, settings: EncoderSettings) -> None:
    # CPU seconds are what "one core" buys: unlike wall time they hold on a busy machine.
    cpu, wall, size, dims = run(source, settings)
    ratio = cpu / SECONDS
    kbps = size * 8 / SECONDS / 1000
    verdict = "ok" if ratio <= BUDGET else "over budget"
    print(
        f"{label:<40} {cpu:6.1f} s CPU ({wall:5.1f} s wall)  {ratio:5.2f} x duration  "
        f"{size / 1e6:5.1f} MB  {kbps:5.0f} kb/s  {dims:>9}  {verdict}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument(
        "--max-kbps",
        type=int,
        default=DEFAULT_SETTINGS.max_kbps,
        help="bit-rate cap; 0 for none (shows each preset's own compression)",
    )
    parser.add_argument("--no-iphone", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    print(f"writing sources (cached in {CACHE}) ...", flush=True)
    android = write_source(CACHE / "source-720p-h264.mp4", width=1280, height=720, iphone=False)
    iphone = None
    if not args.no_iphone:
        iphone = write_source(CACHE / "source-1080p-hlg.mov", width=1920, height=1080, iphone=True)
    # Only the timed part runs on one core; writing the sources may use them all.
    cpu = pin_to_one_cpu()
    print(f"pinned to CPU {cpu}; PyAV {av.__version__}; FFmpeg {av.ffmpeg_version_info}")
    info = probe(android)
    base = replace(DEFAULT_SETTINGS, max_kbps=args.max_kbps or None)
    print(
        f"source: {info.width}x{info.height} {info.video_codec}+{info.audio_codec}, "
        f"{info.duration_s:.1f} s, {android.stat().st_size / 1e6:.1f} MB; crf {base.crf}, "
        f"cap {base.max_kbps or 'none'} kb/s, {base.threads} thread(s); budget {BUDGET} x duration"
    )
    for preset in args.presets.split(","):
        report(f"720p H.264 -> {preset}", android, replace(base, preset=preset))
    if iphone is not None:
        for tone_map in (True, False):
            label = f"1080p HLG HEVC -> {base.preset}, " + ("tone-mapped" if tone_map else "as SDR")
            report(label, iphone, replace(base, tone_map_hdr=tone_map))


if __name__ == "__main__":
    main()
