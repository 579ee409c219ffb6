"""Attachment checks shared by every upload of a scan or photo: size and real file type."""

from django.conf import settings
from django.core.exceptions import ValidationError

# Recognised by their first bytes, not by the name the browser sends.
_SIGNATURES = {
    b"%PDF-": "PDF",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
}


def validate_attachment(upload) -> None:
    limit_mb = settings.FPR_MAX_ATTACHMENT_MB
    if upload.size > limit_mb * 1024 * 1024:
        raise ValidationError(f"文件“{upload.name}”大小为{upload.size / 1048576:.1f}MB，超过{limit_mb}MB的上限。")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(16)
    upload.seek(position)
    if not any(head.startswith(signature) for signature in _SIGNATURES):
        raise ValidationError(f"文件“{upload.name}”不是图片（JPG/PNG）或PDF，请上传扫描件或照片。")
