"""Triage: from a raw finding to one a person can act on (pass bisection, reduction, checks of reduced cases)."""
