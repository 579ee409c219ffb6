"""Scheduled jobs (SPEC §6): the registry and the runner (runner), the to-do items they leave (待办事项,
todo_views), the jobs page (views) and the 未算账农户 list. Each app owns its jobs in its own `jobs`
module and registers them here (monitoring.jobs.checks, assistance.jobs)."""
