"""Parsing OFAC SDN files (classic XML and CSV) for digital-currency addresses."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from qoima.adapters.sanctions_files import read_sanctions, read_sdn_csv, read_sdn_xml
from qoima.custody.screening import screen
from qoima.domain.errors import InvalidInput

DATA = Path(__file__).parents[1] / "custody" / "data"
XML = DATA / "sdn_sample.xml"
CSV = DATA / "sdn_sample.csv"
LAZARUS = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
EXPECTED = [
    ("bitcoin", "149w62rY42aZBox8fGcmqNsXUzSStKeq8C", "XBT", "26137", "CYBER2"),
    ("bitcoin", "1AjZPMsnmpdK2Rv9KQNfMurTXinscVro9V", "XBT", "26138", "CYBER2"),
    ("ethereum", LAZARUS, "ETH", "27307", "DPRK3"),
    ("bitcoin", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "XBT", "99999", "CYBER2; DPRK3"),
    ("tron", "TfsSM5YycUn9UoqmYDLMxX9K8svBZY1Uzx", "USDT", "99999", "CYBER2; DPRK3"),
    ("monero", "4QoimaSyntheticMoneroAddressNotOnAnyList", "XMR", "99999", "CYBER2; DPRK3"),
]


def fields(path: Path, **kwargs: date) -> list[tuple[str, str, str, str, str]]:
    parsed = read_sanctions(path, **kwargs)
    return [(e.chain_code, e.address, e.currency_code, e.entry_id, e.program)
            for e in parsed.entries]


def test_xml_fixture() -> None:
    parsed = read_sdn_xml(XML)
    assert fields(XML) == EXPECTED
    assert parsed.source == str(XML)
    assert parsed.content_hash == hashlib.sha256(XML.read_bytes()).hexdigest()
    first = parsed.entries[0]
    assert first.entity == "Ali KHORASHADIZADEH" and first.list_name == "OFAC SDN"
    assert {e.list_date for e in parsed.entries} == {date(2022, 4, 14)}
    lazarus = parsed.entries[2]
    assert lazarus.entity == "LAZARUS GROUP"


def test_csv_fixture() -> None:
    assert fields(CSV, list_date=date(2022, 4, 14)) == EXPECTED
    parsed = read_sdn_csv(CSV, list_date=date(2022, 4, 14))
    assert parsed.entries[0].entity == "KHORASHADIZADEH, Ali"
    assert parsed.content_hash == hashlib.sha256(CSV.read_bytes()).hexdigest()


def test_screening_the_parsed_list() -> None:
    hits = screen([("ethereum", LAZARUS.lower()),
                   ("bitcoin", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
                   ("bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")], read_sdn_xml(XML))
    assert [h.listed.entity for h in hits] == ["LAZARUS GROUP", "QOIMA TEST ENTITY"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def xml(body: str, published: str = "<publshInformation><Publish_Date>01/02/2025"
                                       "</Publish_Date></publshInformation>") -> str:
    return f'<?xml version="1.0"?>\n<sdnList>\n{published}\n{body}\n</sdnList>\n'


def entry(id_type: str = "Digital Currency Address - XBT", number: str = "1abc",
          uid: str = "<uid>7</uid>") -> str:
    return (f"<sdnEntry>\n{uid}\n<lastName>X</lastName>\n<idList>\n<id>\n"
            f"<idType>{id_type}</idType>\n<idNumber>{number}</idNumber>\n</id>\n</idList>\n"
            "</sdnEntry>")


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    (xml(entry(number="  ")), 10, "idNumber", "a digital currency address is empty"),
    (xml(entry(number="1ab c")), 10, "idNumber", "contains spaces"),
    (xml(entry(id_type="Digital Currency Address")), 9, "idType", "does not name a currency"),
    (xml(entry(uid="")), 4, "uid", "sdnEntry has no uid"),
    (xml(entry(), published=""), 2, "Publish_Date", "no publshInformation/Publish_Date"),
    (xml(entry(), published="<publshInformation><Publish_Date>2025-01-02</Publish_Date>"
         "</publshInformation>"), 3, "Publish_Date", "not a date in MM/DD/YYYY form"),
    (xml(entry()).replace("</sdnEntry>", "</sdnEntr>"), 13, None, "not well-formed XML"),
    ('<?xml version="1.0"?>\n<other/>\n', 2, None, "root element is <other>"),
    ('<?xml version="1.0"?>\n<!DOCTYPE sdnList [<!ENTITY a "x">]>\n<sdnList/>\n', 2, None,
     "refused: the file declares a DTD"),
])
def test_xml_errors(tmp_path: Path, text: str, line: int, field: str | None,
                    message: str) -> None:
    path = write(tmp_path, "sdn.xml", text)
    with pytest.raises(InvalidInput, match=message) as caught:
        read_sdn_xml(path)
    assert caught.value.origin is not None
    assert (caught.value.origin.file, caught.value.origin.line) == (str(path), line)
    assert caught.value.field == field


def test_xml_without_date_takes_the_given_one(tmp_path: Path) -> None:
    path = write(tmp_path, "sdn.xml", xml(entry(), published=""))
    parsed = read_sdn_xml(path, list_date=date(2025, 1, 3))
    assert parsed.entries[0].list_date == date(2025, 1, 3)


def test_xml_ignores_other_ids_and_entries_without_them(tmp_path: Path) -> None:
    path = write(tmp_path, "sdn.xml", xml(entry(id_type="Passport", number="X 1") +
                                          "<sdnEntry><uid>8</uid></sdnEntry>"))
    assert read_sdn_xml(path).entries == ()


ROW = ('7,"X",-0- ,"CYBER2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
       '"Digital Currency Address - XBT 1abc;"\n')


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ("7,X,-0-\n", 1, None, "3 values, expected 12"),
    (ROW + ROW.replace("7,", "x7,", 1), 2, "ent_num", "'x7' is not an entry number"),
    (ROW.replace("XBT 1abc", "1abc"), 1, "Remarks", "does not name a currency"),
    (ROW.replace("XBT 1abc", "XBT "), 1, "Remarks", "address is empty"),
    (ROW.replace("XBT 1abc", "XBT 1abc extra"), 1, "Remarks", "contains spaces"),
])
def test_csv_errors(tmp_path: Path, text: str, line: int, field: str | None,
                    message: str) -> None:
    path = write(tmp_path, "sdn.csv", text)
    with pytest.raises(InvalidInput, match=message) as caught:
        read_sdn_csv(path, list_date=date(2025, 1, 2))
    assert caught.value.origin is not None
    assert (caught.value.origin.file, caught.value.origin.line) == (str(path), line)
    assert caught.value.field == field


def test_csv_header_row_and_eof_mark(tmp_path: Path) -> None:
    header = ",".join(["ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign",
                       "Vess_type", "Tonnage", "GRT", "Vess_flag", "Vess_owner", "Remarks"])
    path = write(tmp_path, "sdn.csv", header + "\n" + ROW + "\n\x1a")
    parsed = read_sdn_csv(path, list_date=date(2025, 1, 2))
    assert [(e.address, e.entity, e.program) for e in parsed.entries] == [("1abc", "X",
                                                                           "CYBER2")]


def test_dispatch_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="give the list date"):
        read_sanctions(CSV)
    with pytest.raises(InvalidInput, match=r"must be the SDN \.xml or \.csv"):
        read_sanctions(write(tmp_path, "sdn.txt", ""))
    with pytest.raises(InvalidInput, match="file not found"):
        read_sanctions(tmp_path / "missing.xml")
    bad = tmp_path / "sdn.csv"
    bad.write_bytes(ROW.encode() + b"\xff\n")
    with pytest.raises(InvalidInput, match="not UTF-8") as caught:
        read_sdn_csv(bad, list_date=date(2025, 1, 2))
    assert caught.value.origin is not None and caught.value.origin.line == 2
