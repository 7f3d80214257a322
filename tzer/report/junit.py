"""JUnit XML for CI: one test case per finding replayed by `tzer regress`, failed where its outcome is one the
gate fails on. The format is the one common CI systems read (Jenkins, GitLab, GitHub actions' test reporters)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Sequence

from tzer.replay import ReplayOutcome
from tzer.triage.regress import Regression


def junit_xml(results: Sequence[Regression], failing: Collection[ReplayOutcome], tvm_version: str) -> str:
    failures = sum(r.outcome in failing for r in results)
    suites = ET.Element("testsuites", tests=str(len(results)), failures=str(failures), errors="0")
    suite = ET.SubElement(suites, "testsuite", name="tzer regress", tests=str(len(results)),
                          failures=str(failures), errors="0", skipped="0",
                          time=f"{sum(r.seconds for r in results):.3f}")
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="tvm_version", value=tvm_version)
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=f"tzer.{result.outcome.name.lower()}",
                             name=f"{result.name}: {result.was}"[:300], time=f"{result.seconds:.3f}")
        text = f"was: {result.was}\nnow: {result.now}\noutcome: {result.outcome.value}"
        if result.outcome in failing:
            failure = ET.SubElement(case, "failure", message=f"{result.outcome.value}: {result.now}"[:500],
                                    type=result.outcome.name.lower())
            failure.text = text
        ET.SubElement(case, "system-out").text = text
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
