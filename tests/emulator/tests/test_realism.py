"""Tests of the realism middleware without a server: identification, buckets, profiles, error
replies (parsed by botocore's own parsers and retry classifiers) and the admin endpoints.

Run: tests/emulator/.venv/bin/python -m unittest discover -s tests/emulator/tests -t tests/emulator
"""

import json
import socket
import threading
import time
import unittest

import botocore.session
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker
from werkzeug.serving import make_server
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Response

from ecs_topology_emulator import realism, settings

SCOPE = "Credential={key}/20250101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=x"


def signed(service, region="us-east-1", key="AKIAIOSFODNN7EXAMPLE", **kwargs):
    headers = dict(kwargs.pop("headers", {}))
    headers["Authorization"] = "AWS4-HMAC-SHA256 " + SCOPE.format(key=key, region=region, service=service)
    return EnvironBuilder(headers=headers, **kwargs).get_environ()


def json_call(service, target, headers=None, **kwargs):
    return signed(
        service,
        method="POST",
        path="/",
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1", **(headers or {})},
        data=b"{}",
        **kwargs,
    )


def query_call(service, action, **kwargs):
    return signed(
        service,
        method="POST",
        path="/",
        data=f"Action={action}&Version=2016-11-15",
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        **kwargs,
    )


class Identify(unittest.TestCase):
    def test_json_calls_are_named_by_their_target(self):
        call = realism.identify(json_call("ecs", "AmazonEC2ContainerServiceV20141113.ListServices", region="eu-west-1"))
        self.assertEqual((call.region, call.service, call.operation, call.protocol), ("eu-west-1", "ecs", "ListServices", "json"))

    def test_query_calls_are_named_by_their_action_and_moto_still_reads_the_body(self):
        environ = query_call("ec2", "DescribeVpcEndpoints")
        call = realism.identify(environ)
        self.assertEqual((call.service, call.operation, call.protocol), ("ec2", "DescribeVpcEndpoints", "ec2"))
        self.assertEqual(environ["wsgi.input"].read(), b"Action=DescribeVpcEndpoints&Version=2016-11-15")
        self.assertEqual(realism.identify(query_call("sts", "AssumeRole")).protocol, "query")

    def test_rest_calls_are_routed_like_moto_routes_them(self):
        ram = signed("ram", method="POST", path="/createresourceshare", content_type="application/json", data=b"{}")
        self.assertEqual(realism.identify(ram).operation, "CreateResourceShare")
        s3 = signed("s3", method="GET", path="/bucket", query_string="list-type=2")
        self.assertEqual(realism.identify(s3).operation, "ListObjectsV2")
        self.assertEqual(realism.identify(signed("s3", method="HEAD", path="/bucket/key")).operation, "HeadObject")

    def test_a_call_with_a_pagination_token_asks_for_a_later_page(self):
        first = [
            signed("s3", method="GET", path="/bucket", query_string="list-type=2"),
            signed("s3", method="GET", path="/bucket", query_string="list-type=2&continuation-token="),
            json_call("servicediscovery", "Route53AutoNaming_v20170314.ListNamespaces"),
            query_call("ec2", "DescribeVpcEndpoints"),
        ]
        later = [
            signed("s3", method="GET", path="/bucket", query_string="list-type=2&continuation-token=abc"),
            signed("s3", method="GET", path="/bucket", query_string="marker=k1"),
            signed(
                "servicediscovery",
                method="POST",
                path="/",
                headers={"X-Amz-Target": "Route53AutoNaming_v20170314.ListNamespaces"},
                content_type="application/x-amz-json-1.1",
                data=b'{"NextToken": "t"}',
            ),
            signed(
                "ec2",
                method="POST",
                path="/",
                data="Action=DescribeVpcEndpoints&Version=2016-11-15&NextToken=t",
                content_type="application/x-www-form-urlencoded; charset=utf-8",
            ),
        ]
        self.assertEqual([realism.identify(e).continued for e in first], [False] * len(first))
        self.assertEqual([realism.identify(e).continued for e in later], [True] * len(later))

    def test_the_account_is_the_header_or_the_default(self):
        self.assertEqual(realism.identify(query_call("ec2", "DescribeVpcs")).account, "123456789012")
        environ = query_call("ec2", "DescribeVpcs", headers={"x-moto-account-id": "111122223333"})
        self.assertEqual(realism.identify(environ).account, "111122223333")


class Buckets(unittest.TestCase):
    def test_families_follow_the_published_rates(self):
        self.assertEqual(realism.family_of("ec2", "DescribeVpcEndpoints"), ("ec2:DescribeVpcEndpoints", (100, 20)))
        self.assertEqual(realism.family_of("ec2", "CreateVpcEndpoint")[1], (4, 0.3))
        self.assertEqual(realism.family_of("ec2", "CreateRoute")[1], (50, 5))
        self.assertEqual(realism.family_of("ecs", "DescribeServices")[0], realism.family_of("ecs", "ListServices")[0])
        self.assertEqual(realism.family_of("ecs", "UpdateService"), ("ecs:service-changes", (50, 5)))
        self.assertEqual(realism.family_of("ecs", "ListTagsForResource")[1], (50, 20))

    def test_a_bucket_refuses_once_empty(self):
        bucket = realism.TokenBucket(2, 0.0)
        self.assertEqual([bucket.take() for _ in range(3)], [True, True, False])

    def test_scale_never_leaves_less_than_one_call(self):
        profile = realism.Profile({"throttle": {"scale": 0.001}})
        self.assertEqual(profile.rates_for("ec2:CreateVpcEndpoint", (4, 0.3)), (1.0, 0.0003))

    def test_bad_profiles_are_refused(self):
        for raw in ({"faults": {"http500": 0.7, "reset": 0.5}}, {"thrrottle": True}, {"throttle": {"scale": 0}}):
            with self.assertRaises(ValueError, msg=raw):
                realism.Profile(raw)


def _parse(call, status, headers, body):
    """Parse a reply as botocore does for a client of the call's wire protocol."""
    model = botocore.session.get_session().get_service_model(call.service)
    op = model.operation_model(call.operation)
    parsed = create_parser(call.protocol).parse(
        {"status_code": status, "headers": HeadersDict(headers), "body": body}, op.output_shape
    )
    return op, parsed


class ErrorReplies(unittest.TestCase):
    def test_throttled_replies_are_throttling_to_botocore(self):
        cases = [
            (query_call("ec2", "DescribeVpcs"), "ec2", "DescribeVpcs", "RequestLimitExceeded", 503),
            (query_call("sts", "AssumeRole"), "sts", "AssumeRole", "Throttling", 400),
            (json_call("ecs", "AmazonEC2ContainerServiceV20141113.ListServices"), "ecs", "ListServices", "ThrottlingException", 400),
            (json_call("servicediscovery", "Route53AutoNaming_v20170314.ListNamespaces"), "servicediscovery", "ListNamespaces", "ThrottlingException", 400),
            (json_call("servicediscovery", "Route53AutoNaming_v20170314.DiscoverInstances"), "servicediscovery", "DiscoverInstances", "RequestLimitExceeded", 429),
            (json_call("dynamodb", "DynamoDB_20120810.GetItem"), "dynamodb", "GetItem", "ThrottlingException", 400),
            (signed("ram", method="POST", path="/getresourceshares", content_type="application/json", data=b"{}"), "ram", "GetResourceShares", "ThrottlingException", 429),
            (signed("s3", method="GET", path="/bucket/key"), "s3", "GetObject", "SlowDown", 503),
        ]
        for environ, service, operation, code, status in cases:
            with self.subTest(service=service, operation=operation):
                call = realism.identify(environ)
                self.assertEqual(call.operation, operation)
                got_status, got_code, message = realism._throttle_error(call)
                line, headers, body = realism.error_response(call, got_status, got_code, message)
                self.assertEqual(int(line.split()[0]), status)
                op, parsed = _parse(call, status, headers, body)
                self.assertEqual(parsed["Error"]["Code"], code)
                context = RetryContext(attempt_number=1, operation_model=op, parsed_response=parsed)
                self.assertTrue(ThrottledRetryableChecker().is_retryable(context))

    def test_faults_are_server_errors_in_the_protocol_format(self):
        for environ, service, operation in [
            (query_call("ec2", "DescribeVpcs"), "ec2", "DescribeVpcs"),
            (json_call("ecs", "AmazonEC2ContainerServiceV20141113.ListServices"), "ecs", "ListServices"),
            (signed("ram", method="POST", path="/getresourceshares", content_type="application/json", data=b"{}"), "ram", "GetResourceShares"),
        ]:
            call = realism.identify(environ)
            for fault, (status, code, message) in realism._FAULTS.items():
                with self.subTest(service=service, fault=fault):
                    _, headers, body = realism.error_response(call, status, code, message)
                    _, parsed = _parse(call, status, headers, body)
                    self.assertEqual(parsed["Error"]["Code"], code)


class Admin(unittest.TestCase):
    def setUp(self):
        settings.reset()
        self.served = []

        def moto(environ, start_response):
            self.served.append(environ["PATH_INFO"])
            return Response("{}", content_type="application/x-amz-json-1.1")(environ, start_response)

        self.middleware = realism.wrap(moto)
        self.client = Client(self.middleware)

    def post(self, path, body):
        return self.client.post(path, data=json.dumps(body), content_type="application/json")

    def ecs(self, account):
        environ = json_call("ecs", "AmazonEC2ContainerServiceV20141113.ListClusters", headers={"x-moto-account-id": account})
        return self.client.open(environ)

    def test_calls_are_counted_and_admin_calls_are_not(self):
        self.ecs("111111111111")
        self.client.get("/_emulator/health")
        self.client.get("/_emulator/calls")
        calls = self.client.get("/_emulator/calls").get_json()["calls"]
        self.assertEqual(
            calls,
            [{"account": "111111111111", "region": "us-east-1", "service": "ecs", "operation": "ListClusters",
              "calls": 1, "throttled": 0, "faulted": 0, "continued": 0, "continuedFaulted": 0}],
        )

    def test_a_throttled_account_does_not_reach_moto(self):
        profile = {"throttle": {"families": {"ecs:ListClusters": {"burst": 1, "refill": 0}}}}
        self.assertEqual(self.post("/_emulator/profile", {"accounts": ["222222222222"], "profile": profile}).status_code, 200)
        statuses = [self.ecs("222222222222").status_code for _ in range(3)] + [self.ecs("333333333333").status_code]
        self.assertEqual(statuses, [200, 400, 400, 200])
        self.assertEqual(len(self.served), 2)

    def test_reset_wipes_profiles_settings_and_buckets_but_not_counts(self):
        self.post("/_emulator/profile", {"accounts": "*", "profile": {"faults": {"http500": 1.0}}})
        self.post("/_emulator/settings", {"accounts": ["444444444444"], "settings": {"ec2.vpc_endpoint_pending": 3}})
        self.assertEqual(settings.get("444444444444", "ec2.vpc_endpoint_pending"), 3)
        self.assertEqual(self.ecs("444444444444").status_code, 500)
        self.client.post("/moto-api/reset")
        self.assertEqual(settings.snapshot(), {})
        self.assertEqual(self.client.get("/_emulator/profile").get_json(), {"profiles": {}})
        self.assertEqual(self.ecs("444444444444").status_code, 200)
        calls = self.client.get("/_emulator/calls").get_json()["calls"]
        self.assertEqual([(c["calls"], c["faulted"]) for c in calls], [(2, 1)])

    def test_later_pages_and_their_faults_are_counted_apart(self):
        self.post("/_emulator/profile", {"accounts": ["777777777777"], "profile": {"faults": {"http500": 1.0}}})
        for token in ("", "abc"):
            environ = signed(
                "s3",
                method="GET",
                path="/bucket",
                query_string=f"list-type=2&continuation-token={token}",
                headers={"x-moto-account-id": "777777777777"},
            )
            self.assertEqual(self.client.open(environ).status_code, 500)
        calls = self.client.get("/_emulator/calls").get_json()["calls"]
        self.assertEqual(
            [(c["operation"], c["calls"], c["faulted"], c["continued"], c["continuedFaulted"]) for c in calls],
            [("ListObjectsV2", 2, 2, 1, 1)],
        )

    def test_bad_admin_requests_say_why(self):
        reply = self.post("/_emulator/profile", {"accounts": [], "profile": None})
        self.assertEqual(reply.status_code, 400)
        self.assertIn("accounts", reply.get_json()["error"])
        self.assertEqual(self.client.get("/_emulator/nothing").status_code, 404)


class Hang(unittest.TestCase):
    """The ``hang`` fault: the call is accepted and read, moto never sees it, no reply comes."""

    def setUp(self):
        self.served = []

        def moto(environ, start_response):
            self.served.append(environ["PATH_INFO"])
            return Response("{}", content_type="application/x-amz-json-1.1")(environ, start_response)

        self.middleware = realism.wrap(moto)

    def hang(self, account, hang_ms, operations=None):
        faults = {"hang": 1.0, "hang_ms": hang_ms}
        if operations is not None:
            faults["operations"] = operations
        self.middleware.state.set_profile([account], realism.Profile({"faults": faults}))

    def test_a_hung_call_is_held_until_its_limit_then_dropped_without_reaching_moto(self):
        self.hang("555555555555", 200, operations=["ListClusters"])
        client = Client(self.middleware)
        started = time.monotonic()
        with self.assertRaises(ConnectionAbortedError):
            client.open(json_call("ecs", "AmazonEC2ContainerServiceV20141113.ListClusters",
                                  headers={"x-moto-account-id": "555555555555"}))
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.assertEqual(self.served, [])
        calls = self.middleware.state.calls()
        self.assertEqual([(c["operation"], c["calls"], c["faulted"]) for c in calls], [("ListClusters", 1, 1)])

    def test_operations_limit_the_faults_to_the_calls_they_name(self):
        self.hang("666666666666", 60000, operations=["ecs:ListClusters", "DescribeVpcs"])
        client = Client(self.middleware)
        other = client.open(json_call("ecs", "AmazonEC2ContainerServiceV20141113.ListServices",
                                      headers={"x-moto-account-id": "666666666666"}))
        self.assertEqual(other.status_code, 200)
        self.assertEqual([(c["operation"], c["faulted"]) for c in self.middleware.state.calls()], [("ListServices", 0)])
        profile = realism.Profile({"faults": {"hang": 1.0, "operations": ["ecs:ListClusters", "DescribeVpcs"]}})
        named = realism.identify(json_call("ecs", "AmazonEC2ContainerServiceV20141113.ListClusters"))
        same_name_other_service = realism.identify(json_call("servicediscovery", "Route53AutoNaming_v20170314.ListClusters"))
        bare = realism.identify(query_call("ec2", "DescribeVpcs"))
        self.assertEqual(
            [profile.faults_apply_to(c) for c in (named, same_name_other_service, bare)],
            [True, False, True],
        )

    def test_a_hung_call_is_let_go_as_soon_as_its_client_gives_up(self):
        self.hang("777777777777", 30000)
        held = []
        hold = realism._hold

        def timed_hold(environ, limit):
            took = hold(environ, limit)
            held.append(took)
            return took

        realism._hold = timed_hold
        self.addCleanup(setattr, realism, "_hold", hold)
        server = make_server("127.0.0.1", 0, self.middleware, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        body = b"{}"
        request = (
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Moto-Account-Id: 777777777777\r\n"
            "X-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n"
            "Content-Type: application/x-amz-json-1.1\r\n"
            "Authorization: AWS4-HMAC-SHA256 " + SCOPE.format(key="AKIAIOSFODNN7EXAMPLE", region="us-east-1", service="ecs") + "\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        with socket.create_connection(server.server_address, timeout=5) as client:
            client.sendall(request)
            client.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                client.recv(1)  # no reply
        deadline = time.monotonic() + 5
        while not held and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(len(held), 1, "the call is let go once the client closed the connection")
        self.assertLess(held[0], 5)
        self.assertEqual(self.served, [])

    def test_bad_hang_settings_are_refused(self):
        for faults in ({"hang": 1.0, "hang_ms": 0}, {"hang": 0.5, "operations": "ListClusters"}, {"hang": 0.6, "reset": 0.5}):
            with self.assertRaises(ValueError, msg=faults):
                realism.Profile({"faults": faults})


if __name__ == "__main__":
    unittest.main()
