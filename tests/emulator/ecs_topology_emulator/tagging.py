"""Resource Groups Tagging API coverage for Cloud Map namespaces, and its paging as AWS pages.

AWS's ``tag:GetResources`` lists Cloud Map namespaces (resource type ``servicediscovery:namespace``)
with their tags, which lets a client read the tags of every namespace of an account and region in
one paginated pass. Stock moto's tagging API only walks backends that mix in
``TaggableResourcesMixin``; this module adds the Cloud Map backend to that walk.

``GetResources`` takes ``ResourcesPerPage`` or ``TagsPerPage``, not both (the API reference); a
request that gives ``ResourcesPerPage`` is paged by resources only, whereas stock moto also cuts
pages at its default of 100 tags.
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


def _get_resources(self):
    """``GetResources`` as AWS pages it: by ``ResourcesPerPage`` when given, else ``TagsPerPage``."""
    from moto.core.responses import ActionResult
    from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError

    resources_given = self._get_param("ResourcesPerPage") is not None
    tags_given = self._get_param("TagsPerPage") is not None
    if resources_given and tags_given:
        raise ResourceGroupsTaggingAPIError(
            "InvalidParameterException", "ResourcesPerPage and TagsPerPage cannot both be specified"
        )
    resources_per_page = self._get_int_param("ResourcesPerPage", 50)
    tags_per_page = self._get_int_param("TagsPerPage", 100)
    if tags_per_page not in range(100, 501):
        raise ResourceGroupsTaggingAPIError("InvalidParameterException", "TagsPerPage must be between 100 and 500")
    if resources_per_page not in range(1, 101):
        raise ResourceGroupsTaggingAPIError("InvalidParameterException", "ResourcesPerPage must be between 1 and 100")
    token, found = self.backend.get_resources(
        pagination_token=self._get_param("PaginationToken"),
        tag_filters=self._get_param("TagFilters", []),
        resources_per_page=resources_per_page if resources_given or not tags_given else 10**9,
        tags_per_page=tags_per_page if tags_given else 10**9,
        resource_type_filters=self._get_param("ResourceTypeFilters", []),
        resource_arn_list=self._get_param("ResourceARNList", []),
    )
    return ActionResult(
        {
            "ResourceTagMappingList": [
                {"ResourceARN": r.arn, "Tags": [{"Key": k, "Value": v} for k, v in r.tags.items()]}
                for r in found
            ],
            "PaginationToken": token,
        }
    )


def install() -> None:
    from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

    ResourceGroupsTaggingAPIResponse.get_resources = _get_resources
    original = resource_tagging.iter_taggable_backends

    def iter_taggable_backends(account_id, region_name):
        yield from original(account_id, region_name)
        if account_id in servicediscovery_backends and region_name in servicediscovery_backends[account_id]:
            yield _NamespaceTags(servicediscovery_backends[account_id][region_name])

    resource_tagging.iter_taggable_backends = iter_taggable_backends
    tagging_models.iter_taggable_backends = iter_taggable_backends
