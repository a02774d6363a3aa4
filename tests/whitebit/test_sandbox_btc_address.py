"""Mainnet address checks against the BIP-173 / BIP-350 vectors and well-known base58check addresses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.whitebit.sandbox.btc_address import (
    address_kind,
    base58check_encode,
    is_valid_btc_address,
    segwit_decode,
    segwit_encode,
)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "p2pkh"),
        ("1111111111111111111114oLvT2", "p2pkh"),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "p2sh"),
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "p2wpkh"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "p2wpkh"),
        ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", "p2wsh"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "p2tr"),
        ("bc1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvses7epu4h", "p2tr"),
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "segwit_v2"),
        ("BC1SW50QGDZ25J", "segwit_v16"),
    ],
)
def test_valid(address, kind):
    assert address_kind(address) == kind


@pytest.mark.parametrize(
    "address",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # base58 checksum
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",  # base58 checksum
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0",  # '0' is not base58
        "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",  # wrong hrp
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # bech32 checksum
        "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",  # v1+ must be bech32m
        "bc1rw5uspcuh",
        "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
        "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3t4",  # mixed case
        "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",  # wrong padding
        "bc1qfysxzmfq2phhyarvv9hxgtjgdajxcw3fpkpph893lw",  # non-zero padding
        "bc1gmk9yu",  # empty data
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with bech32 checksum
        "BC1PFYSXZMFQ2PHHYARVV9HXGTJGFAZYCWJYPQQQF9ZLQ6",  # v1 with bech32 checksum
        "bc1qfysxzmfq2phhyarvv9hxgtjgfazycwjypqqqfm706a",  # v0 with bech32m checksum
        "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # witness version 17
        "bc1pw5dgrnzv",  # 1-byte program
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # 41-byte program
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # more than 4 bits of padding
        "2N2JD6wb56AfK4tfmM6PwdVmoYk2dCKf4Br",  # testnet P2SH
        "",
        "bc1q" + "q" * 100,
    ],
)
def test_invalid(address):
    assert not is_valid_btc_address(address)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=16), st.binary(min_size=2, max_size=40))
def test_segwit_round_trip(version, program):
    if version == 0 and len(program) not in (20, 32):
        return
    address = segwit_encode(version, program)
    assert segwit_decode(address) == (version, program)
    assert segwit_decode(address.upper()) == (version, program)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([0x00, 0x05]), st.binary(min_size=20, max_size=20), st.integers(min_value=0, max_value=33))
def test_base58check_round_trip_and_single_character_typos(version, payload, position):
    address = base58check_encode(version, payload)
    assert address_kind(address) == ("p2pkh" if version == 0 else "p2sh")
    position %= len(address)
    replacement = "2" if address[position] != "2" else "3"
    typo = address[:position] + replacement + address[position + 1 :]
    assert not is_valid_btc_address(typo)
