"""Monitoring cases and their stage records (申请, 入户核实, 民主评议, 研判): the writes (services), the reads
(selectors) and the classification helper. Stage changes are workflow.services.case_transition's alone."""
