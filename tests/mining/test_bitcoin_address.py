"""The address check against the BIP-173 / BIP-350 test vectors and base58check addresses, good and bad: each bad
one is refused for its own reason, in the words the customer sees."""

from __future__ import annotations

import base58
import pytest

from mining import bitcoin_address as ba
from mining.bitcoin_address import BitcoinAddressInvalid, bech32_decode, bitcoin_address_check, segwit_decode

# BIP-350 "Test vectors for Bech32" and "for Bech32m": valid strings (any hrp).
VALID_BECH32 = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11" + "q" * 82 + "c8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
VALID_BECH32M = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11" + "l" * 83 + "udsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]
# BIP-350 valid segwit addresses on mainnet, with their scriptPubKey (version opcode, push, program).
VALID_MAINNET = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6", "p2wpkh"),
    ("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
     "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6", "segwit_v1"),
    ("BC1SW50QGDZ25J", "6002751e", "segwit_v16"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323", "segwit_v2"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "p2tr"),
    ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", None, "p2wpkh"),
    ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", None, "p2wsh"),
]
# BIP-350 valid segwit addresses on testnet: valid encodings, refused here as testnet.
VALID_TESTNET = [
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
    "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
    "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
]
# BIP-350 invalid segwit addresses, each with the reason the BIP gives, as our words.
INVALID = [
    ("tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", ba.WORDS_PREFIX),  # invalid hrp
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", ba.WORDS_CHECKSUM),  # v1 with bech32
    ("tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf", ba.WORDS_TESTNET),  # (and bech32 for v2)
    ("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", ba.WORDS_CHECKSUM),  # v16 with bech32
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", ba.WORDS_CHECKSUM),  # v0 with bech32m
    ("tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47", ba.WORDS_TESTNET),
    ("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", ba.WORDS_CHARACTERS),  # 'o' in checksum
    ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", ba.WORDS_VERSION),  # witness version 17
    ("bc1pw5dgrnzv", ba.WORDS_LENGTH),  # program of 1 byte
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", ba.WORDS_LENGTH),  # 41 bytes
    ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", ba.WORDS_LENGTH),  # 16 bytes is no v0 program
    ("tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", ba.WORDS_CASE),  # mixed case
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", ba.WORDS_LENGTH),  # > 4 bits of padding
    ("tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", ba.WORDS_TESTNET),  # (non-zero padding)
    ("bc1gmk9yu", ba.WORDS_LENGTH),  # empty data section
]


@pytest.mark.parametrize("string", VALID_BECH32)
def test_bip350_valid_bech32_strings(string):
    assert bech32_decode(string)[2] is ba.Encoding.BECH32


@pytest.mark.parametrize("string", VALID_BECH32M)
def test_bip350_valid_bech32m_strings(string):
    assert bech32_decode(string)[2] is ba.Encoding.BECH32M


@pytest.mark.parametrize("string", VALID_BECH32 + VALID_BECH32M)
def test_one_changed_character_breaks_the_checksum(string):
    pos = string.rfind("1") + 1
    flipped = "q" if string[pos].lower() != "q" else "p"
    typo = string[:pos] + (flipped.upper() if string.isupper() else flipped) + string[pos + 1:]
    with pytest.raises(BitcoinAddressInvalid, match="checksum is wrong"):
        bech32_decode(typo)


@pytest.mark.parametrize(("address", "script_hex", "kind"), VALID_MAINNET)
def test_bip350_valid_mainnet_addresses(address, script_hex, kind):
    assert bitcoin_address_check(address) == kind
    if script_hex:
        version, program = segwit_decode("bc", address)
        script = bytes([version + 0x50 if version else 0, len(program)]) + program
        assert script.hex() == script_hex
        assert ba.segwit_encode("bc", version, program) == address.lower()


@pytest.mark.parametrize("address", VALID_TESTNET)
def test_bip350_valid_testnet_addresses_are_refused_as_testnet(address):
    assert segwit_decode("tb", address)[0] in (0, 1)
    with pytest.raises(BitcoinAddressInvalid) as exc:
        bitcoin_address_check(address)
    assert str(exc.value) == ba.WORDS_TESTNET


@pytest.mark.parametrize(("address", "words"), INVALID)
def test_bip350_invalid_addresses_each_for_its_reason(address, words):
    with pytest.raises(BitcoinAddressInvalid) as exc:
        bitcoin_address_check(address)
    assert str(exc.value) == words


def test_base58check_mainnet_good_and_bad():
    assert bitcoin_address_check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") == "p2pkh"
    assert bitcoin_address_check("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy") == "p2sh"
    assert bitcoin_address_check("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == "p2pkh"  # the genesis block's
    for typo in ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz",
                 "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"):
        with pytest.raises(BitcoinAddressInvalid, match="checksum is wrong"):
            bitcoin_address_check(typo)
    with pytest.raises(BitcoinAddressInvalid, match="characters"):
        bitcoin_address_check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0")  # 0 is not in base58
    with pytest.raises(BitcoinAddressInvalid, match="wrong length"):
        bitcoin_address_check(base58.b58encode_check(b"\x00" + bytes(19)).decode())


def test_base58check_testnet_and_other_networks_are_refused():
    for version in (0x6F, 0xC4):  # testnet P2PKH (m…/n…) and P2SH (2…)
        address = base58.b58encode_check(bytes([version]) + bytes(range(20))).decode()
        assert address[0] in "mn2"
        with pytest.raises(BitcoinAddressInvalid) as exc:
            bitcoin_address_check(address)
        assert str(exc.value) == ba.WORDS_TESTNET
    litecoin = base58.b58encode_check(b"\x30" + bytes(20)).decode()  # L…: checksum fine, not Bitcoin
    for other in (litecoin, "", "hello", "bc1qnotanaddress", "0x52908400098527886E0F7030069857D2E4169EE7"):
        with pytest.raises(BitcoinAddressInvalid):
            bitcoin_address_check(other)
