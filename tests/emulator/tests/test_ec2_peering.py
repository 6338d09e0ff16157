"""Tests of the VPC peering extension's own rules: its status clock, how long an ended connection
stays listed for each party, and the throttling family of the peering and route calls. The wire
behaviour is tested through the Rust SDK in tests/support/tests/emulator/peering.rs.

Run: tests/emulator/.venv/bin/python -m unittest discover -s tests/emulator/tests -t tests/emulator
"""

import unittest
from unittest import mock

from ecs_topology_emulator import ec2_peering, realism, settings
from ecs_topology_emulator.ec2_peering import DAY, HOUR, Party, Peering

REQUESTER = ("111111111111", "eu-west-1")
ACCEPTER = ("222222222222", "us-east-1")


def peering(requester=REQUESTER, accepter=ACCEPTER, failed=False) -> Peering:
    return Peering(
        "pcx-0123456789abcdef0",
        Party(requester[0], requester[1], "vpc-1", None),
        Party(accepter[0], accepter[1], "vpc-2", None),
        seq=1,
        failed=failed,
    )


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StatusClock(unittest.TestCase):
    def setUp(self) -> None:
        settings.reset()
        self.clock = Clock()
        patcher = mock.patch.object(ec2_peering.time, "monotonic", self.clock)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(settings.reset)

    def test_a_request_is_pending_until_it_expires_after_seven_days(self):
        pcx = peering()
        self.assertEqual(pcx.code, "pending-acceptance")
        self.clock.now += 7 * DAY
        self.assertEqual(pcx.code, "expired")

    def test_an_accepted_request_provisions_then_is_active(self):
        pcx = peering()
        pcx.accept(provisioning_for=2.0)
        self.assertEqual(pcx.status, {"Code": "provisioning", "Message": "Provisioning"})
        self.clock.now += 2.0
        self.assertEqual(pcx.status, {"Code": "active", "Message": "Active"})

    def test_an_inter_region_deletion_is_deleting_first_and_names_the_deleter(self):
        pcx = peering()
        pcx.accept(provisioning_for=0.0)
        pcx.delete(ACCEPTER[0], deleting_for=1.0)
        self.assertEqual(pcx.code, "deleting")
        self.clock.now += 1.0
        self.assertEqual(pcx.status, {"Code": "deleted", "Message": f"Deleted by {ACCEPTER[0]}"})

    def test_a_same_region_deletion_is_deleted_at_once(self):
        pcx = peering(accepter=("222222222222", "eu-west-1"))
        pcx.delete(REQUESTER[0], deleting_for=5.0)
        self.assertEqual(pcx.code, "deleted")

    def test_a_failed_request_is_listed_for_the_requester_only_for_two_hours(self):
        pcx = peering(failed=True)
        self.assertEqual(pcx.parties(), [REQUESTER])
        self.clock.now += 2 * HOUR - 1
        self.assertFalse(pcx.gone_for(REQUESTER))
        self.clock.now += 1
        self.assertTrue(pcx.gone_for(REQUESTER))

    def test_a_deleted_connection_stays_two_hours_for_the_deleter_and_two_days_for_the_other(self):
        pcx = peering()
        pcx.delete(REQUESTER[0], deleting_for=0.0)
        self.clock.now += 2 * HOUR
        self.assertTrue(pcx.gone_for(REQUESTER))
        self.assertFalse(pcx.gone_for(ACCEPTER))
        self.clock.now += 2 * DAY
        self.assertTrue(pcx.gone_for(ACCEPTER))

    def test_a_rejected_request_stays_two_days_for_the_requester_and_two_hours_for_the_accepter(self):
        pcx = peering()
        pcx.reject()
        self.clock.now += 2 * HOUR
        self.assertTrue(pcx.gone_for(ACCEPTER))
        self.assertFalse(pcx.gone_for(REQUESTER))

    def test_the_visibility_setting_replaces_the_durations_for_its_account(self):
        settings.update([ACCEPTER[0]], {"ec2.vpc_peering_ended_visible": 1})
        pcx = peering()
        pcx.delete(REQUESTER[0], deleting_for=0.0)
        self.clock.now += 1
        self.assertTrue(pcx.gone_for(ACCEPTER))
        self.assertFalse(pcx.gone_for(REQUESTER))

    def test_a_live_connection_is_never_gone(self):
        pcx = peering()
        pcx.accept(provisioning_for=0.0)
        self.clock.now += 30 * DAY
        self.assertFalse(pcx.gone_for(REQUESTER))


class ThrottlingFamily(unittest.TestCase):
    def test_peering_and_route_changes_share_the_default_mutating_bucket(self):
        for operation in (
            "CreateVpcPeeringConnection",
            "AcceptVpcPeeringConnection",
            "DeleteVpcPeeringConnection",
            "ModifyVpcPeeringConnectionOptions",
            "CreateRoute",
            "ReplaceRoute",
            "DeleteRoute",
        ):
            self.assertEqual(realism.family_of("ec2", operation), ("ec2:mutating", (50, 5)), operation)

    def test_their_describes_keep_a_bucket_each(self):
        for operation in ("DescribeVpcPeeringConnections", "DescribeRouteTables", "DescribeVpcs"):
            self.assertEqual(realism.family_of("ec2", operation), (f"ec2:{operation}", (100.0, 20.0)))

    def test_other_mutating_ec2_calls_keep_their_own_bucket(self):
        self.assertEqual(realism.family_of("ec2", "CreateVpc"), ("ec2:CreateVpc", (50.0, 5.0)))


if __name__ == "__main__":
    unittest.main()
