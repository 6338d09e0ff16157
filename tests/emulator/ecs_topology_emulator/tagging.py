"""Resource Groups Tagging API coverage for Cloud Map namespaces.

AWS's ``tag:GetResources`` lists Cloud Map namespaces (resource type ``servicediscovery:namespace``)
with their tags, which lets a client read the tags of every namespace of an account and region in
one paginated pass. Stock moto's tagging API only walks backends that mix in
``TaggableResourcesMixin``; this module adds the Cloud Map backend to that walk.
"""

from moto.core import resource_tagging
from moto.core.resource_tagging import TaggedResource
from moto.resourcegroupstaggingapi import models as tagging_models
from moto.servicediscovery.models import servicediscovery_backends


class _NamespaceTags:
    """Presents one account/region's Cloud Map backend as a taggable backend."""

    SERVICE_NAMESPACE = "servicediscovery"

    def __init__(self, backend):
        self.backend = backend
        self.partition = backend.partition

    def iter_tagged_resources(self):
        from . import servicediscovery

        servicediscovery.settle(self.backend.account_id, self.backend.region_name)
        for ns in list(self.backend.namespaces.values()):
            tags = {
                t["Key"]: t["Value"]
                for t in self.backend.tagger.list_tags_for_resource(ns.arn)["Tags"]
            }
            yield TaggedResource(arn=ns.arn, tags=tags, resource_type="servicediscovery:namespace")

    def owns_arn(self, arn):
        return arn.startswith(f"arn:{self.partition}:servicediscovery:")

    def tag_resource(self, arn, tags):
        self.backend.tagger.tag_resource(arn, [{"Key": k, "Value": v} for k, v in tags.items()])

    def untag_resource(self, arn, keys):
        self.backend.tagger.untag_resource_using_names(arn, keys)


def install() -> None:
    original = resource_tagging.iter_taggable_backends

    def iter_taggable_backends(account_id, region_name):
        yield from original(account_id, region_name)
        if account_id in servicediscovery_backends and region_name in servicediscovery_backends[account_id]:
            yield _NamespaceTags(servicediscovery_backends[account_id][region_name])

    resource_tagging.iter_taggable_backends = iter_taggable_backends
    tagging_models.iter_taggable_backends = iter_taggable_backends
