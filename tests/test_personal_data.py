"""Personal data stays out of logs and error pages, whatever goes wrong."""

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import path, reverse

from fpr import urls as fpr_urls
from fpr.log_masking import mask_text
from monitoring.screening import comparison
from tests.builders import department_csv, new_id_number

pytestmark = pytest.mark.django_db


def logged_text(caplog) -> str:
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_masking_keeps_the_ends_only():
    number = new_id_number()
    assert mask_text(f"身份证号 {number} 重复") == f"身份证号 {number[:4]}**********{number[-4:]} 重复"
    assert mask_text("卡号6222021234567890123。") == "卡号6222***********0123。"
    # Household numbers (16 digits) and dates stay readable for whoever reads the log.
    assert mask_text("农户 5205211000010001 于 20261124") == "农户 5205211000010001 于 20261124"


def test_failures_log_no_id_number(caplog, administrator, cadre_a, household_a, monkeypatch):
    caplog.set_level(logging.DEBUG)
    head = household_a.members.get(relationship="head")
    stranger = new_id_number()
    logger = logging.getLogger("fpr.test")
    # 1. A message that carries an ID number in its arguments, and an exception that does.
    logger.warning("member %s not found", stranger)
    try:
        raise ValueError(f"duplicate key value violates unique constraint DETAIL: Key (id_number)=({head.id_number})")
    except ValueError:
        logger.exception("insert failed")

    # 2. A comparison run that crashes after staging the rows (its log has the traceback).
    def crash(*args, **kwargs):
        raise RuntimeError(f"row {head.id_number} broke the run")

    monkeypatch.setattr(comparison, "_record_history", crash)
    rows = [{"身份证号": head.id_number, "个人自付金额": "1"}, {"身份证号": stranger, "个人自付金额": "1"}]
    upload = comparison.upload_create(
        user=administrator,
        department="medical_insurance",
        period="2026-11",
        file=SimpleUploadedFile("a.csv", department_csv(rows, department="medical_insurance").encode()),
    )
    with pytest.raises(RuntimeError):
        comparison.comparison_run(upload.pk)
    # 3. A login with an ID number typed as the user name, a refused duplicate registration, a search.
    client = Client()
    client.post(reverse("login"), {"username": stranger, "password": "wrong-password"})
    client.force_login(cadre_a)
    client.post(
        reverse("households:create"),
        {
            "address": "光明村",
            "poverty_status": "lifted",
            "members-0-name": "重复",
            "members-0-id_number": head.id_number,
        },
    )
    client.get(reverse("households:list"), {"q": head.id_number})
    client.get(f"/households/{head.id_number}/")
    text = logged_text(caplog)
    assert "insert failed" in text and "broke the run" in text  # the failures were logged …
    assert head.id_number not in text and stranger not in text  # … without the numbers
    assert f"{head.id_number[:4]}**********{head.id_number[-4:]}" in text  # masked where they were


def boom(request, number):
    raise RuntimeError(f"cannot render member {number}")


urlpatterns = [*fpr_urls.urlpatterns, path("boom/<str:number>/", boom)]


def test_error_page_shows_no_personal_data(settings, caplog, cadre_a, household_a):
    settings.ROOT_URLCONF = __name__
    head = household_a.members.get(relationship="head")
    client = Client(raise_request_exception=False)
    client.force_login(cadre_a)
    response = client.get(f"/boom/{head.id_number}/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "系统" in body and "Traceback" not in body and head.id_number not in body
    assert head.id_number not in logged_text(caplog)  # Django's request log has the path and traceback
    assert "cannot render member" in logged_text(caplog)
