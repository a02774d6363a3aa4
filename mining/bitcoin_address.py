"""Mainnet Bitcoin address check, run before a payout destination is sent to the pool.

Why our own check: the pool only matches a loose pattern (1…, 3…, bc1…), so a typing mistake in an address
would be accepted and the rewards paid to nobody. The checksums catch such mistakes: base58check (P2PKH, P2SH)
through the pinned `base58` package, and bech32 / bech32m (BIP-173, BIP-350) with the BIP reference algorithm
below (the `bech32` package on the registry predates bech32m, so it cannot tell a v1+ address right).

`bitcoin_address_check` raises `BitcoinAddressInvalid` whose message is the field error, in words.
"""

from __future__ import annotations

import enum

import base58

# Words shown under the address field; tests and the API assert them.
WORDS_EMPTY = "Enter a Bitcoin address."
WORDS_PREFIX = "That is not a valid Bitcoin address (it must start with 1, 3 or bc1)."
WORDS_CHECKSUM = "This address's checksum is wrong: check for a typing mistake."
WORDS_CHARACTERS = "This address contains characters a Bitcoin address cannot have: check for a typing mistake."
WORDS_LENGTH = "This address has the wrong length: check for a missing or extra character."
WORDS_CASE = "A bc1 address is all lower case or all upper case, never mixed: check for a typing mistake."
WORDS_TESTNET = ("This is a testnet address: the pool pays on the main Bitcoin network, so give a mainnet "
                 "address (starting with 1, 3 or bc1).")
WORDS_VERSION = "This bc1 address uses a witness version Bitcoin does not have: check for a typing mistake."

_BASE58_ALPHABET = set("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
_MAINNET_VERSIONS = {0x00: "p2pkh", 0x05: "p2sh"}
_TESTNET_VERSIONS = {0x6F, 0xC4}
_TESTNET_HRPS = ("tb", "bcrt")

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Encoding(enum.Enum):
    BECH32 = 1  # BIP-173: witness version 0
    BECH32M = 0x2BC830A3  # BIP-350: witness versions 1 to 16


class BitcoinAddressInvalid(ValueError):
    """The address is not a mainnet Bitcoin address; `str(exc)` says why, in words a customer can act on."""


# --- bech32 / bech32m: the BIP-350 reference algorithm ---------------------------------------------------------------


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _GENERATOR[i] if ((top >> i) & 1) else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def bech32_decode(bech: str) -> tuple[str, list[int], Encoding]:
    """(hrp, data without checksum, encoding) of a bech32 or bech32m string; raises with the reason."""
    if any(ord(x) < 33 or ord(x) > 126 for x in bech):
        raise BitcoinAddressInvalid(WORDS_CHARACTERS)
    if bech.lower() != bech and bech.upper() != bech:
        raise BitcoinAddressInvalid(WORDS_CASE)
    bech = bech.lower()
    pos = bech.rfind("1")
    if pos < 1 or pos + 7 > len(bech) or len(bech) > 90:
        raise BitcoinAddressInvalid(WORDS_LENGTH)
    if not all(x in CHARSET for x in bech[pos + 1:]):
        raise BitcoinAddressInvalid(WORDS_CHARACTERS)
    hrp = bech[:pos]
    data = [CHARSET.find(x) for x in bech[pos + 1:]]
    const = _polymod(_hrp_expand(hrp) + data)
    encoding = next((e for e in Encoding if e.value == const), None)
    if encoding is None:
        raise BitcoinAddressInvalid(WORDS_CHECKSUM)
    return hrp, data[:-6], encoding


def _convertbits(data: list[int], frombits: int, tobits: int, pad: bool) -> list[int] | None:
    acc = bits = 0
    ret: list[int] = []
    maxv = (1 << tobits) - 1
    max_acc = (1 << (frombits + tobits - 1)) - 1
    for value in data:
        if value < 0 or (value >> frombits):
            return None
        acc = ((acc << frombits) | value) & max_acc
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad:
        if bits:
            ret.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return ret


def segwit_decode(hrp: str, address: str) -> tuple[int, bytes]:
    """(witness version, program) of a segwit address with human-readable part `hrp`; raises with the reason."""
    got_hrp, data, encoding = bech32_decode(address)
    if got_hrp != hrp:
        raise BitcoinAddressInvalid(WORDS_TESTNET if got_hrp in _TESTNET_HRPS else WORDS_PREFIX)
    if not data:
        raise BitcoinAddressInvalid(WORDS_LENGTH)
    if data[0] > 16:
        raise BitcoinAddressInvalid(WORDS_VERSION)
    # The witness version fixes the checksum: v0 is bech32, v1+ bech32m. Anything else is a corrupted address.
    if (data[0] == 0) != (encoding == Encoding.BECH32):
        raise BitcoinAddressInvalid(WORDS_CHECKSUM)
    program = _convertbits(data[1:], 5, 8, False)
    if program is None or not 2 <= len(program) <= 40 or (data[0] == 0 and len(program) not in (20, 32)):
        raise BitcoinAddressInvalid(WORDS_LENGTH)
    return data[0], bytes(program)


def segwit_encode(hrp: str, witver: int, program: bytes) -> str:
    """The address for a witness program (tests build addresses with it)."""
    encoding = Encoding.BECH32 if witver == 0 else Encoding.BECH32M
    data = [witver] + (_convertbits(list(program), 8, 5, True) or [])
    values = _hrp_expand(hrp) + data
    polymod = _polymod(values + [0] * 6) ^ encoding.value
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    address = hrp + "1" + "".join(CHARSET[d] for d in data + checksum)
    segwit_decode(hrp, address)
    return address


# --- the check -------------------------------------------------------------------------------------------------------


def _base58_check(address: str) -> str:
    if not set(address) <= _BASE58_ALPHABET:
        raise BitcoinAddressInvalid(WORDS_CHARACTERS)
    try:
        payload = base58.b58decode_check(address)
    except ValueError as exc:
        raise BitcoinAddressInvalid(WORDS_CHECKSUM) from exc
    if len(payload) != 21:
        raise BitcoinAddressInvalid(WORDS_LENGTH)
    if payload[0] in _TESTNET_VERSIONS:
        raise BitcoinAddressInvalid(WORDS_TESTNET)
    if payload[0] not in _MAINNET_VERSIONS:
        raise BitcoinAddressInvalid(WORDS_PREFIX)
    return _MAINNET_VERSIONS[payload[0]]


def bitcoin_address_check(address: str) -> str:
    """The kind of a valid mainnet address (p2pkh, p2sh, p2wpkh, p2wsh, p2tr, or segwit_vN); raises
    `BitcoinAddressInvalid` with the field error otherwise. Surrounding spaces are the caller's to strip."""
    if not address:
        raise BitcoinAddressInvalid(WORDS_EMPTY)
    lowered = address.lower()
    if lowered.startswith(("bc1", "tb1", "bcrt1")):
        if lowered.startswith(("tb1", "bcrt1")):
            bech32_decode(address)  # a typing mistake is said first; a well-formed testnet address is refused below
            raise BitcoinAddressInvalid(WORDS_TESTNET)
        version, program = segwit_decode("bc", address)
        if version == 0:
            return "p2wpkh" if len(program) == 20 else "p2wsh"
        return "p2tr" if version == 1 and len(program) == 32 else f"segwit_v{version}"
    if address[0] in "13":
        return _base58_check(address)
    if address[0] in "mn2":
        _base58_check(address)  # raises: testnet (or a typing mistake)
    raise BitcoinAddressInvalid(WORDS_PREFIX)
