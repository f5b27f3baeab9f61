"""Reading OFAC's SDN list (classic XML ``sdn.xml`` or ``sdn.csv``) into a sanctions list.

Only the digital-currency addresses are kept. In the XML each one is an ``<id>`` of an
``<sdnEntry>``::

    <idList><id><uid>130464</uid><idType>Digital Currency Address - XBT</idType>
        <idNumber>149w62rY42aZBox8fGcmqNsXUzSStKeq8C</idNumber></id></idList>

and the list's date is ``<publshInformation><Publish_Date>MM/DD/YYYY`` (OFAC's spelling).
In ``sdn.csv`` (no header; ``ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign,
Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks``; ``-0-`` marks an empty field)
they sit in the remarks: ``Digital Currency Address - ETH 0x098B...2f96; alt. ...``; the CSV
carries no date, so the caller names it.

The XML is parsed with defusedxml (no DTDs entities or external references: the file comes
from outside) through a target that remembers the line of every element, so every error
names the file, the line and the field. The whole file is parsed before anything is
returned.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from qoima.custody.screening import SanctionedAddress, SanctionsList, chain_for_currency
from qoima.domain.errors import InvalidInput, Origin

LIST_NAME = "OFAC SDN"
DCA_PREFIX = "Digital Currency Address"
CSV_COLUMNS = ("ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign",
               "Vess_type", "Tonnage", "GRT", "Vess_flag", "Vess_owner", "Remarks")
CSV_NULL = "-0-"
_ID_TYPE = re.compile(r"^Digital Currency Address - ([A-Za-z0-9]+)$")
_REMARK = re.compile(
    r"Digital Currency Address\s*-\s*(?:([A-Za-z0-9]+)\s+)?([^;]*)(?:;|$)")
MAX_BYTES = 512 * 1024 * 1024


def read_sanctions(path: Path, *, list_date: date | None = None) -> SanctionsList:
    """Parse ``path`` by its suffix: ``.xml`` (classic SDN XML) or ``.csv`` (sdn.csv)."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return read_sdn_xml(path, list_date=list_date)
    if suffix == ".csv":
        if list_date is None:
            raise InvalidInput("sdn.csv carries no publication date; give the list date",
                               origin=Origin(str(path)), field="list_date")
        return read_sdn_csv(path, list_date=list_date)
    raise InvalidInput("sanctions files must be the SDN .xml or .csv", origin=Origin(str(path)))


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise InvalidInput("file not found", origin=Origin(str(path)))
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"file is larger than {MAX_BYTES // 2**20} MiB",
                           origin=Origin(str(path)))
    return data


# ---------------------------------------------------------------- classic XML


@dataclass
class _Node:
    tag: str  # local name, namespace dropped (OFAC changed the namespace over the years)
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)

    def child(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]

    def text_of(self, tag: str) -> str:
        found = self.child(tag)
        return found.text.strip() if found is not None else ""


class _LineTarget:
    """A parser target that builds :class:`_Node` trees with the line of each start tag."""

    def __init__(self) -> None:
        self.parser: DefusedXMLParser | None = None
        self.stack: list[_Node] = []
        self.root: _Node | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        assert self.parser is not None
        node = _Node(tag.rsplit("}", 1)[-1], self.parser.parser.CurrentLineNumber)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            self.stack[-1].text += text

    def close(self) -> _Node | None:
        return self.root


def _parse_xml(data: bytes, file: str) -> _Node:
    target = _LineTarget()
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    target.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as error:
        line = error.position[0] if error.position else 0
        raise InvalidInput(f"not well-formed XML: {error}", origin=Origin(file, line)) from None
    except DefusedXmlException as error:
        raise InvalidInput(f"refused: the file declares a DTD, entities or external "
                           f"references ({type(error).__name__})",
                           origin=Origin(file, parser.parser.CurrentLineNumber)) from None
    assert isinstance(root, _Node)
    return root


def _publish_date(root: _Node, file: str) -> date | None:
    info = root.child("publshInformation")
    node = info.child("Publish_Date") if info is not None else None
    if node is None or not node.text.strip():
        return None
    try:
        return datetime.strptime(node.text.strip(), "%m/%d/%Y").date()  # noqa: DTZ007
    except ValueError:
        raise InvalidInput(f"{node.text.strip()!r} is not a date in MM/DD/YYYY form",
                           origin=Origin(file, node.line), field="Publish_Date") from None


def _entity_name(entry: _Node) -> str:
    return " ".join(part for part in (entry.text_of("firstName"), entry.text_of("lastName"))
                    if part)


def _address(text: str, origin: Origin, field_name: str) -> str:
    address = text.strip()
    if not address:
        raise InvalidInput("a digital currency address is empty", origin=origin,
                           field=field_name)
    if any(ch.isspace() for ch in address):
        raise InvalidInput(f"address {address!r} contains spaces", origin=origin,
                           field=field_name)
    return address


def read_sdn_xml(path: Path, *, list_date: date | None = None) -> SanctionsList:
    """Every digital-currency address in a classic SDN XML file.

    ``list_date`` is used only when the file has no ``Publish_Date``.
    """
    file = str(path)
    data = _read_bytes(path)
    root = _parse_xml(data, file)
    if root.tag != "sdnList":
        raise InvalidInput(f"root element is <{root.tag}>, expected <sdnList>",
                           origin=Origin(file, root.line))
    published = _publish_date(root, file) or list_date
    if published is None:
        raise InvalidInput("no publshInformation/Publish_Date in the file; give the list date",
                           origin=Origin(file, root.line), field="Publish_Date")
    entries: list[SanctionedAddress] = []
    for entry in root.all("sdnEntry"):
        id_list = entry.child("idList")
        if id_list is None:
            continue
        uid = entry.text_of("uid")
        for item in id_list.all("id"):
            id_type = item.text_of("idType")
            if not id_type.startswith(DCA_PREFIX):
                continue
            type_node = item.child("idType")
            assert type_node is not None
            match = _ID_TYPE.fullmatch(id_type)
            if match is None:
                raise InvalidInput(f"{id_type!r} does not name a currency "
                                   f"('{DCA_PREFIX} - XBT')", origin=Origin(file, type_node.line),
                                   field="idType")
            number = item.child("idNumber")
            where = Origin(file, number.line if number is not None else item.line)
            if not uid:
                raise InvalidInput("sdnEntry has no uid", origin=Origin(file, entry.line),
                                   field="uid")
            address = _address(number.text if number is not None else "", where, "idNumber")
            programs = [p.text.strip() for p in (entry.child("programList") or _Node("", 0))
                        .all("program") if p.text.strip()]
            currency = match.group(1).upper()
            entries.append(SanctionedAddress(
                chain_code=chain_for_currency(currency, address), address=address,
                entity=_entity_name(entry), program="; ".join(programs), list_name=LIST_NAME,
                list_date=published, currency_code=currency, entry_id=uid))
    return SanctionsList(entries=tuple(entries), source=file,
                         content_hash=hashlib.sha256(data).hexdigest())


# ---------------------------------------------------------------- sdn.csv


def _csv_value(text: str) -> str:
    value = text.strip()
    return "" if value == CSV_NULL else value


def _programs(text: str) -> str:
    """``SDGT] [IRGC`` (sdn.csv's way of listing several) -> ``SDGT; IRGC``."""
    parts = [p.strip(" []") for p in text.split("] [")]
    return "; ".join(p for p in parts if p)


def _remark_addresses(remarks: str, origin: Origin) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in _REMARK.finditer(remarks):
        code, address = (match.group(1) or "").upper(), match.group(2).strip()
        if not code:
            raise InvalidInput(f"{match.group(0).strip()!r} does not name a currency "
                               f"('{DCA_PREFIX} - XBT <address>')", origin=origin,
                               field="Remarks")
        found.append((code, _address(address, origin, "Remarks")))
    return found


def read_sdn_csv(path: Path, *, list_date: date) -> SanctionsList:
    """Every digital-currency address in the remarks of an ``sdn.csv`` file."""
    file = str(path)
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise InvalidInput("file is not UTF-8 text", origin=Origin(file, line)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    entries: list[SanctionedAddress] = []
    first = True
    for row in reader:
        origin = Origin(file, reader.line_num)
        cells = list(row)
        if not cells or all(not c.strip() or c.strip() == "\x1a" for c in cells):
            continue  # blank lines and the DOS end-of-file mark OFAC appends
        if first and cells[0].strip().lower() == "ent_num":
            first = False
            continue  # a header row, present in some copies
        first = False
        if len(cells) != len(CSV_COLUMNS):
            raise InvalidInput(f"{len(cells)} values, expected {len(CSV_COLUMNS)} "
                               f"({', '.join(CSV_COLUMNS)})", origin=origin)
        values = dict(zip(CSV_COLUMNS, (_csv_value(c) for c in cells), strict=True))
        if not values["ent_num"].isdigit():
            raise InvalidInput(f"{values['ent_num']!r} is not an entry number", origin=origin,
                               field="ent_num")
        for currency, address in _remark_addresses(values["Remarks"], origin):
            entries.append(SanctionedAddress(
                chain_code=chain_for_currency(currency, address), address=address,
                entity=values["SDN_Name"], program=_programs(values["Program"]),
                list_name=LIST_NAME, list_date=list_date, currency_code=currency,
                entry_id=values["ent_num"]))
    return SanctionsList(entries=tuple(entries), source=file,
                         content_hash=hashlib.sha256(data).hexdigest())
