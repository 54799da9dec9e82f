"""Media processing for clips: probe what was uploaded, transcode what the apps play.

A pure, synchronous library working on local files; the memories service runs it in a
background job (in a thread) and moves the files to and from storage itself.
"""

from keepsake.media.encode import EncoderSettings, Rendition
from keepsake.media.errors import MediaRejected, RejectionCode
from keepsake.media.probe import ClipInfo, probe
from keepsake.media.transcode import transcode

__all__ = [
    "ClipInfo",
    "EncoderSettings",
    "MediaRejected",
    "RejectionCode",
    "Rendition",
    "probe",
    "transcode",
]
