"""The one error of the media library: a clip the pipeline refuses, with a reason to show."""

from __future__ import annotations

from typing import Literal

from keepsake.i18n.catalog import _

RejectionCode = Literal[
    "clip_unreadable",
    "clip_unsupported",
    "clip_too_long",
    "clip_too_small",
    "clip_too_large",
    "clip_no_video",
]


class MediaRejected(Exception):
    """The clip itself is the problem, so retrying cannot help.

    `code` is stable and snake_case for the apps to switch on; `message` is a catalog
    message, translated into the author's language with `params` filling its named
    placeholders, and `detail` its English text. Anything else raised by this package (a
    missing file, a full disk) is an operational failure worth retrying.
    """

    def __init__(self, code: RejectionCode, message: str, **params: object) -> None:
        self.code: RejectionCode = code
        self.message = message
        self.params = params
        self.detail = message.format(**params)
        super().__init__(f"{code}: {self.detail}")


UNREADABLE = _("This file could not be read. It may be damaged or only partly uploaded.")
