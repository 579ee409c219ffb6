"""数据导入 pages (#15 point 6): upload → the check in the background (every problem, nothing written) →
确认导入 → the import in the background → the result; administrators only, each in their subtree."""

import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fpr.roles import Level, Role
from households.models import Division, User
from tests.builders import make_user
from workflow.models import ImportJob, ImportStatus

pytestmark = pytest.mark.django_db

GOOD = "2023年统计用区划代码\r\n统计用区划代码,城乡分类代码,名称\r\n520521102000,,猫场镇\r\n520521102001,220,新寨村\r\n"
OUTSIDE = "代码,名称\r\n520521102000,猫场镇\r\n520522100000,外县镇\r\n"


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def upload(client, text: str, name="区划代码.csv", encoding="gbk"):
    file = SimpleUploadedFile(name, text.encode(encoding))
    return client.post(reverse("imports:list"), {"kind": "divisions", "file": file})


def test_an_administrator_checks_then_imports_a_division_list(
    client, administrator, eager, django_capture_on_commit_callbacks
):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:detail", args=[job.pk])
    assert job.status == ImportStatus.CHECKED and job.file_name == "区划代码.csv"
    assert not Division.objects.filter(code="520521102000").exists()  # the check writes nothing
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "待确认导入" in page and "确认导入" in page and "试运行，未写入任何数据" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.started_at and job.finished_at
    village = Division.objects.get(code="520521102001")
    assert village.name == "新寨村" and village.parent_id == "520521102000"
    assert village.history.get().history_change_reason == "区划代码导入：区划代码.csv"
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "导入完成" in page and "已导入" in page and "确认导入</button>" not in page
    # A second confirmation does nothing: the job is done.
    client.post(reverse("imports:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert "区划代码.csv" in client.get(reverse("imports:list")).content.decode()


def test_a_refused_file_lists_its_problems_and_cannot_be_confirmed(
    client, administrator, eager, django_capture_on_commit_callbacks
):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, OUTSIDE, encoding="utf-8")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REFUSED and job.check_report["refused"]
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "检查未通过" in page and "520522100000" in page and "确认导入</button>" not in page
    response = client.post(reverse("imports:confirm", args=[job.pk]), follow=True)
    assert "检查未通过，不能导入" in response.content.decode()
    assert not Division.objects.filter(code="520521102000").exists()


def test_while_it_runs_the_page_polls_and_says_nothing_is_written(client, administrator, divisions):
    job = ImportJob.objects.create(
        kind="divisions",
        file=SimpleUploadedFile("a.csv", GOOD.encode("gbk")),
        file_name="a.csv",
        user=administrator,
        division_id=administrator.division_id,
    )
    client.force_login(administrator)
    url = reverse("imports:detail", args=[job.pk])
    page = client.get(url).content.decode()
    assert f'data-poll="{url}?format=json"' in page and "尚未写入任何数据" in page
    assert client.get(url, {"format": "json"}).json() == {"done": False, "status": "检查中", "figures": {}}


def test_imports_are_administrators_and_scoped_to_their_subtree(client, administrator, county_reviewer, divisions):
    job = ImportJob.objects.create(
        kind="divisions",
        file=SimpleUploadedFile("a.csv", GOOD.encode("gbk")),
        file_name="a.csv",
        user=administrator,
        division_id=administrator.division_id,
        status=ImportStatus.CHECKED,
    )
    client.force_login(county_reviewer)
    assert client.get(reverse("imports:list")).status_code == 403
    township_admin = make_user("town_admin", divisions["520521100000"], Role.ADMINISTRATOR, full_name="镇管理")
    client.force_login(township_admin)
    assert client.get(reverse("imports:list")).status_code == 200
    assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404  # the county's import
    assert client.post(reverse("imports:confirm", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED


def test_an_upload_without_a_file_says_so(client, administrator):
    client.force_login(administrator)
    response = client.post(reverse("imports:list"), {"kind": "divisions"})
    assert response.status_code == 200 and "请选择要导入的文件。" in response.content.decode()
    assert not ImportJob.objects.exists()


CADRES = (
    "大方县村干部名单\r\n姓名\t联系电话\t所属村\t角色\r\n"
    "马  一\t１３８００００３００１\t光明村村民委员会\t村级干部\r\n"
    "马二\t13800003002\t羊场镇红岩村\t村级干部\r\n"
)


def test_cadre_accounts_are_imported_and_their_passwords_downloaded_once(
    client, administrator, eager, django_capture_on_commit_callbacks
):
    client.force_login(administrator)
    file = SimpleUploadedFile("干部名单.csv", CADRES.encode("gbk"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:list"), {"kind": "users", "file": file})
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.CHECKED, job.check_report
    assert not User.objects.filter(phone="13800003001").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.passwords
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "下载初始密码清单" in page
    created = User.objects.get(phone="13800003001")
    assert created.must_change_password and created.division_id == "520521100001"

    response = client.post(reverse("imports:passwords", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        sheet = openpyxl.load_workbook(io.BytesIO(archive.read(names[0]))).active
        cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert len(names) == 2 and any(name.startswith("520521100001") for name in names)
    password = next(
        row[5] for row in sheet.iter_rows(values_only=True) if row and row[1] in ("马一", "马二") and row[5]
    )
    assert password not in str(job.result) and password not in str(job.check_report) and cells
    # Once: the file is gone, a second download is refused and the page says when it was taken.
    job.refresh_from_db()
    assert not job.passwords and job.passwords_taken_at
    again = client.post(reverse("imports:passwords", args=[job.pk]), follow=True)
    assert "只提供一次下载" in again.content.decode()
    assert "初始密码清单已于" in client.get(reverse("imports:detail", args=[job.pk])).content.decode()


def test_the_api_uploads_checks_and_confirms_an_import(
    administrator, county_reviewer, eager, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(county_reviewer)
    file = SimpleUploadedFile("区划代码.csv", GOOD.encode("gbk"))
    refused = api.post("/api/v1/imports/", {"kind": "divisions", "file": file}, format="multipart")
    assert refused.status_code == 403 and "系统管理员" in refused.json()["detail"]
    assert api.get("/api/v1/imports/").json()["results"] == []

    api.force_authenticate(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        file = SimpleUploadedFile("区划代码.csv", GOOD.encode("gbk"))
        created = api.post("/api/v1/imports/", {"kind": "divisions", "file": file}, format="multipart")
    assert created.status_code == 201 and created.json()["status"] == "checking"
    job = api.get(f"/api/v1/imports/{created.json()['id']}/").json()
    assert job["status"] == "checked" and job["result"] is None
    assert not job["check_report"]["refused"] and any("试运行" in line for line in job["check_report"]["lines"])
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = api.post(f"/api/v1/imports/{job['id']}/confirm/")
    assert confirmed.status_code == 202
    done = api.get(f"/api/v1/imports/{job['id']}/").json()
    assert done["status"] == "done" and any("已导入" in line for line in done["result"]["lines"])
    again = api.post(f"/api/v1/imports/{job['id']}/confirm/")
    assert again.status_code == 400 and "导入完成" in again.json()["detail"]
    assert Division.objects.filter(code="520521102001").exists()


def test_a_second_countys_administrator_never_reaches_this_countys_import(client, administrator, divisions):
    """Pages and API alike: another county's administrator gets 404 for the job, its confirmation and its
    passwords, and the county's import is not in their list."""
    from rest_framework.test import APIClient

    other = Division.objects.create(code="520522000000", name="黔西县", level=Level.COUNTY, parent_id="520500000000")
    qx_admin = make_user("qx_admin", other, Role.ADMINISTRATOR, full_name="黔管理")
    job = ImportJob.objects.create(
        kind="users",
        file=SimpleUploadedFile("a.csv", CADRES.encode("gbk")),
        file_name="大方县干部名单.csv",
        user=administrator,
        division_id=administrator.division_id,
        status=ImportStatus.CHECKED,
    )
    client.force_login(qx_admin)
    assert "大方县干部名单.csv" not in client.get(reverse("imports:list")).content.decode()
    assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:passwords", args=[job.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(qx_admin)
    assert api.get("/api/v1/imports/").json()["results"] == []
    assert api.get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert api.post(f"/api/v1/imports/{job.pk}/confirm/").status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
