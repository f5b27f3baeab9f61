"""Proof of control: the challenge a key holder signs, and the check of the signature.

qoima issues a :class:`Challenge` (case, chain, address, date, nonce); the key holder signs
the exact text of :func:`challenge_message` with the wallet that holds the key; qoima checks
the answer with :func:`verify_proof`. The nonce comes from the caller (the app draws it
with :mod:`secrets`): this package draws no randomness and reads no clock, so the same
inputs always give the same message and the same verdict.

Malformed versus wrong
    Input that cannot be a signature at all -- not base64 or hex, truncated, wrong
    length, non-strict DER, a high-S value (BIP-146 ``LOW_S``, EIP-2), a recovery header
    out of range, a sighash type BIP-322 forbids -- raises :class:`InvalidInput` with the
    reason, and so does a script BIP-322 would call *inconclusive* (P2WSH, multisig,
    taproot script path). A well-formed signature made by another key, over another
    message or for another address returns ``ProofResult(valid=False, reason=...)``: that
    outcome is worth recording, the other is a typing or tooling error to fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from qoima.custody.addresses import AddressInfo, Chain, Network, validate_address
from qoima.custody.proof_results import ProofResult, ProofScheme
from qoima.custody.proofs_bitcoin import verify_bitcoin
from qoima.custody.proofs_ethereum import verify_eip191
from qoima.domain.errors import InvalidInput

__all__ = ["Challenge", "ProofResult", "ProofScheme", "challenge_message", "verify_proof"]

CHALLENGE_TITLE = "qoima proof of control v1"
#: 16-128 URL-safe characters: ``secrets.token_urlsafe(16)`` and longer fit.
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,128}")
#: Case ids are printed on one line of the signed text: no control characters.
_CASE_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the key holder is asked to sign.

    ``address`` is validated for ``chain`` and ``network`` on construction and kept in its
    normalized form (bech32 lower case, EIP-55), so the signed text names the address
    exactly one way.
    """

    case_id: str
    chain: Chain
    address: str
    issued_on: date
    nonce: str
    network: Network = Network.MAINNET

    def __post_init__(self) -> None:
        if not isinstance(self.case_id, str) or not _CASE_ID.fullmatch(self.case_id) or (
                self.case_id.strip() != self.case_id):
            raise InvalidInput("case id must be 1-128 printable characters on one line, "
                               "without surrounding spaces", field="case_id")
        if not isinstance(self.nonce, str) or not _NONCE.fullmatch(self.nonce):
            raise InvalidInput("nonce must be 16-128 URL-safe characters (A-Z a-z 0-9 _ -), "
                               "e.g. secrets.token_urlsafe(16)", field="nonce")
        if not isinstance(self.issued_on, date):
            raise InvalidInput("issued_on must be a date", field="issued_on")
        info = validate_address(self.chain, self.address, self.network)
        object.__setattr__(self, "chain", info.chain)
        object.__setattr__(self, "network", info.network)
        object.__setattr__(self, "address", info.normalized)


def challenge_message(challenge: Challenge) -> str:
    """The exact text to sign: six lines joined by ``\\n``, no trailing newline, UTF-8.

    ::

        qoima proof of control v1
        case: <case id>
        chain: <bitcoin|ethereum> <network>
        address: <normalized address>
        date: <YYYY-MM-DD>
        nonce: <nonce>

    The first line names the purpose and the format version, so a signature over this
    text cannot be mistaken for any other statement; the chain line includes the network
    so that a testnet proof is never read as a mainnet one.
    """
    return "\n".join([
        CHALLENGE_TITLE,
        f"case: {challenge.case_id}",
        f"chain: {challenge.chain} {challenge.network}",
        f"address: {challenge.address}",
        f"date: {challenge.issued_on.isoformat()}",
        f"nonce: {challenge.nonce}",
    ])


_VERIFIERS: dict[Chain, Callable[[AddressInfo, str, str], ProofResult]] = {
    Chain.BITCOIN: verify_bitcoin,
    Chain.ETHEREUM: verify_eip191,
}


def verify_proof(chain: Chain | str, address: str, message: str, signature: str,
                 network: Network | str = Network.MAINNET) -> ProofResult:
    """Check that ``signature`` over ``message`` was made by the key behind ``address``.

    Bitcoin signatures are base64 and may be legacy ``signmessage``, BIP-322 simple or
    BIP-322 full (told apart by shape, see :mod:`qoima.custody.proofs_bitcoin`); Ethereum
    signatures are EIP-191 ``personal_sign`` hex. The address is validated first
    (:func:`validate_address`); malformed input raises :class:`InvalidInput`.
    """
    if not isinstance(message, str):
        raise InvalidInput("message must be text", field="message")
    if not isinstance(signature, str):
        raise InvalidInput("signature must be text (base64 or hex)", field="signature")
    info = validate_address(chain, address, network)
    return _VERIFIERS[info.chain](info, message, signature)
