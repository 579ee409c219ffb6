"""Statistics (统计): the figures of a division's subtree (figures), the table's columns (table), the
statistics page and dashboard (views) and the statistics table in Excel (xlsx)."""
