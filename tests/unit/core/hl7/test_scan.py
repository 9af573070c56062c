from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.hl7.encoding import decode
from core.hl7.scan import parse_ts, scan


def test_header_and_keys():
    raw = (b"MSH|^~\\&|LAB^1.2.3^ISO|QUEST|ECW|NFM|20240105083000-0500|SEC|ORU^R01^ORU_R01|CTL-1|P|2.5.1|||AL|NE||UNICODE UTF-8\r"
           b"PID|1||MRN1^^^H^MR~ALT2||DOE\\S\\X^JANE||19800101\rORC|RE|PL1^ECW|FI1^LAB\rOBR|1|PL9|FI9\r")
    k = scan(raw)
    assert (k["sending_app"], k["sending_facility"], k["receiving_app"], k["receiving_facility"]) == ("LAB", "QUEST", "ECW", "NFM")
    assert k["message_type"] == "ORU^R01" and k["control_id"] == "CTL-1" and k["version"] == "2.5.1"
    assert k["message_time"] == datetime(2024, 1, 5, 13, 30)  # -0500 made UTC
    assert (k["accept_ack_type"], k["app_ack_type"], k["charset"]) == ("AL", "NE", "UNICODE UTF-8")
    assert k["patient_id"] == "MRN1" and k["patient_name"] == "DOE^X^JANE"
    assert (k["placer_order"], k["filler_order"]) == ("PL1", "FI1")  # the first ORC/OBR
    assert k["parse_state"] == "ok" and k["segment_count"] == 4


def test_err_in_25_and_23_forms():
    v25 = b"MSH|^~\\&|A|B|C|D|2024||ACK|1|P|2.5.1\rMSA|AE|X1|bad\rERR||PID^1^3^1^1|101^Required field missing^HL70357|E||||Patient ID is required\r"
    e = scan(v25)["errors"][0]
    assert (e["code"], e["text"], e["severity"], e["location"], e["user_text"]) == ("101", "Required field missing", "E", "PID-3.1", "Patient ID is required")
    v23 = b"MSH|^~\\&|A|B|C|D|2024||ACK|1|P|2.3\rMSA|AR|X1\rERR|PID^1^3^102&Data type error&HL70357\r"
    e = scan(v23)["errors"][0]
    assert (e["code"], e["text"], e["location"]) == ("102", "Data type error", "PID-3")
    k = scan(v23)
    assert (k["ack_code"], k["ack_control_id"]) == ("AR", "X1")


def test_custom_delimiters_and_charset():
    raw = "MSH#*~!$#APP#FAC#R#RF#2024##ADT*A01#9#P#2.4####8859/1\rPID#1##ID7##MÜLLER*ANNA\r".encode("latin-1")
    k = scan(raw)
    assert k["message_type"] == "ADT^A01" and k["patient_id"] == "ID7" and k["patient_name"] == "MÜLLER*ANNA"
    assert decode(raw, k["charset"])[0].startswith("MSH#")


def test_rules_make_invalid_with_reasons():
    k = scan(b"MSH|^~\\&|A|B|C|D|2024||||P|\rZZ bad line\r")
    assert k["parse_state"] == "invalid"
    assert "MSH-9" in k["reason"] and "MSH-10" in k["reason"] and "MSH-12" in k["reason"]
    assert scan(b"not hl7")["parse_state"] == "unparseable"


def test_timestamps():
    assert parse_ts("20240105") == datetime(2024, 1, 5)
    assert parse_ts("202401051230") == datetime(2024, 1, 5, 12, 30)
    assert parse_ts("20240105123015.1234+0100") == datetime(2024, 1, 5, 11, 30, 15, 123400)
    assert parse_ts("2024") is None and parse_ts("garbage!") is None and parse_ts("20241399") is None


def test_decoding_never_loses_a_byte():
    data = bytes(range(256))
    text, codec = decode(data, "ASCII")
    assert text.encode(codec) == data


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300).map(lambda b: b"MSH" + b))
def test_scan_never_raises(raw):
    k = scan(raw)
    assert k["parse_state"] in ("ok", "invalid", "unparseable")
    assert k["parse_state"] == "ok" or k["reason"]
