"""Tests of the helpers the service extensions share: fingerprints, paging tokens, client tokens.

Run: tests/emulator/.venv/bin/python -m unittest discover -s tests/emulator/tests -t tests/emulator
"""

import unittest
from unittest import mock

from ecs_topology_emulator import common, settings


class Refused(Exception):
    pass


class Fingerprint(unittest.TestCase):
    def test_equal_requests_have_equal_fingerprints_whatever_their_key_order(self):
        self.assertEqual(common.fingerprint({"a": 1, "b": [2]}), common.fingerprint({"b": [2], "a": 1}))

    def test_different_requests_have_different_fingerprints(self):
        self.assertNotEqual(common.fingerprint({"a": 1}), common.fingerprint({"a": 2}))

    def test_values_json_cannot_hold_are_fingerprinted_by_their_text(self):
        self.assertEqual(common.fingerprint({"at": object}), common.fingerprint({"at": str(object)}))


class PagingTokens(unittest.TestCase):
    def test_a_token_reads_back_its_fields(self):
        token = common.encode_token({"after": "arn:aws:ecs:x"})
        self.assertEqual(common.decode_token(token, Refused, lambda d: d["after"]), "arn:aws:ecs:x")

    def test_a_token_without_its_padding_still_reads_back(self):
        token = common.encode_token({"i": 7}).rstrip("=")
        self.assertEqual(common.decode_token(token, Refused, lambda d: int(d["i"])), 7)

    def test_anything_else_is_the_services_error(self):
        for token in ("not base64 !", common.encode_token({"other": 1}), "W10=", 42, None):
            with self.subTest(token=token), self.assertRaises(Refused):
                common.decode_token(token, Refused, lambda d: int(d["i"]))

    def test_an_offset_token_is_bound_to_its_request(self):
        token = common.encode_offset_token(20, [["TYPE", "EQ", "HTTP"]])
        self.assertEqual(common.decode_offset_token(token, [["TYPE", "EQ", "HTTP"]], Refused), 20)
        with self.assertRaises(Refused):
            common.decode_offset_token(token, [["TYPE", "EQ", "DNS_PUBLIC"]], Refused)

    def test_no_offset_token_is_the_first_page(self):
        self.assertEqual(common.decode_offset_token(None, {}, Refused), 0)

    def test_a_negative_offset_is_refused(self):
        forged = common.encode_token({"o": -1, "f": common.fingerprint({})[:16]})
        with self.assertRaises(Refused):
            common.decode_offset_token(forged, {}, Refused)


class ClientTokens(unittest.TestCase):
    def setUp(self):
        self.tokens = common.ClientTokens()
        self.mismatch = lambda first: Refused(first)

    def test_a_new_token_recalls_nothing(self):
        self.assertIsNone(self.tokens.recall("t", "f", ttl=None, mismatch=self.mismatch))

    def test_the_same_request_recalls_the_first_answer(self):
        self.tokens.remember("t", "f", "op-1")
        self.assertEqual(self.tokens.recall("t", "f", ttl=None, mismatch=self.mismatch), "op-1")

    def test_another_request_with_the_same_token_is_the_mismatch_of_the_first_answer(self):
        self.tokens.remember("t", "f", "op-1")
        with self.assertRaises(Refused) as raised:
            self.tokens.recall("t", "other", ttl=None, mismatch=self.mismatch)
        self.assertEqual(raised.exception.args, ("op-1",))

    def test_without_a_ttl_a_token_is_kept(self):
        with mock.patch.object(common.time, "time", return_value=0.0):
            self.tokens.remember("t", "f", "vpce-1")
        with mock.patch.object(common.time, "time", return_value=10.0**9):
            self.assertEqual(self.tokens.recall("t", "f", ttl=None, mismatch=self.mismatch), "vpce-1")

    def test_a_token_is_forgotten_after_its_ttl(self):
        with mock.patch.object(common.time, "time", return_value=1000.0):
            self.tokens.remember("t", "f", "op-1")
        with mock.patch.object(common.time, "time", return_value=1009.9):
            self.assertEqual(self.tokens.recall("t", "f", ttl=10, mismatch=self.mismatch), "op-1")
        with mock.patch.object(common.time, "time", return_value=1010.0):
            self.assertIsNone(self.tokens.recall("t", "other", ttl=10, mismatch=self.mismatch))


class TokenTtl(unittest.TestCase):
    def tearDown(self):
        settings.reset()

    def test_the_default_applies_when_the_setting_is_unset_or_not_a_number(self):
        self.assertEqual(common.token_ttl("111111111111", "x.ttl", 86400.0), 86400.0)
        settings.update(["111111111111"], {"x.ttl": "soon"})
        self.assertEqual(common.token_ttl("111111111111", "x.ttl", 86400.0), 86400.0)

    def test_the_setting_of_the_account_applies(self):
        settings.update(["111111111111"], {"x.ttl": 5})
        self.assertEqual(common.token_ttl("111111111111", "x.ttl", 86400.0), 5.0)


if __name__ == "__main__":
    unittest.main()
