"""Judging executions: the tolerance policy and the oracles that decide whether TVM's numbers are right."""
