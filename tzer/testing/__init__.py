"""Test support shipped with tzer: planted faults that tzer's own tests point campaigns at."""
