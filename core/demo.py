"""Reproducible demo traffic of an ambulatory practice's interfaces (all names invented).

The practice's EHR (ECW at NORTHSIDE_FM) sends orders to a lab and to imaging, receives
results, ADT from the hospital, schedules, transcriptions, and sends charges and
immunisations. Each lane writes an interface log like an engine's: messages with their
ACKs, including NAKs with ERR segments, warnings, missing ACKs, resends (duplicates) and
the odd malformed message. The same seed gives the same bytes.

The demo tells the truth, so "see why it failed, fix that field, resend" can be done on it:
no timestamp lies in the future, control IDs never repeat (the live feed goes on from where
the workspace ended), every NAK names a fault the message really has (its PID-3 is empty,
its OBR-7 is not a timestamp, its ordering provider is not on file...), and lab results
answer orders the EHR really placed, for the same patient: preliminary, then final, now
and then corrected.
"""
from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEMO_COUNT = 20_000  # messages in the window's demo workspace

EHR = ("ECW", "NORTHSIDE_FM")
FAMILY = ("SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ", "MARTINEZ",
          "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR", "MOORE", "JACKSON", "MARTIN",
          "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ", "CLARK", "RAMIREZ", "LEWIS", "ROBINSON")
GIVEN = ("JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID", "ELIZABETH",
         "WILLIAM", "BARBARA", "RICHARD", "SUSAN", "JOSEPH", "JESSICA", "THOMAS", "KAREN", "CARLOS", "NANCY")
STREETS = ("MAPLE AVE", "OAK ST", "PINE RD", "CEDAR LN", "ELM ST", "LAKE DR", "HILL RD", "PARK BLVD")
TESTS = (("80053", "COMPREHENSIVE METABOLIC PANEL", (("2345-7", "GLUCOSE", "mg/dL", 70, 140), ("2160-0", "CREATININE", "mg/dL", 0.6, 1.3),
                                                       ("17861-6", "CALCIUM", "mg/dL", 8.5, 10.5), ("2951-2", "SODIUM", "mmol/L", 135, 145),
                                                       ("2823-3", "POTASSIUM", "mmol/L", 3.5, 5.1), ("3094-0", "BUN", "mg/dL", 7, 20))),
         ("85025", "CBC WITH DIFFERENTIAL", (("6690-2", "WBC", "10*3/uL", 4.0, 11.0), ("789-8", "RBC", "10*6/uL", 4.2, 5.9),
                                             ("718-7", "HEMOGLOBIN", "g/dL", 12.0, 17.5), ("4544-3", "HEMATOCRIT", "%", 36, 52),
                                             ("777-3", "PLATELETS", "10*3/uL", 150, 400))),
         ("83036", "HEMOGLOBIN A1C", (("4548-4", "HEMOGLOBIN A1C", "%", 4.0, 6.4),)),
         ("80061", "LIPID PANEL", (("2093-3", "CHOLESTEROL", "mg/dL", 120, 240), ("2571-8", "TRIGLYCERIDES", "mg/dL", 50, 200),
                                   ("2085-9", "HDL", "mg/dL", 35, 80), ("13457-7", "LDL CALCULATED", "mg/dL", 50, 160))))
VACCINES = (("08", "Hep B, adolescent or pediatric"), ("20", "DTaP"), ("141", "Influenza, seasonal, injectable"),
            ("208", "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose"), ("115", "Tdap"))
PROVIDERS = ("1234567893^WELBY^MARCUS^^^^^^NPI", "1457389201^QUINN^MICHAELA^^^^^^NPI", "1689934022^HOUSE^GREGORY^^^^^^NPI")
NAKS = (  # (code, ERR-3 code^text, location, user text); the message is given the fault it names (Generator._fault)
    ("AE", "101^Required field missing^HL70357", "PID^1^3", "Patient identifier is required"),
    ("AE", "102^Data type error^HL70357", "OBR^1^7", "Observation date/time is not a valid timestamp"),
    ("AE", "103^Table value not found^HL70357", "ORC^1^12", "Ordering provider NPI is not on file"),
    ("AR", "207^Application internal error^HL70357", "", "Receiving database unavailable, try again later"),
    ("AR", "200^Unsupported message type^HL70357", "MSH^1^9", "Message type not supported by this interface"),
)
UNKNOWN_PROVIDER = "1999999992^NOTONFILE^PAT^^^^^^NPI"  # a well-formed NPI the lab has never seen
LIVE_SEQ = 500_000_000  # the live feed's control IDs start here: never one the workspace used


@dataclass(frozen=True)
class Lane:
    folder: str
    sender: tuple[str, str]
    receiver: tuple[str, str]
    share: float  # of all traffic
    nak_rate: float
    missing_rate: float
    nak_code: str | None = None  # only NAKs of this MSA-1 code (None: any)


LANES = (
    Lane("lab_orders_out", EHR, ("QUEST", "QUEST_LAB"), 0.16, 0.04, 0.01),
    Lane("lab_results_in", ("QUEST", "QUEST_LAB"), EHR, 0.26, 0.01, 0.005),
    Lane("adt_in", ("EPIC_ADT", "MERCY_HOSP"), EHR, 0.20, 0.01, 0.002),
    Lane("scheduling_in", ("CENTRICITY", "SCHED"), EHR, 0.12, 0.0, 0.0),
    Lane("charges_out", EHR, ("ATHENA", "BILLING"), 0.10, 0.03, 0.0),
    Lane("immunizations_out", EHR, ("IIS", "STATE_IIS"), 0.06, 0.08, 0.02),
    Lane("imaging_orders_out", EHR, ("RADNET", "RADNET_IMG"), 0.06, 0.02, 0.08),
    Lane("transcription_in", ("DICTATE", "NUANCE"), EHR, 0.04, 0.0, 0.0),
)
# a go-live's bad day, for benchmarks: half the orders get no ACK and a quarter are refused (AE)
FAILING = tuple(replace(lane, missing_rate=0.5, nak_rate=0.25, nak_code="AE") if lane.folder.endswith("orders_out")
                else lane for lane in LANES)


class Generator:
    """Builds messages; `rng` decides everything, so a seed fixes the output."""

    def __init__(self, seed: int = 7, start: datetime | None = None, patients: int = 5000, *, seq: int = 0,
                 lanes: tuple[Lane, ...] = LANES) -> None:
        self.rng = random.Random(seed)
        self.lanes = lanes
        self.clock = start or datetime(2026, 11, 24, 6, 0, 0)
        self.until: datetime | None = None  # no timestamp goes past this (the live feed: now)
        self.seq = seq
        self.patients = [self._patient(i) for i in range(patients)]
        self.orders: list[list] = []  # lab orders still to be resulted: [placer, patient, test, filler, status]

    def _tick(self, delta: timedelta) -> None:
        self.clock += delta
        if self.until is not None and self.clock > self.until:
            self.clock = self.until

    def _patient(self, i: int) -> tuple:
        r = self.rng
        dob = datetime(1940, 1, 1) + timedelta(days=r.randrange(0, 30000))
        return (f"MRN{100000 + i}", f"{r.choice(FAMILY)}^{r.choice(GIVEN)}^{r.choice('ABCDEFGHJKLMNPRSTW')}",
                dob.strftime("%Y%m%d"), r.choice("MF"), f"{r.randrange(10, 9999)} {r.choice(STREETS)}^^SPRINGFIELD^IL^62{r.randrange(700, 800)}",
                f"(217)555-{r.randrange(1000, 9999)}")

    def _ts(self) -> str:
        return self.clock.strftime("%Y%m%d%H%M%S")

    def _msh(self, sender, receiver, mtype: str, version: str = "2.5.1", ack: str = "") -> tuple[str, str]:
        self.seq += 1
        cid = f"{sender[0][:3]}{self.seq:09d}"
        return cid, f"MSH|^~\\&|{sender[0]}|{sender[1]}|{receiver[0]}|{receiver[1]}|{self._ts()}||{mtype}|{cid}|P|{version}{ack}"

    def _pid(self, p: tuple) -> str:
        return f"PID|1||{p[0]}^^^NORTHSIDE^MR||{p[1]}||{p[2]}|{p[3]}|||{p[4]}||{p[5]}"

    def ack(self, msg: str, code: str = "AA", err: tuple | None = None, warn: bool = False) -> str:
        fields = msg.split("\r", 1)[0].split("|")
        sender, receiver = (fields[4], fields[5]), (fields[2], fields[3])
        self._tick(timedelta(milliseconds=self.rng.randrange(200, 4000)))
        _, msh = self._msh(sender, receiver, "ACK^" + fields[8].split("^")[1] + "^ACK", fields[11])
        segs = [msh, f"MSA|{code}|{fields[9]}" + (f"|{err[3]}" if err else "")]
        if err:
            segs.append(f"ERR||{err[2]}|{err[1]}|E||||{err[3]}")
        elif warn:
            segs.append("ERR||RXA^1^9|103^Table value not found^HL70357|W||||Administered-at location not recognised; stored without it")
        return "\r".join(segs) + "\r"

    # -- one message per lane -------------------------------------------------------------
    def message(self, lane: Lane) -> str:
        r, p = self.rng, self.rng.choice(self.patients)
        maker = getattr(self, "_" + lane.folder)
        return "\r".join(maker(lane, r, p)) + "\r"

    def _lab_orders_out(self, lane, r, p):
        test = r.choice(TESTS)
        cid, msh = self._msh(lane.sender, lane.receiver, "ORM^O01^ORM_O01", "2.3")
        placer = f"ORD{self.seq:08d}"
        self.orders.append([placer, p, test, None, None])
        del self.orders[:-400]  # the lab works through recent orders; very old ones were resulted long ago
        return [msh, self._pid(p), f"PV1|1|O|NFM^^^NORTHSIDE||||{r.choice(PROVIDERS)}",
                f"ORC|NW|{placer}^ECW|||||^^^{self._ts()}||{self._ts()}|||{r.choice(PROVIDERS)}",
                f"OBR|1|{placer}^ECW||{test[0]}^{test[1]}^CPT|||{self._ts()}|||||||||{r.choice(PROVIDERS)}",
                "DG1|1|I10|E11.9^Type 2 diabetes mellitus without complications^I10"]

    def _lab_results_in(self, lane, r, p):
        """A result for an order the EHR placed (same patient and test): preliminary or final
        first, final after a preliminary, now and then a corrected one after the final."""
        if self.orders and r.random() < 0.95:
            order = self.orders[r.randrange(min(len(self.orders), 40))]
            placer, p, test, filler, was = order
            status = ("P" if r.random() < 0.3 else "F") if was is None else "F" if was == "P" else "C"
            order[3], order[4] = filler or f"Q{r.randrange(10**7, 10**8)}", status
            filler = order[3]
            if status == "C" or (status == "F" and r.random() < 0.9):
                self.orders.remove(order)  # done, bar the odd correction
        else:  # a result for an order placed elsewhere (a hospitalist's, say)
            test, status = r.choice(TESTS), "F"
            placer, filler = f"EXT{r.randrange(10**6, 10**7)}", f"Q{r.randrange(10**7, 10**8)}"
        cid, msh = self._msh(lane.sender, lane.receiver, "ORU^R01^ORU_R01", "2.5.1")
        segs = [msh, self._pid(p), f"ORC|RE|{placer}^ECW|{filler}^QUEST",
                f"OBR|1|{placer}^ECW|{filler}^QUEST|{test[0]}^{test[1]}^CPT|||{self._ts()}|||||||||{r.choice(PROVIDERS)}||||||{self._ts()}|||{status}"]
        for i, (loinc, name, unit, lo, hi) in enumerate(test[2], start=1):
            value = round(r.uniform(lo * 0.8, hi * 1.2), 1)
            flag = "H" if value > hi else "L" if value < lo else "N"
            segs.append(f"OBX|{i}|NM|{loinc}^{name}^LN||{value}|{unit}|{lo}-{hi}|{flag}|||{status}|||{self._ts()}")
        return segs

    def _adt_in(self, lane, r, p):
        event = r.choices(("A04", "A08", "A01", "A03"), (0.35, 0.4, 0.15, 0.1))[0]
        cid, msh = self._msh(lane.sender, lane.receiver, f"ADT^{event}^ADT_A01", "2.4")
        return [msh, f"EVN|{event}|{self._ts()}", self._pid(p),
                f"NK1|1|{r.choice(FAMILY)}^{r.choice(GIVEN)}|SPO^Spouse^HL70063||{p[5]}",
                f"PV1|1|{'I' if event in ('A01', 'A03') else 'O'}|MED^201^A^MERCY|||||{r.choice(PROVIDERS)}||||||||||||V{r.randrange(10**6, 10**7)}",
                f"IN1|1|BCBS01^BLUE CROSS PPO|60054|BLUE CROSS BLUE SHIELD||||||||||||{p[1]}|SEL|{p[2]}"]

    def _scheduling_in(self, lane, r, p):
        event = r.choices(("S12", "S14", "S15"), (0.6, 0.3, 0.1))[0]
        cid, msh = self._msh(lane.sender, lane.receiver, f"SIU^{event}^SIU_S12", "2.3.1")
        appt = self.clock + timedelta(days=r.randrange(1, 30))
        return [msh, f"SCH|A{self.seq}|A{self.seq}|||||FOLLOWUP^Follow-up visit|||20|MIN|^^20^{appt:%Y%m%d%H%M}",
                self._pid(p), f"AIP|1||{r.choice(PROVIDERS)}|MD"]

    def _charges_out(self, lane, r, p):
        cid, msh = self._msh(lane.sender, lane.receiver, "DFT^P03^DFT_P03", "2.3")
        code = r.choice(("99213", "99214", "99396", "36415", "90471"))
        return [msh, f"EVN|P03|{self._ts()}", self._pid(p), f"PV1|1|O|NFM|||||{r.choice(PROVIDERS)}",
                f"FT1|1|||{self._ts()}||CG|{code}^Office visit^CPT|||1|||||||||{r.choice(PROVIDERS)}|||||{code}^^CPT"]

    def _immunizations_out(self, lane, r, p):
        cvx = r.choice(VACCINES)
        cid, msh = self._msh(lane.sender, lane.receiver, "VXU^V04^VXU_V04", "2.5.1", "|||ER|AL")
        return [msh, self._pid(p), f"ORC|RE||IZ{self.seq}^ECW",
                f"RXA|0|1|{self._ts()}||{cvx[0]}^{cvx[1]}^CVX|0.5|mL^mL^UCUM||00^New record^NIP001|||||||LOT{r.randrange(1000, 9999)}|20271231|PFR^Pfizer^MVX|||CP|A"]

    def _imaging_orders_out(self, lane, r, p):
        cid, msh = self._msh(lane.sender, lane.receiver, "ORM^O01^ORM_O01", "2.3")
        placer = f"IMG{self.seq:08d}"
        study = r.choice(("71046^XR CHEST 2 VIEWS", "73030^XR SHOULDER", "76700^US ABDOMEN COMPLETE", "77067^SCREENING MAMMOGRAM"))
        return [msh, self._pid(p), f"ORC|NW|{placer}^ECW||||||||||{r.choice(PROVIDERS)}",
                f"OBR|1|{placer}^ECW||{study}^CPT|||{self._ts()}"]

    def _transcription_in(self, lane, r, p):
        cid, msh = self._msh(lane.sender, lane.receiver, "MDM^T02^MDM_T02", "2.5")
        note = f"Progress note for {p[1].split('^')[1].title()}. Patient seen for follow-up. Plan discussed. " * 12
        doc = base64.b64encode(note.encode()).decode()
        return [msh, f"EVN|T02|{self._ts()}", self._pid(p), "PV1|1|O|NFM",
                f"TXA|1|PN^Progress note|TX|{self._ts()}|{r.choice(PROVIDERS)}||||||DOC{self.seq}||||||AU",
                f"OBX|1|ED|PN^Progress note||^TEXT^^Base64^{doc}||||||F"]

    # -- streams ------------------------------------------------------------------------
    def traffic(self, count: int, *, mean_gap_s: float = 2.0) -> Iterator[tuple[Lane, str]]:
        """(lane, bytes-as-text) for `count` messages and ACKs, interleaved as on the wire."""
        weights = [lane.share for lane in self.lanes]
        made = 0
        while made < count:
            lane = self.rng.choices(self.lanes, weights)[0]
            self._tick(timedelta(seconds=self.rng.expovariate(1 / mean_gap_s)))
            msg = self.message(lane)
            made += 1
            if self.rng.random() < 0.003:  # the sender crashed or misbehaved: no ACK comes
                yield lane, self._malformed(msg)
                continue
            answer = self._answer(lane, msg)
            if answer and answer[1]:
                msg = self._fault(msg, answer[1])  # the NAK is true: the message has what it names
            yield lane, msg
            if answer:
                yield lane, self.ack(msg, *answer) if answer[1] else self.ack(msg, warn=answer[2])
                made += 1
            if self.rng.random() < 0.004:  # a resend by the sender: the same bytes again, answered again
                yield lane, msg
                made += 1
                if answer:
                    yield lane, self.ack(msg, *answer) if answer[1] else self.ack(msg, warn=answer[2])
                    made += 1

    def _answer(self, lane: Lane, msg: str) -> tuple | None:
        """How the receiver will answer: None (no ACK comes), (code, ERR) for a NAK, or
        ("AA", None, warn) for an acceptance."""
        r = self.rng.random()
        if r < lane.missing_rate:
            return None
        if r < lane.missing_rate + lane.nak_rate:
            err = self.rng.choice([n for n in NAKS if _applies(n, msg) and lane.nak_code in (None, n[0])])
            return err[0], err
        return "AA", None, lane.folder == "immunizations_out" and self.rng.random() < 0.1

    @staticmethod
    def _fault(msg: str, err: tuple) -> str:
        """The message with the fault its NAK names (207, the receiver's own trouble, changes nothing)."""
        code = err[1].split("^")[0]
        lines = msg.rstrip("\r").split("\r")
        for i, line in enumerate(lines):
            f = line.split("|")
            if code == "101" and f[0] == "PID":
                f[3] = ""
            elif code == "102" and f[0] == "OBR" and len(f) > 7:
                f[7] = f[7][:8] + " " + f[7][8:12]  # a space where the time should follow the date
            elif code == "103" and f[0] == "ORC" and len(f) > 12:
                f[12] = UNKNOWN_PROVIDER
            elif code == "200" and f[0] == "MSH":
                f[8] = "OML^O21^OML_O21"  # a lab order in a structure this receiver does not take
            lines[i] = "|".join(f)
        return "\r".join(lines) + "\r"

    def _malformed(self, msg: str) -> str:
        kind = self.rng.randrange(4)
        if kind == 3 and "\rPID|1||" in msg:  # the sender's mapping lost the patient's identifier
            head, rest = msg.split("\rPID|1||", 1)
            return head + "\rPID|1||" + rest[rest.index("|"):]
        if kind == 0:  # a message cut short by a crash in the sender
            return msg[: len(msg) // 3]
        if kind == 1:  # no control ID
            parts = msg.split("|")
            parts[9] = ""
            return "|".join(parts)
        return "PID|1||BROKEN\r" + msg.split("\r", 1)[1]  # MSH lost


def _applies(nak: tuple, msg: str) -> bool:
    """Whether a message can carry the fault a NAK names (an ADT has no OBR-7 to get wrong)."""
    where = nak[2].split("^")[0]
    if nak[1].startswith("200"):
        return msg.split("|", 9)[8].startswith("ORM")
    return not where or f"\r{where}|" in msg and (where != "ORC" or len(msg.split("\rORC|", 1)[1].split("\r")[0].split("|")) > 11)


def write_logs(root: Path, count: int, *, seed: int = 7, start: datetime | None = None,
               eol: str = "\r\n", lanes: tuple[Lane, ...] = LANES) -> dict[str, Path]:
    """Write `count` messages as interface logs under root/<lane>/; returns lane -> file."""
    gen = Generator(seed, start, lanes=lanes)
    files = {lane.folder: root / lane.folder / f"{(start or gen.clock):%Y%m%d}.hl7" for lane in LANES}
    for f in files.values():
        f.parent.mkdir(parents=True, exist_ok=True)
    handles = {name: open(f, "w", encoding="utf-8", newline="") for name, f in files.items()}
    try:
        for lane, msg in gen.traffic(count):
            handles[lane.folder].write(msg.replace("\r", eol) if eol != "\r" else msg)
    finally:
        for h in handles.values():
            h.close()
    errors = root / "errors"
    errors.mkdir(exist_ok=True)
    (errors / "rejected_0001.hl7").write_bytes(b'<?xml version="1.0"?><ORU_R01><MSH/></ORU_R01>\n')
    (errors / "rejected_0002.hl7").write_bytes(b"BHS|^~\\&|QUEST|QUEST_LAB\r" + gen.message(LANES[1]).encode() + b"BTS|3\r")
    return files


def span(count: int, *, seed: int = 7) -> timedelta:
    """How long `count` messages of this seed's traffic take: the same draws, nothing written."""
    gen = Generator(seed, datetime(2000, 1, 1))
    for _ in gen.traffic(count):
        pass
    return gen.clock - datetime(2000, 1, 1)


def workspace(root: Path, count: int, *, seed: int = 7, now: datetime | None = None) -> Path:
    """A demo workspace's interface logs: `count` messages whose last is stamped at `now` (never
    after it); returns the logs folder."""
    end = now or datetime.now(UTC).replace(tzinfo=None)
    write_logs(root / "logs", count, seed=seed, start=end - span(count, seed=seed))
    return root / "logs"


class LiveFeed:
    """Keeps a demo workspace moving: appends fresh traffic to the lane logs, as an engine would."""

    def __init__(self, logs: Path, *, seed: int = 11) -> None:
        self.logs = logs
        self.gen = Generator(seed, seq=LIVE_SEQ)  # its control IDs never repeat the workspace's
        self._traffic = self.gen.traffic(1 << 62, mean_gap_s=0.5)

    def append(self, count: int, now: datetime | None = None) -> int:
        """Write `count` messages (and their ACKs) stamped up to `now`, never after it; returns
        how many were written."""
        now = now or datetime.now(UTC).replace(tzinfo=None)
        self.gen.until = now
        self.gen.clock = max(self.gen.clock, now - timedelta(seconds=0.5 * count))
        by_lane: dict[str, list[str]] = {}
        for _ in range(count):
            lane, msg = next(self._traffic)
            by_lane.setdefault(lane.folder, []).append(msg.replace("\r", "\r\n"))
        for folder, msgs in by_lane.items():
            (self.logs / folder).mkdir(parents=True, exist_ok=True)
            with open(self.logs / folder / "live.hl7", "a", encoding="utf-8", newline="") as f:
                f.write("".join(msgs))
        return count


def add_alert_rules(ctx) -> None:
    """The rules an interface analyst would start a go-live with (core.alerts)."""
    from core import alerts

    alerts.add_rule(ctx, "silence", 10, hours="07:00-19:00", weekdays="12345")
    alerts.add_rule(ctx, "error_rate", 5, window_min=60)
    alerts.add_rule(ctx, "nak_burst", 10, window_min=15)
    alerts.add_rule(ctx, "queue_depth", 50)
    alerts.add_rule(ctx, "ack_latency", 30, window_min=60)
    alerts.add_rule(ctx, "direct_timed_out", 1, window_min=480)
