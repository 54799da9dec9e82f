"""Colour handling shared by still clips and avatars."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageCms

_SRGB = ImageCms.createProfile("sRGB")


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB in sRGB: phones tag their photos Display P3, which shown as is looks washed out."""
    if icc:
        try:
            converted = ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(BytesIO(icc)), _SRGB, outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            # A broken profile is no reason to refuse the picture; its colours are close.
            return image.convert("RGB")
        if converted is not None:
            return converted
    return image.convert("RGB")
