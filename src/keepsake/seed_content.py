"""What seeded data looks like: names, captions, hashtags, and the tiny real media.

The media are shaped like the pipeline's output (portrait H.264 in MP4, a JPEG poster)
so that an app or a load test following a seeded memory's URLs gets something it can
play, yet small enough (a few kB) that serving them costs next to nothing. A few
variants are stored once under `seed/` and shared by every seeded clip.
"""

from __future__ import annotations

import tempfile
import uuid
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

from keepsake.storage.base import Storage

EMAIL_DOMAIN = "seed.example.com"
NAMESPACE = uuid.UUID("6f1f4c6e-8d0a-4f0e-9b7e-5eed5eed5eed")
CLIP_SIZE = (180, 320)
CLIP_SECONDS = 1.0
MEDIA_VARIANTS = 3
_FPS = 15
_COLOURS = ((214, 140, 90), (90, 150, 200), (120, 180, 110))

NAMES = [
    *("Mina", "Theo", "Ada", "Jun", "Lea", "Omar", "Sana", "Ivo", "Noa", "Ravi"),
    *("Ines", "Kai", "Yuki", "Lars", "Amara", "Tomas", "Zoe", "Bruno", "Hana", "Felix"),
]
PHRASES = [
    "first snow on the way home",
    "coffee before anyone woke up",
    "the dog found the same stick again",
    "evening light on the kitchen wall",
    "grandma's soup, finally right",
    "slow walk by the sea",
    "the bus was late and that was fine",
    "tomatoes from the balcony",
    "rain on the window all afternoon",
    "our street after the market closed",
]
# Most popular first: the first tag's hashtag feed is long, the last one's short.
TAGS = [
    *("walk", "sunset", "coffee", "home", "rain", "friends", "snow", "sea", "garden"),
    *("cooking", "dog", "cat", "morning", "music", "bike", "books", "market", "autumn"),
]


def media_keys(variant: int) -> tuple[str, str]:
    return f"seed/clip-{variant}.mp4", f"seed/clip-{variant}.jpg"


def picture(variant: int, frame: int = 0) -> Image.Image:
    """A calm coloured card with a light band that moves, so that frames differ."""
    image = Image.new("RGB", CLIP_SIZE, _COLOURS[variant % len(_COLOURS)])
    top = (frame * 12) % CLIP_SIZE[1]
    image.paste((245, 240, 230), (0, top, CLIP_SIZE[0], min(CLIP_SIZE[1], top + 24)))
    return image


def write_media(folder: Path, variant: int) -> tuple[Path, Path]:
    """`clip-<variant>.mp4` and `clip-<variant>.jpg` in `folder`."""
    video_path, poster_path = folder / f"clip-{variant}.mp4", folder / f"clip-{variant}.jpg"
    with av.open(str(video_path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=_FPS)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = CLIP_SIZE
        stream.pix_fmt = "yuv420p"
        for index in range(round(CLIP_SECONDS * _FPS)):
            # PyAV's stubs leave from_image unannotated.
            frame = VideoFrame.from_image(picture(variant, index))  # type: ignore[no-untyped-call]
            frame.pts, frame.time_base = index, Fraction(1, _FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    picture(variant).save(poster_path, "JPEG", quality=80)
    return video_path, poster_path


async def store_media(storage: Storage) -> None:
    """Write the shared media; replacing them on every run keeps them in step with code."""
    with tempfile.TemporaryDirectory(prefix="keepsake-seed-") as folder:
        for variant in range(MEDIA_VARIANTS):
            video, poster = write_media(Path(folder), variant)
            video_key, poster_key = media_keys(variant)
            await storage.upload_file(video_key, video, "video/mp4")
            await storage.upload_file(poster_key, poster, "image/jpeg")


def handle(n: int) -> str:
    return f"seed_user_{n:05d}"


def email(n: int) -> str:
    return f"{handle(n)}@{EMAIL_DOMAIN}"


def seed_id(kind: str, key: int | str) -> uuid.UUID:
    """As `pg_temp.seed_id` computes it in SQL (`keepsake.seed_sql`), where rows are made."""
    return uuid.uuid3(NAMESPACE, f"{kind}:{key}")
