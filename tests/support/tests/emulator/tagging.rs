//! The Resource Groups Tagging API lists Cloud Map namespaces with their tags, as AWS's does, so
//! that the tags of every namespace of an account and region are read in one paginated pass.

use std::collections::BTreeMap;

use aws_sdk_resourcegroupstagging as tagging;
use aws_sdk_resourcegroupstagging::types::TagFilter;
use aws_sdk_servicediscovery::types::Tag;
use ecs_topology_testkit::{all_pages, emulator};

const REGION: &str = "ap-northeast-1";

async fn create(
    sd: &aws_sdk_servicediscovery::Client,
    name: &str,
    tags: &[(&str, &str)],
) -> String {
    let mut request = sd.create_http_namespace().name(name);
    for (k, v) in tags {
        request = request.tags(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    let operation = request.send().await.unwrap().operation_id.unwrap();
    let op = sd
        .get_operation()
        .operation_id(operation)
        .send()
        .await
        .unwrap();
    op.operation.unwrap().targets.unwrap()
        [&aws_sdk_servicediscovery::types::OperationTargetType::Namespace]
        .clone()
}

async fn namespace_tags(
    client: &tagging::Client,
    filter: Option<TagFilter>,
    per_page: i32,
) -> (BTreeMap<String, BTreeMap<String, String>>, usize) {
    let pages = all_pages(|token| {
        let call = client
            .get_resources()
            .resource_type_filters("servicediscovery:namespace")
            .set_tag_filters(filter.clone().map(|f| vec![f]))
            .resources_per_page(per_page)
            .set_pagination_token(token);
        async move {
            let reply = call.send().await.unwrap();
            let found: Vec<(String, BTreeMap<String, String>)> = reply
                .resource_tag_mapping_list()
                .iter()
                .map(|mapping| {
                    let tags = mapping
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_owned(), t.value().to_owned()))
                        .collect();
                    (mapping.resource_arn().unwrap().to_owned(), tags)
                })
                .collect();
            // The last page answers an empty token.
            (found, reply.pagination_token.filter(|t| !t.is_empty()))
        }
    })
    .await;
    let count = pages.pages.len();
    (pages.items().into_iter().collect(), count)
}

#[tokio::test]
async fn get_resources_lists_tagged_namespaces_with_their_tags_and_filters_by_tag() {
    let account = emulator().new_account();
    let config = emulator().sdk_config(&account, REGION).await;
    let sd = aws_sdk_servicediscovery::Client::new(&config);
    let ours = create(
        &sd,
        "ours.internal",
        &[("ecs-topology.dev/owner", "ctl"), ("team", "a")],
    )
    .await;
    create(&sd, "theirs.internal", &[("team", "b")]).await;
    create(&sd, "untagged.internal", &[]).await;
    let ns = sd
        .get_namespace()
        .id(&ours)
        .send()
        .await
        .unwrap()
        .namespace
        .unwrap();

    let client = tagging::Client::new(&config);
    let (all, _) = namespace_tags(&client, None, 100).await;
    assert_eq!(all.len(), 2, "tagged namespaces only: {all:?}");
    assert_eq!(all[ns.arn().unwrap()]["team"], "a");

    let owner = TagFilter::builder()
        .key("ecs-topology.dev/owner")
        .values("ctl")
        .build();
    let (owned, _) = namespace_tags(&client, Some(owner), 100).await;
    assert_eq!(owned.keys().collect::<Vec<_>>(), [ns.arn().unwrap()]);

    // A tag removed by another client is gone from the listing.
    sd.untag_resource()
        .resource_arn(ns.arn().unwrap())
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let (all, _) = namespace_tags(&client, None, 100).await;
    assert!(!all[ns.arn().unwrap()].contains_key("team"));
}

#[tokio::test]
async fn resources_per_page_alone_decides_the_page_size_whatever_the_number_of_tags() {
    let account = emulator().new_account();
    let config = emulator().sdk_config(&account, REGION).await;
    let sd = aws_sdk_servicediscovery::Client::new(&config);
    let tags: Vec<(String, String)> = (0..40).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for i in 0..4 {
        create(&sd, &format!("t{i}.internal"), &tags).await;
    }
    // 160 tags in all: one page of resources, not pages of 100 tags.
    let (all, pages) = namespace_tags(&tagging::Client::new(&config), None, 100).await;
    assert_eq!((all.len(), pages), (4, 1));
}

#[tokio::test]
async fn get_resources_pages_namespaces() {
    let account = emulator().new_account();
    let config = emulator().sdk_config(&account, REGION).await;
    let sd = aws_sdk_servicediscovery::Client::new(&config);
    for i in 0..5 {
        create(
            &sd,
            &format!("n{i}.internal"),
            &[("ecs-topology.dev/owner", "ctl")],
        )
        .await;
    }
    let (all, pages) = namespace_tags(&tagging::Client::new(&config), None, 2).await;
    assert_eq!((all.len(), pages), (5, 3));
}
