"""The preview before every run (待确认) and the saved column mapping: what an uploader sees of a
department file before anything is compared — encoding, header row, which file column is which fpr
column, a row estimate, the first rows masked, the first problems — and a mapping, once given, applied
to the department's next file of that area (and the areas below it)."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from fpr.errors import ApplicationError
from fpr.roles import Department, Role
from monitoring.models import ColumnMapping, DepartmentUpload, RiskWarning, UploadStatus
from monitoring.screening import comparison
from tests.builders import make_user, new_id_number

pytestmark = pytest.mark.django_db

MEDICAL = Department.MEDICAL_INSURANCE
CIVIL = Department.CIVIL_AFFAIRS
# A county hospital-insurance office's own export: none of its names is one fpr knows.
OWN_HEADER = ["序号", "参保人", "受益人证件", "医院", "本期自负部分", "联系方式"]


def head_of(household):
    return household.members.get(relationship="head")


def own_csv(rows, title="大方县医疗保障局2026年11月高额医疗费用人员清单") -> bytes:
    lines = [title, ",".join(OWN_HEADER)]
    for n, (id_number, name, amount) in enumerate(rows, start=1):
        lines.append(f"{n},{name},{id_number},县人民医院,{amount},13912345678")
    lines.append("合计,,,,,")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def upload(user, data: bytes, *, department=MEDICAL, name="清单.csv", period="2026-11"):
    return comparison.upload_create(
        user=user, department=department, period=period, file=SimpleUploadedFile(name, data), start=False
    )


def test_the_preview_shows_what_was_read_and_masks_every_person(administrator, household_a):
    person = head_of(household_a)
    text = (
        "XX县2026年11月新增低保对象名单\r\n"
        "序号,姓名,公民身份号码,保障类别,月保障金额（元）,批准时间,联系电话\r\n"
        f"1,{person.name},{person.id_number},农村低保,680,2026-11-05,13912345678\r\n"
        f"2,王五,{person.id_number[:-1]}0,特困供养,900,2026-11-06,\r\n"
        "合计,,,,1580,,\r\n"
        "制表人：李四,,,,,,\r\n"
    )
    created = upload(administrator, text.encode("gbk"), department=CIVIL)
    assert created.status == UploadStatus.PREVIEW
    preview = comparison.upload_preview(created)
    assert preview["ready"] and preview["missing"] == []
    assert (preview["encoding_label"], preview["header_row"], preview["title_rows"]) == ("GBK", 2, 1)
    assert preview["rows_estimate"] == 4  # two people, 合计, 制表人: lines after the header
    assert {f["key"]: f["name"] for f in preview["fields"] if f["position"] is not None} == {
        "id_number": "公民身份号码",
        "name": "姓名",
        "assistance_type": "保障类别",
        "amount": "月保障金额（元）",
        "approved_on": "批准时间",
    }
    assert preview["unmapped"] == ["序号", "联系电话"]
    assert preview["problem_rows"] == 1 and "校验" in preview["problems"][0]["reason"]
    assert preview["problems"][0]["row_number"] == 4 and preview["footer_rows"] == 2
    shown = repr(preview)
    assert person.id_number not in shown and "13912345678" not in shown and person.id_number[-4:] in shown
    created.refresh_from_db()
    assert created.detected_encoding == "gbk" and not RiskWarning.objects.exists()


def test_unknown_columns_are_mapped_once_and_next_month_is_recognised(administrator, household_a):
    person = head_of(household_a)
    first = upload(administrator, own_csv([(person.id_number, person.name, "56000")]))
    preview = comparison.upload_preview(first)
    assert not preview["ready"] and preview["missing"] == ["身份证号", "个人自付金额"]
    assert preview["header_row"] == 2  # the fullest row, not the one-cell title
    with pytest.raises(ApplicationError, match="还有必需列没有对应到文件中的列：身份证号、个人自付金额"):
        comparison.upload_start(first, user=administrator)
    with pytest.raises(ApplicationError, match="不能同时对应"):
        comparison.upload_start(first, user=administrator, positions={"id_number": 2, "out_of_pocket": 2})
    with pytest.raises(ApplicationError, match="文件中没有第31列"):
        comparison.upload_start(first, user=administrator, positions={"id_number": 30})
    started = comparison.upload_start(
        first, user=administrator, positions={"id_number": 2, "out_of_pocket": 4, "name": 1}
    )
    assert started.status == UploadStatus.QUEUED
    saved = ColumnMapping.objects.get(department=MEDICAL, division=administrator.division)
    assert saved.mapping == {"id_number": "受益人证件", "out_of_pocket": "本期自负部分", "name": "参保人"}
    assert saved.history.count() == 1
    done = comparison.comparison_run(first.pk)
    assert (done.status, done.rows_total, done.rows_matched, done.table_layout["footer_rows"]) == ("done", 1, 1, 1)
    assert RiskWarning.objects.get().member == person

    # December: the same office, the same columns, other people and a new title.
    other = new_id_number()
    december = upload(
        administrator,
        own_csv([(other, "王五", "30000"), (person.id_number, person.name, "800")], "12月清单"),
        period="2026-10",
    )
    again = comparison.upload_preview(december)
    assert again["ready"] and again["mapping"] == {"name": 1, "id_number": 2, "out_of_pocket": 4}
    assert comparison.upload_start(december, user=administrator).status == UploadStatus.QUEUED
    assert comparison.comparison_run(december.pk).rows_total == 2


def test_a_saved_mapping_wins_over_an_alias_and_reaches_the_areas_below(administrator, divisions, household_a):
    """The file has both 身份证号 (the insured) and 患者证件号 (the patient, whom the office means): the
    county's saved mapping is applied to a township officer's upload and wins over the alias."""
    ColumnMapping.objects.create(
        department=MEDICAL,
        division=administrator.division,
        mapping={"id_number": "患者证件号", "out_of_pocket": "自付"},
        updated_by=administrator,
    )
    township = make_user(
        "t_medical", divisions["520521100000"], Role.DEPARTMENT_OFFICER, department=MEDICAL, full_name="乡医保"
    )
    person = head_of(household_a)
    text = f"身份证号,患者证件号,自付\r\n{new_id_number()},{person.id_number},56000\r\n"
    created = upload(township, text.encode())
    preview = comparison.upload_preview(created)
    assert preview["ready"] and preview["mapping"]["id_number"] == 1
    comparison.upload_start(created, user=township)
    assert comparison.comparison_run(created.pk).rows_matched == 1


def test_the_header_row_can_be_chosen_and_a_preview_discarded(administrator):
    text = "说明：本表由县民政局提供\r\n身份证号,救助类型\r\n"
    created = upload(administrator, text.encode(), department=CIVIL)
    assert comparison.upload_preview(created)["header_row"] == 2
    chosen = comparison.upload_preview(created, header_row=1)
    assert chosen["header_row"] == 1 and not chosen["ready"]
    comparison.upload_discard(created, user=administrator)
    assert not DepartmentUpload.objects.exists()


def test_an_xlsx_preview_with_a_merged_title_and_two_header_rows(administrator, household_a):
    person = head_of(household_a)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["大方县2026年11月医疗费用清单"])
    sheet.merge_cells("A1:E1")
    sheet.append(["姓名", "公民身份号码", "费用情况", None, "就诊机构"])
    sheet.append([None, None, "总费用（元）", "个人自付（元）", None])
    sheet.append([person.name, person.id_number, 90000, 56000, "县医院"])
    sheet.append([None] * 5)
    sheet.append(["合计", None, 90000, 56000, None])
    out = io.BytesIO()
    workbook.save(out)
    preview = comparison.upload_preview(upload(administrator, out.getvalue(), name="清单.xlsx"))
    assert preview["ready"] and (preview["header_row"], preview["header_rows"]) == (3, 2)
    assert preview["fields"][2]["name"] == "费用情况/个人自付（元）" and preview["encoding_label"] == "XLSX"
    assert preview["rows_estimate"] == 3 and preview["footer_rows"] == 1 and preview["blank_rows"] == 1


def test_a_file_that_cannot_be_read_fails_at_its_preview(administrator):
    created = upload(administrator, "身份证号,个人自付金额\r\n".encode() + "张三".encode("gbk") + b",1\r\n")
    created.encoding = "utf-8"
    created.save()
    preview = comparison.upload_preview(created)
    created.refresh_from_db()
    assert not preview["ready"] and "无法按 UTF-8 解码" in preview["error"]
    assert created.status == UploadStatus.FAILED


# --------------------------------------------------------------------------- API


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_preview_mapping_and_start(administrator, department_officer, household_a, cadre_a):
    person = head_of(household_a)
    api = api_for(department_officer)
    data = own_csv([(person.id_number, person.name, "56000")])
    response = api.post(
        "/api/v1/uploads/",
        {"department": MEDICAL, "period": "2026-11", "file": SimpleUploadedFile("a.csv", data), "start": True},
        format="multipart",
    )
    assert response.status_code == 201, response.content  # start asked, but columns are missing
    body = response.json()
    assert body["status"] == "preview" and body["preview"]["ready"] is False
    assert (
        body["preview"]["missing"] == ["身份证号", "个人自付金额"] and person.id_number not in response.content.decode()
    )
    pk = body["id"]
    again = api.get(f"/api/v1/uploads/{pk}/preview/?header_row=2").json()
    assert [c["name"] for c in again["columns"]] == OWN_HEADER
    assert api_for(cadre_a).get(f"/api/v1/uploads/{pk}/preview/").status_code == 404
    refused = api.post(f"/api/v1/uploads/{pk}/start/", {"mapping": {"id_number": 2}}, format="json")
    assert refused.status_code == 400 and "个人自付金额" in refused.json()["detail"]
    started = api.post(f"/api/v1/uploads/{pk}/start/", {"mapping": {"id_number": 2, "out_of_pocket": 4}}, format="json")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    assert api.post(f"/api/v1/uploads/{pk}/discard/").status_code == 400  # queued: no longer a preview
    comparison.comparison_run(pk)
    assert RiskWarning.objects.get().member == person
    # Next month's file: recognised with the saved mapping, so start=true runs at once.
    later = own_csv([(person.id_number, person.name, "1000"), (new_id_number(), "王五", "2")], "10月")
    response = api.post(
        "/api/v1/uploads/",
        {"department": MEDICAL, "period": "2026-10", "file": SimpleUploadedFile("b.csv", later), "start": True},
        format="multipart",
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    plain = api.post(
        "/api/v1/uploads/",
        {"department": MEDICAL, "period": "2026-09", "file": SimpleUploadedFile("c.csv", later + b"\r\n")},
        format="multipart",
    )
    assert plain.status_code == 201 and plain.json()["preview"]["ready"] is True
    assert api.post(f"/api/v1/uploads/{plain.json()['id']}/discard/").status_code == 204


def test_the_preview_page_maps_and_starts(client, department_officer, household_a):
    person = head_of(household_a)
    client.force_login(department_officer)
    response = client.post(
        reverse("monitoring:upload_create"),
        {
            "department": MEDICAL,
            "period": "2026-11",
            "encoding": "",
            "file": SimpleUploadedFile("a.csv", own_csv([(person.id_number, person.name, "56000")])),
        },
    )
    created = DepartmentUpload.objects.get()
    page = client.get(response.url).content.decode()
    assert "还不能比对" in page and "受益人证件" in page and person.id_number not in page
    start = reverse("monitoring:upload_start", args=[created.pk])
    kept = client.post(start, {"header_row": "2", "header_rows": "1", "map_id_number": "2", "map_out_of_pocket": ""})
    assert kept.status_code == 200 and "个人自付金额" in kept.content.decode()
    assert '<option value="2" selected>受益人证件' in kept.content.decode()  # the choice is kept
    refresh = client.post(start, {"header_row": "1", "header_rows": "1", "action": "refresh"})
    assert refresh.url.endswith("?header_row=1&header_rows=1")
    ok = client.post(start, {"header_row": "2", "header_rows": "1", "map_id_number": "2", "map_out_of_pocket": "4"})
    created.refresh_from_db()
    assert ok.status_code == 302 and created.status == UploadStatus.QUEUED
