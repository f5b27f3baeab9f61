"""A seizure case as a YAML file, with errors that name file, line and field::

    case_id: KZ-AFM-2026-0101
    agency: Financial Monitoring Agency
    case_number: 2026-0101
    court: Astana City Court
    description: Illegal exchange "X", 14 wallets
    opened_on: 2026-03-02
    documents:
      - {kind: seizure_order, reference: SO-2026-0101, dated: 2026-03-02, issued_by: Court}
    assets:
      - asset_id: A1
        chain: bitcoin
        network: mainnet          # optional (mainnet, testnet, signet, regtest)
        instrument: BTC
        quantity: "12.5"
        addresses: [bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4]
        tx_ids: [4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b]
        holding: state_wallet     # state_wallet, custodian, exchange_freeze
        holder: AFM key custody unit
        seized_on: 2026-03-02
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from qoima.adapters.fields import parse_amount, parse_date, parse_enum
from qoima.adapters.located_yaml import Mapping, as_list, as_mapping, load_yaml
from qoima.adapters.policy_fields import built, text, words
from qoima.app.custody import AssetIntake
from qoima.custody.addresses import validate_address, validate_txid
from qoima.custody.cases import Case, HoldingPlace, SeizedAsset
from qoima.custody.legal import Document, DocumentKind
from qoima.domain.errors import InvalidInput, Origin

_TOP = {"case_id", "agency", "case_number", "court", "description", "opened_on", "documents",
        "assets"}
_ASSET = {"asset_id", "chain", "network", "instrument", "quantity", "addresses", "tx_ids",
          "holding", "holder", "seized_on"}


def _date(m: Mapping, key: str) -> Any:
    return parse_date(text(m, key), origin=m.origin(key), field=key)


def parse_document(m: Mapping) -> Document:
    m.check_keys({"kind", "reference", "dated", "issued_by"})
    kind = parse_enum(DocumentKind, text(m, "kind"), origin=m.origin("kind"), field="kind")
    document: Document = built(lambda: Document(kind, text(m, "reference"), _date(m, "dated"),
                                                m.string("issued_by") or ""), m)
    return document


def _asset(m: Mapping, case_id: str) -> AssetIntake:
    m.check_keys(_ASSET)
    quantity = parse_amount(text(m, "quantity"), origin=m.origin("quantity"), field="quantity")
    assert quantity is not None
    holding = parse_enum(HoldingPlace, text(m, "holding"), origin=m.origin("holding"),
                         field="holding")
    asset: SeizedAsset = built(lambda: SeizedAsset(
        text(m, "asset_id"), case_id, text(m, "chain"), text(m, "instrument"),
        Decimal(quantity), words(m, "addresses"),
        words(m, "tx_ids") if "tx_ids" in m.values else (), holding, text(m, "holder"),
        _date(m, "seized_on")), m, {"instrument_code": "instrument", "holding": "holding"})
    network = m.string("network") or "mainnet"
    for key, check in (("addresses", lambda v: validate_address(asset.chain, v, network)),
                       ("tx_ids", lambda v: validate_txid(asset.chain, v))):
        for value in getattr(asset, key):
            try:
                check(value)
            except InvalidInput as error:
                error.field = None
                raise error.with_origin(m.origin(key), key) from None
    return AssetIntake(asset, network)


def read_case(path: Path) -> tuple[Case, list[AssetIntake], list[Document]]:
    """The case, its assets (addresses and transaction ids checked for their chain) and
    its intake documents."""
    if not path.exists():
        raise InvalidInput("file not found", origin=Origin(str(path)))
    root = as_mapping(load_yaml(path), what="file", origin=Origin(str(path), 1))
    root.check_keys(_TOP)
    case: Case = built(lambda: Case(text(root, "case_id"), text(root, "agency"),
                                    text(root, "case_number"), text(root, "court"),
                                    root.string("description") or "",
                                    _date(root, "opened_on")), root)
    documents = [parse_document(as_mapping(d, what="document", origin=root.origin("documents")))
                 for d in as_list(root.get("documents"), what="documents",
                                  origin=root.origin("documents"))]
    raw = as_list(root.get("assets"), what="assets", origin=root.origin("assets"))
    if not raw:
        raise InvalidInput("a case needs at least one asset", origin=root.origin("assets"),
                           field="assets")
    assets = [_asset(as_mapping(item, what="asset", origin=root.origin("assets")), case.case_id)
              for item in raw]
    return case, assets, documents
