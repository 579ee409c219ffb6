"""Department screening (部门筛查预警, SPEC §5): what each department sends (departments), how its file is
read (tables), the upload and comparison (comparison), and the warnings it raises — their verification
(warning_services), reads, pages and API; the upload pages and API."""
