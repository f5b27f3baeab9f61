"""What a proof-of-control check answers (shared by the Bitcoin and Ethereum verifiers)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from qoima.custody.addresses import AddressInfo


class ProofScheme(StrEnum):
    BIP322_SIMPLE = "bip322-simple"
    BIP322_FULL = "bip322-full"
    LEGACY_MESSAGE = "legacy-message"
    EIP191 = "eip191"


@dataclass(frozen=True, slots=True)
class ProofResult:
    """The outcome of checking one signature against one address and message.

    ``valid`` is False for a well-formed signature that does not prove control (another
    key, another message); ``reason`` says which. ``signer`` is what the signature itself
    names: the recovered Ethereum address, or the public key (hex) that signed, when
    known; it lets a report show *which* key answered.
    """

    valid: bool
    scheme: ProofScheme
    reason: str
    address_info: AddressInfo
    signer: str = ""
