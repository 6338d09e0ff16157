"""Which Cloud Map namespaces ECS Service Connect may join (``ecs_services._visible_namespace``),
for the cases the SDK cannot set up: a namespace shared without the Cloud Map ECS permission.

Run: tests/emulator/.venv/bin/python -m unittest discover -s tests/emulator/tests -t tests/emulator
"""

import unittest

from moto.ram.models import ResourceShare, ram_backends
from moto.servicediscovery.models import servicediscovery_backends

from ecs_topology_emulator import ecs_common, ecs_services, ram, servicediscovery

REGION = "eu-central-1"
OWNER = "310000000001"
CONSUMER = "310000000002"


def namespace(account: str, name: str):
    backend = servicediscovery_backends[account][REGION]
    backend.create_http_namespace(name=name, creator_request_id=name, description="", tags=[])
    servicediscovery.settle(account, REGION)
    return next(ns for ns in backend.namespaces.values() if ns.name == name)


def share(arn: str, permission_arn: str | None) -> None:
    backend = ram_backends[OWNER][REGION]
    resource_share = ResourceShare(OWNER, REGION, name="s", allowExternalPrincipals=False)
    ext = ram._ext(resource_share)
    ext["assoc"][("RESOURCE", arn)] = ram._new_record(ram.CLOUD_MAP_TYPE, 0.0)
    ext["assoc"][("PRINCIPAL", CONSUMER)] = ram._new_record(None, 0.0)
    if permission_arn is not None:
        ext["permissions"][ram.CLOUD_MAP_TYPE.lower()] = {"arn": permission_arn, "created": 0.0, "updated": 0.0}
    backend.resource_shares.append(resource_share)


class VisibleNamespace(unittest.TestCase):
    def tearDown(self):
        for account in (OWNER, CONSUMER):
            servicediscovery_backends[account][REGION].namespaces.clear()
        ram_backends[OWNER][REGION].resource_shares.clear()

    def assert_not_found(self, account: str, ident: str):
        with self.assertRaises(ecs_common.EcsError) as caught:
            ecs_services._visible_namespace(account, REGION, ident)
        self.assertEqual(caught.exception.code, "NamespaceNotFoundException")
        self.assertEqual(caught.exception.message, "The specified namespace wasn't found.")

    def test_an_own_namespace_is_found_by_name_and_arn_but_not_by_id(self):
        ns = namespace(CONSUMER, "own")
        self.assertIs(ecs_services._visible_namespace(CONSUMER, REGION, "own"), ns)
        self.assertIs(ecs_services._visible_namespace(CONSUMER, REGION, ns.arn), ns)
        self.assert_not_found(CONSUMER, ns.id)

    def test_a_namespace_shared_with_the_cloud_map_ecs_permission_is_found_by_arn(self):
        ns = namespace(OWNER, "shared")
        share(ns.arn, ram.CLOUD_MAP_PERMISSION_ARN)
        self.assertIs(ecs_services._visible_namespace(CONSUMER, REGION, ns.arn), ns)
        self.assert_not_found(CONSUMER, "shared")

    def test_a_namespace_shared_with_another_permission_is_not_found(self):
        ns = namespace(OWNER, "other-permission")
        share(ns.arn, "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSomethingElse")
        self.assert_not_found(CONSUMER, ns.arn)

    def test_a_namespace_shared_without_a_permission_is_not_found(self):
        ns = namespace(OWNER, "no-permission")
        share(ns.arn, None)
        self.assert_not_found(CONSUMER, ns.arn)


if __name__ == "__main__":
    unittest.main()
