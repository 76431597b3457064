import base64
import os
import re
import struct
from datetime import UTC, datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.services.gate.pass_tokens import (
    CODE_LENGTH,
    PASS_ID_BYTES,
    PassError,
    PassExpired,
    PassInvalid,
    SigningKey,
    VerifyKey,
    generate_keypair,
    issue_pass,
    keyring,
    public_keys_jwks,
    verify_pass,
)

NOW = datetime(2020, 1, 30, 7, 30, 0, tzinfo=UTC)


def new_pass_id() -> bytes:
    """A random pass id (8 bytes): the format treats it as opaque (`passes.encode_pass_id` makes the real ones)."""
    return os.urandom(PASS_ID_BYTES)


def make_key(kid: int) -> SigningKey:
    private_raw, _ = generate_keypair()
    return SigningKey.from_private_bytes(kid, private_raw)


@pytest.fixture
def key() -> SigningKey:
    return make_key(7)


@pytest.fixture
def keys(key):
    return keyring([key.verify_key()])


def token_of(code: str) -> bytes:
    return base64.b32decode(code.removeprefix("WY1."))


def code_of(token: bytes) -> str:
    return "WY1." + base64.b32encode(token).decode()


def test_round_trip(key, keys):
    pass_id = new_pass_id()
    issued = issue_pass(key, pass_id, NOW)
    assert issued.pass_id == pass_id and issued.kid == 7
    assert issued.issued_at == NOW and issued.expires_at == NOW + timedelta(seconds=60)

    verified = verify_pass(issued.code, keys, NOW + timedelta(seconds=30))
    assert verified.pass_id == pass_id
    assert verified.kid == 7
    assert verified.issued_at == issued.issued_at
    assert verified.expires_at == issued.expires_at


def test_keys_round_trip_through_raw_bytes(key):
    private_raw, public_raw = generate_keypair()
    assert len(private_raw) == 32 and len(public_raw) == 32
    signing = SigningKey.from_private_bytes(3, private_raw)
    verify = VerifyKey.from_public_bytes(3, public_raw)
    assert verify.public_bytes() == signing.verify_key().public_bytes() == public_raw
    issued = issue_pass(signing, new_pass_id(), NOW)
    assert verify_pass(issued.code, {3: verify}, NOW).kid == 3


def test_issue_time_is_truncated_to_whole_seconds(key, keys):
    issued = issue_pass(key, new_pass_id(), NOW + timedelta(microseconds=999_999), ttl_seconds=10)
    assert issued.issued_at == NOW
    assert issued.expires_at == NOW + timedelta(seconds=10)


def test_other_time_zones_and_naive_utc_are_the_same_instant(key, keys):
    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    naive = NOW.replace(tzinfo=None)
    assert issue_pass(key, new_pass_id(), shanghai).issued_at == NOW
    assert issue_pass(key, new_pass_id(), naive).issued_at == NOW
    code = issue_pass(key, new_pass_id(), NOW).code
    assert verify_pass(code, keys, naive + timedelta(seconds=60)).issued_at == NOW


@pytest.mark.parametrize("leeway", [0, 5])
def test_expiry_boundary_accepted_one_second_later_refused(key, keys, leeway):
    issued = issue_pass(key, new_pass_id(), NOW, ttl_seconds=60)
    last_good = issued.expires_at + timedelta(seconds=leeway)
    assert verify_pass(issued.code, keys, last_good, leeway_seconds=leeway).pass_id == issued.pass_id
    with pytest.raises(PassExpired) as refused:
        verify_pass(issued.code, keys, last_good + timedelta(seconds=1), leeway_seconds=leeway)
    assert refused.value.reason == "pass_expired"
    with pytest.raises(PassExpired):
        verify_pass(issued.code, keys, last_good + timedelta(microseconds=1), leeway_seconds=leeway)


def test_code_from_the_future_beyond_leeway_is_refused(key, keys):
    issued = issue_pass(key, new_pass_id(), NOW)
    assert verify_pass(issued.code, keys, NOW - timedelta(seconds=5), leeway_seconds=5)
    with pytest.raises(PassExpired) as refused:
        verify_pass(issued.code, keys, NOW - timedelta(seconds=6), leeway_seconds=5)
    assert refused.value.detail == "not_yet_valid"


@pytest.mark.parametrize("ttl", [0, -1, 61, 3600, 1.5, True, "60"])
def test_ttl_over_a_minute_or_nonsense_is_not_issued(key, ttl):
    with pytest.raises(ValueError):
        issue_pass(key, new_pass_id(), NOW, ttl_seconds=ttl)


@pytest.mark.parametrize("pass_id", [b"", b"1234567", b"123456789", "12345678", None])
def test_pass_id_must_be_eight_bytes(key, pass_id):
    with pytest.raises(ValueError):
        issue_pass(key, pass_id, NOW)


def test_every_flipped_bit_of_the_token_is_refused_as_invalid(key, keys):
    token = token_of(issue_pass(key, new_pass_id(), NOW).code)
    for index in range(len(token)):
        for bit in (0x01, 0x80):
            tampered = bytearray(token)
            tampered[index] ^= bit
            with pytest.raises(PassInvalid):
                verify_pass(code_of(bytes(tampered)), keys, NOW)


def test_every_changed_character_of_the_code_is_refused_as_invalid(key, keys):
    code = issue_pass(key, new_pass_id(), NOW).code
    for index, char in enumerate(code):
        replacement = "B" if char == "A" else "A"
        with pytest.raises(PassInvalid):
            verify_pass(code[:index] + replacement + code[index + 1 :], keys, NOW)


def test_payload_re_signed_in_policy_terms_still_needs_the_right_key(key, keys):
    # A forger who changes the pass id or extends the time must re-sign; only the kid's key works.
    token = token_of(issue_pass(key, new_pass_id(), NOW).code)
    forged_payload = token[:3] + b"\x00" * 8 + token[11:16]
    forged = forged_payload + Ed25519PrivateKey.generate().sign(forged_payload)
    with pytest.raises(PassInvalid) as refused:
        verify_pass(code_of(forged), keys, NOW)
    assert refused.value.detail == "bad_signature"


def test_signature_from_another_key_with_the_same_kid_is_refused(keys):
    impostor = make_key(7)
    code = issue_pass(impostor, new_pass_id(), NOW).code
    with pytest.raises(PassInvalid) as refused:
        verify_pass(code, keys, NOW)
    assert refused.value.reason == "pass_invalid"
    assert refused.value.detail == "bad_signature"


def test_unknown_kid_is_refused(keys):
    code = issue_pass(make_key(8), new_pass_id(), NOW).code
    with pytest.raises(PassInvalid) as refused:
        verify_pass(code, keys, NOW)
    assert refused.value.detail == "unknown_kid"


def test_wrong_version_is_refused_even_when_signed(key, keys):
    payload = struct.pack(">BH8sIB", 2, 7, new_pass_id(), int(NOW.timestamp()), 60)
    code = code_of(payload + key.private_key.sign(payload))
    with pytest.raises(PassInvalid) as refused:
        verify_pass(code, keys, NOW)
    assert refused.value.detail == "unsupported_version"


@pytest.mark.parametrize("ttl", [0, 61, 255])
def test_signed_ttl_out_of_policy_is_refused(key, keys, ttl):
    payload = struct.pack(">BH8sIB", 1, 7, new_pass_id(), int(NOW.timestamp()), ttl)
    code = code_of(payload + key.private_key.sign(payload))
    with pytest.raises(PassInvalid) as refused:
        verify_pass(code, keys, NOW)
    assert refused.value.detail == "bad_ttl"


def test_rotation_old_kid_verifies_during_overlap_not_after(key):
    old, new = key, make_key(8)
    old_code = issue_pass(old, new_pass_id(), NOW).code
    new_code = issue_pass(new, new_pass_id(), NOW).code
    retire_at = NOW + timedelta(seconds=65)

    overlap = keyring([old.verify_key(not_after=retire_at), new.verify_key()])
    assert verify_pass(old_code, overlap, NOW + timedelta(seconds=10)).kid == 7
    assert verify_pass(new_code, overlap, NOW + timedelta(seconds=10)).kid == 8

    with pytest.raises(PassInvalid) as refused:
        verify_pass(old_code, overlap, retire_at + timedelta(seconds=1), leeway_seconds=60)
    assert refused.value.detail == "retired_kid"

    removed = keyring([new.verify_key()])
    with pytest.raises(PassInvalid):
        verify_pass(old_code, removed, NOW + timedelta(seconds=10))
    assert verify_pass(new_code, removed, NOW + timedelta(seconds=10)).kid == 8


def test_keyring_refuses_duplicate_kids(key):
    with pytest.raises(ValueError):
        keyring([key.verify_key(), make_key(7).verify_key()])


@pytest.mark.parametrize("kid", [-1, 65536, True, "1"])
def test_kid_must_fit_two_bytes(kid):
    with pytest.raises(ValueError):
        SigningKey(kid, Ed25519PrivateKey.generate())


def test_code_holds_only_the_opaque_fields(key):
    pass_id = bytes.fromhex("0011223344556677")
    issued = issue_pass(key, pass_id, NOW, ttl_seconds=45)
    token = token_of(issued.code)
    assert token[:16] == struct.pack(">BH8sIB", 1, 7, pass_id, int(NOW.timestamp()), 45)
    key.verify_key().public_key.verify(token[16:], token[:16])  # the rest is the signature only
    assert len(token) == 16 + 64


def test_code_is_short_and_qr_alphanumeric(key):
    codes = {issue_pass(key, new_pass_id(), NOW).code for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code) == CODE_LENGTH == 132
        assert re.fullmatch(r"WY1\.[A-Z2-7]{128}", code)


GARBAGE = [
    "",
    "WY1.",
    "WY1",
    "wy1." + "a" * 128,
    "WY1." + "A" * 127,
    "WY1." + "A" * 129,
    "WY2." + "A" * 128,
    "WY1." + "A" * 127 + "=",
    "WY1." + "A" * 127 + "1",
    "WY1." + "A" * 127 + "\n",
    " WY1." + "A" * 127,
    "WY1." + "中" * 128,
    "WY1." + "Ａ" * 128,  # fullwidth A
    "WY1." + "A" * 10_000_000,
    "\x00" * 132,
    "WY1." + "\udcff" * 128,
    None,
    b"WY1." + b"A" * 128,
    132,
]


@pytest.mark.parametrize("code", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_invalid_and_nothing_else(keys, code):
    with pytest.raises(PassInvalid) as refused:
        verify_pass(code, keys, NOW)
    assert refused.value.reason == "pass_invalid"


def test_lowercase_of_a_genuine_code_is_invalid(key, keys):
    code = issue_pass(key, new_pass_id(), NOW).code
    with pytest.raises(PassInvalid):
        verify_pass(code.lower(), keys, NOW)
    with pytest.raises(PassInvalid):
        verify_pass("WY1." + code[4:].lower(), keys, NOW)


def test_well_formed_random_tokens_are_invalid(keys):
    for kid in (0, 7, 65535):
        payload = struct.pack(">BH8sIB", 1, kid, new_pass_id(), int(NOW.timestamp()), 60)
        with pytest.raises(PassInvalid):
            verify_pass(code_of(payload + bytes(64)), keys, NOW)
        with pytest.raises(PassInvalid):
            verify_pass(code_of(payload + b"\xff" * 64), keys, NOW)


def test_both_errors_are_pass_errors_with_distinct_reasons():
    assert issubclass(PassInvalid, PassError) and issubclass(PassExpired, PassError)
    assert not issubclass(PassExpired, PassInvalid) and not issubclass(PassInvalid, PassExpired)
    assert {PassInvalid("x").reason, PassExpired("x").reason} == {"pass_invalid", "pass_expired"}


def test_jwks_is_what_an_offline_device_needs(key):
    retire_at = NOW + timedelta(minutes=2)
    newer = make_key(8)
    jwks = public_keys_jwks(keyring([newer.verify_key(), key.verify_key(not_after=retire_at)]))
    assert [jwk["kid"] for jwk in jwks["keys"]] == ["7", "8"]
    old_jwk = jwks["keys"][0]
    assert {k: old_jwk[k] for k in ("kty", "crv", "use", "alg")} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "use": "sig",
        "alg": "EdDSA",
    }
    assert old_jwk["exp"] == int(retire_at.timestamp())
    assert "exp" not in jwks["keys"][1]
    assert "=" not in old_jwk["x"] and "d" not in old_jwk

    # A third-party JWK reader rebuilds the key and checks a code the way a device would.
    public_key = jwt.PyJWK(old_jwk).key
    token = token_of(issue_pass(key, new_pass_id(), NOW).code)
    public_key.verify(token[16:], token[:16])
    rebuilt = {int(jwk["kid"]): VerifyKey(int(jwk["kid"]), jwt.PyJWK(jwk).key) for jwk in jwks["keys"]}
    assert verify_pass(code_of(token), rebuilt, NOW).kid == 7


def test_jwks_accepts_a_plain_list_of_keys(key):
    assert public_keys_jwks([key.verify_key()]) == public_keys_jwks({7: key.verify_key()})


def test_signing_key_repr_hides_the_private_key(key):
    assert "private_key" not in repr(key)
