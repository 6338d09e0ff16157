"""Tests of CloudTrail-shaped events and their EventBridge delivery without a server: which calls
publish, the shape of their parameters, bus policies, and delivery through rules, other
accounts' buses and SQS queues (moto in process). The whole path through a server and the Rust
SDK is tested in tests/support/tests/emulator/events.rs.

Run: tests/emulator/.venv/bin/python -m unittest discover -s tests/emulator/tests -t tests/emulator
"""

import json
import os
import time
import unittest
from types import SimpleNamespace

import boto3
from moto import mock_aws

from ecs_topology_emulator import cloudtrail, eventbridge, settings

eventbridge.install()

REGION = "eu-west-1"
SENDER, CENTRAL = "111111111111", "333333333333"
PATTERN = {
    "detail-type": ["AWS API Call via CloudTrail"],
    "source": ["aws.servicediscovery"],
    "detail": {"eventSource": ["servicediscovery.amazonaws.com"], "eventName": ["UpdateHttpNamespace"]},
}


def bus(account: str, statements: list) -> SimpleNamespace:
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements}) if statements else None
    return SimpleNamespace(account_id=account, policy=policy)


def allow(principal, condition=None, action="events:PutEvents") -> dict:
    statement = {"Sid": "s", "Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def namespace_event(account: str = SENDER, name: str = "UpdateHttpNamespace") -> dict:
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "test"}
    body = json.dumps({"Id": "ns-1", "Namespace": {"Description": "by hand"}, "UpdaterRequestId": "u-1"})
    reply = json.dumps({"OperationId": "op-1"})
    return cloudtrail.event(
        cloudtrail.Call(
            account, REGION, "servicediscovery", name, environ, None, body.encode(), [("x-amzn-RequestId", "r-1")], reply.encode()
        )
    )


class WhatIsPublished(unittest.TestCase):
    def test_mutating_calls_of_the_four_services_are_published(self):
        for service, operation in [
            ("servicediscovery", "UpdateHttpNamespace"),
            ("ram", "AssociateResourceShare"),
            ("ec2", "CreateRoute"),
            ("ecs", "UpdateService"),
            ("ecs", "TagResource"),
        ]:
            self.assertTrue(cloudtrail.recorded(service, operation), operation)

    def test_reads_and_other_services_are_not(self):
        for service, operation in [
            ("servicediscovery", "GetNamespace"),
            ("servicediscovery", "DiscoverInstances"),
            ("ec2", "DescribeVpcEndpoints"),
            ("ecs", "ListServices"),
            ("ram", "GetResourceShares"),
            ("s3", "PutObject"),
            ("sts", "AssumeRole"),
        ]:
            self.assertFalse(cloudtrail.recorded(service, operation), operation)


class Shape(unittest.TestCase):
    def test_the_envelope_and_the_record_are_cloudtrails(self):
        event = namespace_event()
        self.assertEqual(list(event), ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"])
        self.assertEqual(event["detail-type"], "AWS API Call via CloudTrail")
        self.assertEqual(event["source"], "aws.servicediscovery")
        detail = event["detail"]
        self.assertEqual(detail["eventSource"], "servicediscovery.amazonaws.com")
        self.assertEqual(detail["requestParameters"], {"id": "ns-1", "namespace": {"description": "by hand"}, "updaterRequestId": "u-1"})
        self.assertEqual(detail["responseElements"], {"operationId": "op-1"})
        self.assertEqual(detail["requestID"], "r-1")
        self.assertEqual(detail["recipientAccountId"], SENDER)
        self.assertEqual(detail["eventTime"], event["time"])
        self.assertEqual(
            {k: detail[k] for k in ("readOnly", "eventType", "managementEvent", "eventCategory")},
            {"readOnly": False, "eventType": "AwsApiCall", "managementEvent": True, "eventCategory": "Management"},
        )
        self.assertEqual(detail["userIdentity"]["type"], "Root")

    def test_map_keys_stay_as_sent_while_structure_members_are_lowered(self):
        request, _ = cloudtrail.parameters(
            "servicediscovery",
            "RegisterInstance",
            {},
            json.dumps({"ServiceId": "srv-1", "InstanceId": "i", "Attributes": {"AWS_INSTANCE_IPV4": "10.0.0.1"}}).encode(),
            b"{}",
        )
        self.assertEqual(request, {"serviceId": "srv-1", "instanceId": "i", "attributes": {"AWS_INSTANCE_IPV4": "10.0.0.1"}})

    def test_an_empty_reply_is_null(self):
        _, response = cloudtrail.parameters("ecs", "TagResource", {}, b'{"resourceArn": "a", "tags": []}', b"{}")
        self.assertIsNone(response)

    def test_ec2_endpoint_calls_are_wrapped_and_tagged_by_number(self):
        request, _ = cloudtrail.parameters(
            "ec2",
            "DeleteVpcEndpoints",
            {"CONTENT_TYPE": "application/x-www-form-urlencoded"},
            b"Action=DeleteVpcEndpoints&Version=2016-11-15&VpcEndpointId.1=vpce-1&VpcEndpointId.2=vpce-2",
            b"",
        )
        self.assertEqual(
            request,
            {"DeleteVpcEndpointsRequest": {"VpcEndpointId": [{"tag": 1, "content": "vpce-1"}, {"tag": 2, "content": "vpce-2"}]}},
        )

    def test_older_ec2_calls_are_lower_camel_with_their_reply_read_from_xml(self):
        request, response = cloudtrail.parameters(
            "ec2",
            "CreateRoute",
            {"CONTENT_TYPE": "application/x-www-form-urlencoded"},
            b"Action=CreateRoute&RouteTableId=rtb-1&DestinationCidrBlock=10.1.0.0/16&VpcPeeringConnectionId=pcx-1",
            b'<CreateRouteResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><return>true</return></CreateRouteResponse>',
        )
        self.assertEqual(request, {"routeTableId": "rtb-1", "destinationCidrBlock": "10.1.0.0/16", "vpcPeeringConnectionId": "pcx-1"})
        self.assertEqual(response, {"requestId": "r", "_return": True})


class BusPolicy(unittest.TestCase):
    def setUp(self) -> None:
        settings.reset()
        self.addCleanup(settings.reset)

    def test_a_bus_admits_its_own_account_without_a_policy(self):
        self.assertTrue(eventbridge.admits(bus(CENTRAL, []), CENTRAL))
        self.assertFalse(eventbridge.admits(bus(CENTRAL, []), SENDER))

    def test_a_policy_admits_the_account_by_id_root_or_star(self):
        for principal in [SENDER, {"AWS": f"arn:aws:iam::{SENDER}:root"}, {"AWS": [f"arn:aws:iam::{SENDER}:role/r"]}, "*"]:
            self.assertTrue(eventbridge.admits(bus(CENTRAL, [allow(principal)]), SENDER), principal)
        self.assertFalse(eventbridge.admits(bus(CENTRAL, [allow({"AWS": "arn:aws:iam::999999999999:root"})]), SENDER))
        self.assertFalse(eventbridge.admits(bus(CENTRAL, [allow(SENDER, action="events:PutRule")]), SENDER))

    def test_an_organization_condition_admits_the_accounts_of_the_organization(self):
        policy = bus(CENTRAL, [allow("*", {"StringEquals": {"aws:PrincipalOrgID": "o-1"}})])
        self.assertFalse(eventbridge.admits(policy, SENDER))
        settings.update([CENTRAL], {"ram.organization_accounts": [SENDER]})
        self.assertTrue(eventbridge.admits(policy, SENDER))


@mock_aws
class Delivery(unittest.TestCase):
    """A rule on the sender's default bus forwards to a central bus whose rule feeds a queue."""

    def setUp(self) -> None:
        os.environ.pop("MOTO_ACCOUNT_ID", None)
        settings.reset()
        self.addCleanup(settings.reset)
        central = self.client("events", CENTRAL)
        self.sqs = self.client("sqs", CENTRAL)
        self.queue = self.sqs.create_queue(QueueName="drift")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.bus = central.create_event_bus(Name="central")["EventBusArn"]
        central.put_rule(Name="to-queue", EventBusName="central", EventPattern=json.dumps(PATTERN))
        central.put_targets(Rule="to-queue", EventBusName="central", Targets=[{"Id": "q", "Arn": arn}])
        self.central = central
        self.sender = self.client("events", SENDER)

    @staticmethod
    def client(service: str, account: str):
        """A boto3 client of moto in process, acting in ``account``."""
        client = boto3.client(service, region_name=REGION, aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
        client.meta.events.register(
            "before-send.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account)
        )
        return client

    def forward(self, state: str = "ENABLED") -> None:
        self.sender.put_rule(Name="forward", EventPattern=json.dumps(PATTERN), State=state)
        self.sender.put_targets(Rule="forward", Targets=[{"Id": "central", "Arn": self.bus}])

    def admit_sender(self) -> None:
        self.central.put_permission(EventBusName="central", Action="events:PutEvents", Principal=SENDER, StatementId="sender")

    def received(self) -> list:
        messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    def test_nobody_listens_until_the_default_bus_has_a_rule(self):
        self.assertFalse(eventbridge.listening(SENDER, REGION))
        self.forward()
        self.assertTrue(eventbridge.listening(SENDER, REGION))
        self.assertFalse(eventbridge.listening(SENDER, "us-east-1"))

    def test_an_admitted_event_reaches_the_central_queue_unchanged(self):
        self.forward()
        self.admit_sender()
        event = namespace_event()
        eventbridge.deliver(event)
        [body] = self.received()
        self.assertEqual(body, event)
        self.assertEqual(body["account"], SENDER)

    def test_a_bus_whose_policy_does_not_admit_the_sender_receives_nothing(self):
        self.forward()
        eventbridge.deliver(namespace_event())
        self.assertEqual(self.received(), [])

    def test_a_disabled_rule_forwards_nothing(self):
        self.forward(state="DISABLED")
        self.admit_sender()
        eventbridge.deliver(namespace_event())
        self.assertEqual(self.received(), [])

    def test_an_event_the_pattern_does_not_match_is_not_forwarded(self):
        self.forward()
        self.admit_sender()
        eventbridge.deliver(namespace_event(name="DeleteNamespace"))
        self.assertEqual(self.received(), [])

    def test_publish_drops_the_fraction_it_is_told_and_waits_the_delay(self):
        self.forward()
        self.admit_sender()
        body = json.dumps({"Id": "ns-1"}).encode()
        call = cloudtrail.Call(SENDER, REGION, "servicediscovery", "UpdateHttpNamespace", {}, None, body, [], b"{}")
        settings.update([SENDER], {"events.drop_fraction": 1.0})
        cloudtrail.publish(call, "200 OK")
        self.assertEqual(self.received(), [])
        settings.update([SENDER], {"events.drop_fraction": 0.0, "events.delivery_delay": 0.3})
        cloudtrail.publish(call, "200 OK")
        self.assertEqual(self.received(), [])
        time.sleep(0.6)
        [event] = self.received()
        self.assertEqual(event["detail"]["requestParameters"], {"id": "ns-1"})

    def test_a_failed_call_publishes_nothing(self):
        self.forward()
        self.admit_sender()
        cloudtrail.publish(
            cloudtrail.Call(SENDER, REGION, "servicediscovery", "UpdateHttpNamespace", {}, None, b"{}", [], b"{}"), "400 Bad Request"
        )
        self.assertEqual(self.received(), [])


if __name__ == "__main__":
    unittest.main()
