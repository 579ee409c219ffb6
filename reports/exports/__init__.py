"""Exports (导出): the runner and its registry of writers (runner), the export pages (views, forms), the
监测对象台账 (ledger), the standard paper forms (paper_forms) and their sheet layout (xlsx_layout)."""
