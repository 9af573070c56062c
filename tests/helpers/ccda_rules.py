"""The required sections of each C-CDA R2.1 document type, read from HL7's Schematron (the
source of resources/ccda_documents.json; tests/unit/core/documents/test_ccda.py checks the table still says the same)."""
from __future__ import annotations

import re
from pathlib import Path

SCHEMATRON = "cda/hl7-cda-ccda-2.1/validation/Consolidated CDA Templates for Clinical Notes (US Realm) DSTU R2.1.sch"


def required_sections(corpora: Path) -> dict[str, list[dict]]:
    text = (corpora / SCHEMATRON).read_text(encoding="utf-8")
    out: dict[str, list[dict]] = {}
    for doc in re.findall(r'<sch:rule id="r-urn-hl7ii-(2\.16\.840\.1\.113883\.10\.20\.22\.1\.\d+)-2015-08-01-errors-abstract"', text):
        start = text.index(f'<sch:rule id="r-urn-hl7ii-{doc}-2015-08-01-errors-abstract"')
        rule = text[start:text.index("</sch:rule>", start)]
        sections = []
        for test, words in re.findall(r'<sch:assert id="[^"]+" test="([^"]*)">(.*?)</sch:assert>', rule, re.S):
            words = re.sub(r"\s+", " ", words)
            named = re.search(r"SHALL contain exactly one \[1\.\.1\] component \(CONF:[^)]*\) such that it SHALL contain "
                              r"exactly one \[1\.\.1\] (.*?) \(identifier", words)
            if "structuredBody" in test and "section" in test and named:
                sections.append({"template": re.findall(r"@root='([0-9.]+)'", test)[0], "name": named.group(1)})
        out[doc] = sections
    return out
