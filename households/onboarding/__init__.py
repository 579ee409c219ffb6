"""The onboarding-import room of issue #15: bringing in what a county already has (its divisions, its
cadres, its registry, its existing monitoring objects) from the files it keeps them in.

Each module here is one kind of import, a service that a management command (and later the import-job
framework's page and API) calls. Files are read through the project's one table-reading layer
(monitoring.comparison's bounded, encoding-detecting CSV/XLSX readers and monitoring.tables' header
recognition); a dry run reports every problem before anything is written.

- divisions: the 统计用区划代码 list (households.onboarding.divisions).
"""
