"""Mainnet Bitcoin address checks with real checksums (base58check, BIP-173 bech32, BIP-350 bech32m).

The pool refuses payout addresses that fail their checksum; a regex alone would let the sandbox accept a typo the
real pool rejects, and the portal's payout form would never see that error in tests. Implemented here from the
reference algorithms so the sandbox has no extra dependency. Also encodes, to give seeded accounts valid addresses.
"""

from __future__ import annotations

import hashlib

MAX_ADDRESS_LENGTH = 100

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_P2PKH_VERSION = 0x00
_P2SH_VERSION = 0x05

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_MAINNET_HRP = "bc"


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def base58check_decode(address: str) -> bytes | None:
    """The version byte + payload, or None when a character or the 4-byte checksum is wrong."""
    if not address or any(c not in _B58_INDEX for c in address):
        return None
    number = 0
    for c in address:
        number = number * 58 + _B58_INDEX[c]
    leading_zeros = len(address) - len(address.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    raw = b"\x00" * leading_zeros + body
    if len(raw) < 5:
        return None
    data, checksum = raw[:-4], raw[-4:]
    if _sha256d(data)[:4] != checksum:
        return None
    return data


def base58check_encode(version: int, payload: bytes) -> str:
    data = bytes([version]) + payload
    raw = data + _sha256d(data)[:4]
    number = int.from_bytes(raw, "big")
    chars = []
    while number:
        number, rem = divmod(number, 58)
        chars.append(_B58_ALPHABET[rem])
    leading_zeros = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * leading_zeros + "".join(reversed(chars))


def _bech32_polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(generators):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _bech32_decode(text: str) -> tuple[str, list[int], int] | None:
    """(hrp, data without checksum, checksum constant) for a well-formed bech32/bech32m string, else None."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        return None
    if text.lower() != text and text.upper() != text:
        return None  # mixed case is invalid by BIP-173
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90:
        return None
    hrp, rest = text[:pos], text[pos + 1 :]
    if any(c not in _BECH32_INDEX for c in rest):
        return None
    data = [_BECH32_INDEX[c] for c in rest]
    const = _bech32_polymod(_hrp_expand(hrp) + data)
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        return None
    return hrp, data[:-6], const


def _convertbits(data: list[int], frombits: int, tobits: int, *, pad: bool) -> list[int] | None:
    acc = 0
    bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None  # more than 4 bits of padding, or non-zero padding
    return out


def segwit_decode(address: str) -> tuple[int, bytes] | None:
    """(witness version, program) of a valid mainnet segwit address, else None (BIP-173 / BIP-350 rules)."""
    decoded = _bech32_decode(address)
    if decoded is None:
        return None
    hrp, data, const = decoded
    if hrp != _MAINNET_HRP or not data:
        return None
    version = data[0]
    program = _convertbits(data[1:], 5, 8, pad=False)
    if version > 16 or program is None or not 2 <= len(program) <= 40:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    expected = _BECH32_CONST if version == 0 else _BECH32M_CONST
    if const != expected:
        return None
    return version, bytes(program)


def segwit_encode(version: int, program: bytes) -> str:
    const = _BECH32_CONST if version == 0 else _BECH32M_CONST
    five_bit = _convertbits(list(program), 8, 5, pad=True)
    assert five_bit is not None
    data = [version, *five_bit]
    polymod = _bech32_polymod(_hrp_expand(_MAINNET_HRP) + data + [0] * 6) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return _MAINNET_HRP + "1" + "".join(_BECH32_CHARSET[d] for d in data + checksum)


def address_kind(address: str) -> str | None:
    """'p2pkh', 'p2sh', 'p2wpkh', 'p2wsh', 'p2tr' or 'segwit_v<n>' for a valid mainnet address; None if invalid."""
    if not isinstance(address, str) or not address or len(address) > MAX_ADDRESS_LENGTH:
        return None
    if address[:3].lower() == "bc1":
        decoded = segwit_decode(address)
        if decoded is None:
            return None
        version, program = decoded
        if version == 0:
            return "p2wpkh" if len(program) == 20 else "p2wsh"
        if version == 1 and len(program) == 32:
            return "p2tr"
        return f"segwit_v{version}"
    if address[0] in "13":
        data = base58check_decode(address)
        if data is None or len(data) != 21:
            return None
        if data[0] == _P2PKH_VERSION:
            return "p2pkh"
        if data[0] == _P2SH_VERSION:
            return "p2sh"
    return None


def is_valid_btc_address(address: str) -> bool:
    return address_kind(address) is not None
