"""Avatars: an image upload turned upright, cropped square and saved as small JPEGs.

The renditions carry no metadata at all: a phone photo's EXIF holds where it was taken
(GPS), when, and on which device, none of which an avatar may give away.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import anyio.to_thread
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

from keepsake.accounts.people import AvatarPublic
from keepsake.config import Settings
from keepsake.errors import Invalid
from keepsake.i18n.catalog import _
from keepsake.images import to_srgb
from keepsake.storage import keys
from keepsake.storage.base import Storage

register_heif_opener()

# Rendition edge in pixels by name; each is stored as `{avatar_key}/{edge}.jpg`.
SIZES = {"small": 96, "medium": 320, "large": 640}
FORMATS = ("JPEG", "PNG", "HEIF", "WEBP")
QUALITY = 85
MIN_EDGE = 32
# Above the 48-50 MP sensors of current phones, below Pillow's decompression-bomb limit,
# and checked on the header before a single pixel is decoded.
MAX_PIXELS = 64_000_000

_WHITE = (255, 255, 255)


class InvalidImage(Invalid):
    code = "invalid_image"


def render(src: Path, folder: Path) -> dict[int, Path]:
    """Write the image at `src` as square JPEGs into `folder`, by rendition edge.

    A source smaller than a rendition is not scaled up: that rendition is smaller.
    """
    src.stat()  # A missing file is an operational failure, not a bad image.
    try:
        with Image.open(src, formats=FORMATS) as image:
            _check_size(image.width, image.height)
            # A JPEG decodes straight at 1/2, 1/4 or 1/8 scale, still covering the largest
            # rendition: a 12 MP photo never sits in memory at full size.
            scale = max(SIZES.values()) / min(image.width, image.height)
            if scale < 1:
                image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
            icc = image.info.get("icc_profile")
            upright = ImageOps.exif_transpose(image)
        # Cropped first, so the colour conversion handles only the pixels kept.
        square = to_srgb(_flatten(_center_square(upright)), icc)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except (OSError, ValueError, SyntaxError) as exc:
        # Pillow reports undecodable data with any of these, depending on the format.
        raise _invalid(_("This file is not an image we can read.")) from exc
    written = {}
    for edge in SIZES.values():
        size = min(edge, square.width)
        rendition = square.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
        # Nothing from the source may ride along (a JPEG comment, say).
        rendition.info.clear()
        path = folder / f"{edge}.jpg"
        rendition.save(path, "JPEG", quality=QUALITY, optimize=True, progressive=True)
        written[edge] = path
    return written


async def store(storage: Storage, *, user_id: uuid.UUID, source_key: str) -> str:
    """Render the uploaded image and store its renditions; the new avatar's key.

    Each avatar gets a fresh key, so a cached old picture can never pose as the new one.
    """
    key = keys.avatar(user_id)
    with tempfile.TemporaryDirectory(prefix="keepsake-avatar-") as folder:
        work = Path(folder)
        source = work / "source"
        await storage.download(source_key, source)
        files = await anyio.to_thread.run_sync(render, source, work)
        for edge, path in files.items():
            await storage.upload_file(keys.avatar_rendition(key, edge), path, "image/jpeg")
    return key


async def view(settings: Settings, storage: Storage, avatar_key: str | None) -> AvatarPublic | None:
    """Signed URLs of the avatar's renditions, or None when there is no avatar."""
    if avatar_key is None:
        return None
    ttl = settings.media_url_ttl

    async def url(edge: int) -> str:
        return await storage.media_url(keys.avatar_rendition(avatar_key, edge), expires_in=ttl)

    return AvatarPublic(
        small=await url(SIZES["small"]),
        medium=await url(SIZES["medium"]),
        large=await url(SIZES["large"]),
    )


def _check_size(width: int, height: int) -> None:
    if min(width, height) < MIN_EDGE:
        raise _invalid(_("An avatar needs at least {edge} pixels on each side."), edge=MIN_EDGE)
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()


def _too_many_pixels() -> InvalidImage:
    return _invalid(
        _("An avatar may have at most {megapixels} megapixels."),
        megapixels=MAX_PIXELS // 1_000_000,
    )


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent pixels over white, as the apps show avatars on a light background."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image


def _center_square(image: Image.Image) -> Image.Image:
    edge = min(image.width, image.height)
    left = (image.width - edge) // 2
    top = (image.height - edge) // 2
    return image.crop((left, top, left + edge, top + edge))


def _invalid(detail: str, **params: object) -> InvalidImage:
    return InvalidImage(detail, code=InvalidImage.code, field="avatar_upload_id", params=params)
