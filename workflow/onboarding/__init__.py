"""The onboarding-import room of issue #15: bringing in what a county already has (its divisions, its
cadres, its registry, its existing monitoring objects) from the files it keeps them in. In workflow,
like the demo seeder, because an import composes the services of every app (households, cases,
measures) — and reads files with monitoring.screening's table-reading layer.

Each module here is one kind of import, a service that a management command (and later the import-job
framework's page and API) calls. Files are read through the project's one table-reading layer
(monitoring.screening.comparison.read_rows: bounded, encoding-detecting CSV/XLSX readers, and
monitoring.screening.tables' header recognition); a dry run reports every problem before anything is written.

- divisions: the 统计用区划代码 list (workflow.onboarding.divisions).
- users: the county's cadre list, accounts made through households.accounts (workflow.onboarding.users).
- registry: the household ledger, one row per member grouped by 户编号 (workflow.onboarding.registry).
- cases: the existing monitoring objects (监测对象, from the national system or the county's ledger), one
  row per household, made into cases in 监测中 or 风险消除 (workflow.onboarding.cases).
- jobs, views, urls: every import as a background job in two steps, check then import (数据导入, /imports/).
"""
