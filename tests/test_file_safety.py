"""Attachments (#11 finding 7): only whole JPG/PNG/PDF files are accepted, decided by their content;
a stored attachment is served with the type of its content, never of its name, with nosniff and a
sandboxing Content-Security-Policy; images inline, everything else as a download."""

import datetime as dt
import struct

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fpr.uploads import JPEG, PDF, PNG, sniff, validate_attachment
from monitoring.cases.services import case_update_application
from monitoring.models import MonitoringCase
from tests.builders import PDF_BYTES, PNG_BYTES, png_bytes

pytestmark = pytest.mark.django_db

HTML = b"<html><head><meta http-equiv='refresh' content='0;url=https://evil.example/'></head><body>login</body></html>"
PHISHING_PNG = b"\x89PNG\r\n\x1a\n" + HTML  # the 现场照片.html
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


JPEG_BYTES = (
    b"\xff\xd8"
    + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    + segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
    + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    + b"\x00\x00"
    + b"\xff\xd9"
)


def test_content_decides_the_kind_and_a_header_alone_is_not_enough():
    assert sniff(PNG_BYTES) is PNG and sniff(png_bytes(30, 20)) is PNG
    assert sniff(JPEG_BYTES) is JPEG and sniff(JPEG_BYTES + b"motion photo after the end") is JPEG
    assert sniff(PDF_BYTES) is PDF
    for hostile in (
        PHISHING_PNG,
        PNG_BYTES + HTML,  # a whole PNG with a page after its end
        PNG_BYTES[:-4] + b"\x00\x00\x00\x00",  # IEND with a wrong checksum
        b"\xff\xd8\xff" + HTML,
        JPEG_BYTES[:-2].replace(b"\xff\xd9", b""),  # no end of image
        b"%PDF-" + HTML,
        b"%PDF-1.4\n" + HTML,  # no end-of-file marker
        SVG,
        HTML,
    ):
        assert sniff(hostile) is None, hostile[:30]


@pytest.mark.parametrize(
    ("name", "content"), [("现场照片.html", PHISHING_PNG), ("签字.svg", SVG), ("签字.png", SVG), ("a.pdf", HTML)]
)
def test_html_svg_and_disguised_files_are_refused_at_upload(case_a, cadre_a, name, content):
    with pytest.raises(ValidationError) as refused:
        case_update_application(user=cadre_a, case=case_a, authorization_scan=SimpleUploadedFile(name, content))
    assert "不是图片（JPG/PNG）或PDF" in str(refused.value) and "SVG" in str(refused.value)
    case_a.refresh_from_db()
    assert case_a.authorization_scan.name.endswith(".pdf")  # the earlier scan stays


def test_a_real_image_under_another_name_is_stored_and_served_as_what_it_is(client, case_a, cadre_a):
    case_update_application(
        user=cadre_a, case=case_a, authorization_scan=SimpleUploadedFile("现场照片.html", PNG_BYTES, "text/html")
    )
    case = MonitoringCase.objects.get(pk=case_a.pk)
    assert case.authorization_scan.name.endswith("现场照片.png")
    client.force_login(cadre_a)
    response = client.get(reverse("cases:authorization_file", args=[case.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline") and ".png" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PNG_BYTES


def assert_media_headers(response, content_type: str, disposition: str) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith(disposition)
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy


def test_a_stored_html_named_file_with_a_png_header_is_served_as_png_not_html(client, case_a, cadre_a):
    """A file stored before these checks (the issue's attack): its name says HTML, its bytes say PNG."""
    case_a.authorization_scan.save("现场照片.html", ContentFile(PHISHING_PNG), save=True)
    assert case_a.authorization_scan.name.endswith(".html")
    client.force_login(cadre_a)
    response = client.get(reverse("cases:authorization_file", args=[case_a.pk]))
    assert_media_headers(response, "image/png", "inline")
    assert "text/html" not in response["Content-Type"] and ".html" not in response["Content-Disposition"]


def test_a_pdf_is_downloaded_and_an_unknown_stored_file_is_opaque(client, case_a, cadre_a):
    client.force_login(cadre_a)
    url = reverse("cases:authorization_file", args=[case_a.pk])
    assert_media_headers(client.get(url), "application/pdf", "attachment")
    case_a.authorization_scan.save("签字.svg", ContentFile(SVG), save=True)  # stored before the checks
    response = client.get(url)
    assert_media_headers(response, "application/octet-stream", "attachment")
    assert "svg" not in response["Content-Type"]


def test_a_visit_photo_stored_under_an_html_name_is_served_as_png(client, case_a, cadre_a, walker):
    from assistance.models import VisitPhoto
    from assistance.services import plan_create, visit_record

    with time_machine.travel(dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC), tick=False):
        case = walker.to_monitoring(case_a)
        plan_create(
            user=cadre_a, case=case, situation="两口之家", risk_analysis="因病", needs="就业", pairing_cadre=cadre_a
        )
        visit = visit_record(
            user=cadre_a,
            case=case,
            visited_on=dt.date(2026, 11, 20),
            findings="务工稳定",
            photos=[SimpleUploadedFile("走访.jpeg.html", JPEG_BYTES)],
        )
    uploaded = VisitPhoto.objects.get(visit=visit)
    assert uploaded.file.name.endswith(".jpg")  # the extension of what it is
    legacy = VisitPhoto.objects.create(visit=visit, file=ContentFile(PHISHING_PNG, name="现场照片.html"))
    client.force_login(cadre_a)
    for photo, kind in ((uploaded, "image/jpeg"), (legacy, "image/png")):
        response = client.get(reverse("assistance:visit_photo", args=[case.pk, photo.pk]))
        assert_media_headers(response, kind, "inline")


def test_validation_renames_the_upload_to_its_real_kind():
    upload = SimpleUploadedFile("扫描件.jpg", PDF_BYTES)
    assert validate_attachment(upload) is PDF and upload.name == "扫描件.pdf"
