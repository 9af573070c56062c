from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.hl7.framing import BATCH, GAP, JUNK, MESSAGE, frame

MSG = b"MSH|^~\\&|LAB|FAC|EHR|FAC|20240101120000||ORU^R01|C1|P|2.5.1\rPID|1||123\rOBX|1|TX|X||MSH|\r"


def kinds(data, **kw):
    pieces, _ = frame(data, **kw)
    return [(p.kind, data[p.start:p.end]) for p in pieces]


def test_one_message_keeps_its_bytes():
    assert kinds(MSG) == [(MESSAGE, MSG)]


def test_obx_value_msh_does_not_start_a_message():
    data = MSG + MSG.replace(b"C1", b"C2")
    assert [k for k, _ in kinds(data)] == [MESSAGE, MESSAGE]


def test_line_endings_and_bom():
    crlf = MSG.replace(b"\r", b"\r\n")
    lf = MSG.replace(b"\r", b"\n")
    data = b"\xef\xbb\xbf" + crlf + lf + MSG
    got = kinds(data)
    assert got[0] == (GAP, b"\xef\xbb\xbf")
    assert [b for k, b in got if k == MESSAGE] == [crlf, lf, MSG]


def test_mllp_frames():
    data = b"\x0b" + MSG + b"\x1c\r" + b"\x0b" + MSG + b"\x1c\r"
    got = kinds(data)
    assert [b for k, b in got if k == MESSAGE] == [MSG, MSG]
    assert all(k in (MESSAGE, GAP) for k, _ in got)


def test_batch_segments_are_their_own_pieces():
    data = b"FHS|^~\\&|A\rBHS|^~\\&|A\r" + MSG + b"BTS|1\rFTS|1\r"
    assert [k for k, _ in kinds(data)] == [BATCH, BATCH, MESSAGE, BATCH, BATCH]


def test_custom_delimiters():
    data = b"MSH!$r?@!LIP!LIP!LB!LB!20111207121030!!RSP^SLI^RSP_K11!430102!D!2.5\rMSA!AA!1\r"
    assert kinds(data) == [(MESSAGE, data)]


def test_junk_is_kept_as_one_piece():
    data = b"<?xml version='1.0'?>\n<ORU/>\n\n" + MSG
    got = kinds(data)
    assert got[0] == (JUNK, b"<?xml version='1.0'?>\n<ORU/>")
    assert got[-1] == (MESSAGE, MSG)


def test_hold_back_of_a_message_that_may_grow():
    pieces, used = frame(MSG + MSG[:20], final=False)
    assert [p.kind for p in pieces] == [MESSAGE] and used == len(MSG)
    pieces, used = frame(MSG, final=False)
    assert pieces == [] and used == 0


def test_mllp_end_block_closes_a_message_at_once():
    data = b"\x0b" + MSG + b"\x1c\r"
    pieces, used = frame(data, final=False)
    assert [p.kind for p in pieces] == [GAP, MESSAGE] and used == len(MSG) + 1


# -- properties -------------------------------------------------------------------------
segment = st.sampled_from([b"MSH|^~\\&|A|B|C|D|2024||ADT^A01|X|P|2.5", b"PID|1||9", b"OBX|1|TX|||MSH|", b"FHS|^~\\&",
                           b"BHS|^~\\&", b"BTS|2", b"FTS|1", b"MSH#^~\\&#A", b"\x0b", b"\x1c", b"\xef\xbb\xbf", b"junk", b"MSH"])
eol = st.sampled_from([b"\r", b"\n", b"\r\n", b"", b"\x1c\r"])
hl7ish = st.lists(st.tuples(segment, eol), max_size=30).map(lambda parts: b"".join(s + e for s, e in parts))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=400), hl7ish))
def test_every_byte_is_accounted_for(data):
    pieces, used = frame(data)
    assert used == len(data)
    assert b"".join(data[p.start:p.end] for p in pieces) == data
    assert all(p.size > 0 for p in pieces)


@settings(max_examples=300, deadline=None)
@given(hl7ish, st.lists(st.integers(1, 60), min_size=1, max_size=8))
@example(b"MSH|^~\\&|A|B|C|D|2024||ADT^A01|X|P|2.5\rBTS|2\x1cPID|1||9\r", [46])  # a trailer closed by an MLLP end block
def test_reading_in_chunks_gives_the_same_messages(data, cuts):
    """A file read as it grows (the watch) frames exactly as the whole file does."""
    whole = [(p.kind, p.start, p.end) for p in frame(data)[0] if p.kind != GAP]
    got, base, buf, pos = [], 0, b"", 0
    for cut in cuts + [len(data)]:
        buf += data[pos:pos + cut]
        pos += cut
        pieces, used = frame(buf, base, final=pos >= len(data))
        got += [(p.kind, p.start, p.end) for p in pieces if p.kind != GAP]
        buf, base = buf[used:], base + used
    while pos < len(data) or buf:
        buf += data[pos:]
        pos = len(data)
        pieces, used = frame(buf, base, final=True)
        got += [(p.kind, p.start, p.end) for p in pieces if p.kind != GAP]
        buf, base = buf[used:], base + used
    assert got == whole
