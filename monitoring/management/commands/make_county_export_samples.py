"""The 民政 and 医保 samples again, shaped as county offices export them (issue #12): a title above the
header, the office's own column names and category names, a two-row header in the XLSX, blank rows and
a totals/signature footer. Same people and same bad rows as the plain samples, so the comparison must
give the same warnings and rejected rows, each row number moved by `row_offset`
(monitoring/samples/county_exports.json; tests/test_samples.py checks it).

    .venv/bin/python manage.py make_county_export_samples
"""

import csv
import io
import json

from django.core.management.base import BaseCommand

from monitoring.screening.upload_views import SAMPLES

CIVIL_VALUES = {"低保": "农村低保", "特困": "分散特困"}  # value aliases a county system writes


class Command(BaseCommand):
    help = "Write the county-export shaped samples (title rows, aliases, two-row header, footer)."

    def handle(self, *args, **options):
        entries = [self.civil_affairs(), self.medical_insurance()]
        (SAMPLES / "county_exports.json").write_text(
            json.dumps({"period": "2026-11", "files": entries}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        for entry in entries:
            self.stdout.write(f"{entry['file']}: from {entry['based_on']}, rows +{entry['row_offset']}")

    def civil_affairs(self) -> dict:
        base = "civil_affairs_2026-11.csv"
        rows = list(csv.reader(io.StringIO((SAMPLES / base).read_bytes().decode("gbk"))))[1:]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        out.write("大方县2026年11月城乡低保、特困供养、临时救助对象名单\r\n")
        writer.writerow(["序号", "姓名", "公民身份号码", "保障类别", "月保障金额（元）", "批准时间"])
        for number, (id_number, name, kind, amount, approved) in enumerate(rows, start=1):
            kind = "城市低保" if kind == "低保" and number % 2 else CIVIL_VALUES.get(kind, kind)
            writer.writerow([number, name, id_number, kind, amount, approved])
        writer.writerow([""] * 6)
        writer.writerow(["合计", "", "", "", "", ""])
        writer.writerow(["制表人：张丽", "", "审核人：王强", "", "填报日期：2026年12月1日", ""])
        name = "civil_affairs_2026-11_county_export_gbk.csv"
        (SAMPLES / name).write_bytes(out.getvalue().encode("gbk"))
        return {
            "file": name,
            "based_on": base,
            "department": "civil_affairs",
            "encoding": "gbk",
            "row_offset": 1,
            "skipped": "已跳过标题行 1 行、合计/说明行 2 行、空行 1 行",
        }

    def medical_insurance(self) -> dict:
        import openpyxl

        base = "medical_insurance_2026-11.csv"
        rows = list(csv.reader(io.StringIO((SAMPLES / base).read_text(encoding="utf-8"))))[1:]
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "大额自付"
        sheet.append(["大方县2026年11月参保人员大额医疗费用个人自付情况表"])
        sheet.merge_cells("A1:G1")
        sheet.append(["序号", "姓名", "身份证号码", "就诊医院", "费用情况", None, "结算期间"])
        sheet.append([None, None, None, None, "总费用（元）", "个人自付（元）", None])
        for column in "ABCDG":
            sheet.merge_cells(f"{column}2:{column}3")
        sheet.merge_cells("E2:F2")
        for number, (id_number, name, amount, period, hospital) in enumerate(rows, start=1):
            sheet.append([number, name, id_number, hospital, None, amount, period])
            sheet.cell(row=sheet.max_row, column=3).number_format = "@"
        sheet.append([None] * 7)
        sheet.append(["合计", None, None, None, None, None, None])
        sheet.append(["说明：个人自付为医保基金结算后由个人负担的费用。"])
        sheet.merge_cells(f"A{sheet.max_row}:G{sheet.max_row}")
        name = "medical_insurance_2026-11_county_export.xlsx"
        workbook.save(SAMPLES / name)
        return {
            "file": name,
            "based_on": base,
            "department": "medical_insurance",
            "encoding": "",
            "row_offset": 2,
            "skipped": "已跳过标题行 1 行、合计/说明行 2 行、空行 1 行",
        }
