"""The report store: findings, corpus, campaigns and timeline behind one narrow interface."""
