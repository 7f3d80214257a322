"""Reports: what a finding or a campaign shows to people (reproducers, documents, JUnit for CI)."""
