"""Attachments (scans and photos): what is accepted, and how a stored one is served.

Only PNG, JPEG and PDF are accepted, decided by the content — the signature *and* the file's structure
(a PNG's chunks down to IEND with their checksums, a JPEG's segments up to the image data, a PDF's
header and end marker) — never by the name or the type the browser sends: a PNG header followed by an
HTML page (`现场照片.html`) or an SVG is refused. The stored name takes the extension of the sniffed kind.

Serving sniffs the stored bytes again (files stored before these checks may have any name) and takes
the Content-Type from their signature alone; anything else goes out as an opaque download.
Every such response carries `X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy,
so even a file that slipped through could not run script or navigate as a page of this site.
"""

import struct
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse


@dataclass(frozen=True)
class FileKind:
    label: str
    content_type: str
    extension: str
    inline: bool  # shown in the browser (images) rather than downloaded


PNG = FileKind("PNG", "image/png", "png", True)
JPEG = FileKind("JPEG", "image/jpeg", "jpg", True)
PDF = FileKind("PDF", "application/pdf", "pdf", False)
OPAQUE = FileKind("", "application/octet-stream", "bin", False)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MEDIA_CSP = "default-src 'none'; sandbox"
_SIGNATURES = ((_PNG_SIGNATURE, PNG), (b"\xff\xd8\xff", JPEG), (b"%PDF-", PDF))


def kind_by_signature(head: bytes) -> FileKind | None:
    """The kind its first bytes claim. Enough to choose how a stored file is served (a PNG signature
    before an HTML page is served as image/png: the browser shows a broken image, never a page)."""
    return next((kind for signature, kind in _SIGNATURES if head.startswith(signature)), None)


def sniff(data: bytes) -> FileKind | None:
    """The kind of a whole file's content, or None: its signature, then a structural check."""
    kind = kind_by_signature(data)
    whole = {PNG: _png_is_whole, JPEG: _jpeg_is_whole, PDF: _pdf_is_whole}
    return kind if kind is not None and whole[kind](data) else None


def _png_is_whole(data: bytes) -> bool:
    """Chunks from the signature to IEND, each with a matching CRC, IHDR first, nothing after IEND."""
    position, first = len(_PNG_SIGNATURE), True
    while position + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data) or not kind.isalpha() or (first and kind != b"IHDR"):
            return False
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(data[position + 4 : end - 4]) != crc:
            return False
        if kind == b"IEND":
            return end == len(data)
        position, first = end, False
    return False


def _jpeg_is_whole(data: bytes) -> bool:
    """Marker segments from SOI to the start of scan (SOS), a frame header (SOFn) among them, and an
    end-of-image marker. Data after the end marker is allowed: phones append motion photos there."""
    position, frame = 2, False
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            position += 2
            continue
        if marker < 0xC0:
            return False
        (length,) = struct.unpack_from(">H", data, position + 2)
        if length < 2 or position + 2 + length > len(data):
            return False
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            frame = True
        if marker == 0xDA:  # start of scan: the compressed image follows
            return frame and b"\xff\xd9" in data[position + 2 + length :]
        position += 2 + length
    return False


def _pdf_is_whole(data: bytes) -> bool:
    """A version in the header and the end-of-file marker near the end (readers look in the last KB)."""
    return data[5:8].replace(b".", b"", 1).isdigit() and b"%%EOF" in data[-2048:]


def _read_whole(file) -> bytes:
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    data = file.read()
    file.seek(position)
    return data


def _with_extension(name: str, kind: FileKind) -> str:
    base = name.rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem or '附件'}.{kind.extension}"


def validate_attachment(upload) -> FileKind:
    """Refuse anything but a whole PNG, JPEG or PDF within the size limit. The upload's name is set to
    carry the extension of its real kind (so it is stored as such); returns the kind."""
    limit_mb = settings.FPR_MAX_ATTACHMENT_MB
    if upload.size > limit_mb * 1024 * 1024:
        raise ValidationError(f"文件“{upload.name}”大小为{upload.size / 1048576:.1f}MB，超过{limit_mb}MB的上限。")
    kind = sniff(_read_whole(upload))
    if kind is None:
        raise ValidationError(
            f"文件“{upload.name}”不是图片（JPG/PNG）或PDF，或文件不完整。请上传扫描件或照片（不接受网页、SVG等其他文件）。"
        )
    upload.name = _with_extension(upload.name, kind)
    return kind


def attachment_response(file, *, name: str) -> FileResponse:
    """Serve a stored attachment: Content-Type from its content, images inline and everything else as a
    download, with nosniff and a sandboxing CSP. `name` is the download name; its extension is replaced
    by the sniffed kind's."""
    handle = file.open("rb")
    head = handle.read(16)
    handle.seek(0)
    kind = kind_by_signature(head) or OPAQUE
    response = FileResponse(
        handle,
        content_type=kind.content_type,
        as_attachment=not kind.inline,
        filename=_with_extension(name, kind),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response
