//! The rules every kind shares: names, places, tags, lists of EC2 ids. A kind's own rules are
//! its `Resource::check` (see `crate::kinds`).

use std::collections::BTreeSet;

use super::rules;
use super::{Report, SetView};
use crate::config::ControllerConfig;
use crate::engine::{Registered, Resource, Rules};
use crate::kinds::for_kind;
use crate::model::{ANNOTATION_PREFIX, Document};

const RESERVED_TAG_PREFIXES: [&str; 2] = ["aws:", ANNOTATION_PREFIX];

pub(crate) fn check_common(doc: &Document, view: &SetView<'_>, report: &mut Report<'_>) {
    let metadata = doc.metadata();
    if !rules::is_dns_label(&metadata.name) {
        report.error(
            "metadata.name",
            format!(
                "`{}` is not a DNS label: lower-case letters, digits and '-', starting and ending \
                 with a letter or digit, at most 63 characters",
                metadata.name
            ),
        );
    }
    let (_, annotation_errors) = metadata.policies();
    for e in annotation_errors {
        report.error(format!("metadata.annotations.{}", e.key), e.reason);
    }
    let at = for_kind!(doc.kind(), R => R::PLACE);
    check_place(doc.account(), doc.region(), at, view, report);
    let tags = for_kind!(doc.kind(), R => R::spec(doc).map(R::user_tags));
    if let Some(tags) = tags {
        check_tags(tags, report);
    }
}

/// Checks an account and a region, reported at `{at}.account` and `{at}.region`.
pub(crate) fn check_place(
    account: &str,
    region: &str,
    at: &str,
    view: &SetView<'_>,
    report: &mut Report<'_>,
) {
    if view.config.resolve_account(account).is_none() {
        report.error(
            format!("{at}.account"),
            format!(
                "`{account}` is neither an account alias of the controller config ({}) nor a \
                 12-digit account id",
                aliases(view.config)
            ),
        );
    }
    if !rules::is_region(region) {
        report.error(
            format!("{at}.region"),
            format!("`{region}` is not a region name such as `eu-west-1`"),
        );
    } else if !view.config.regions.is_empty() && !view.config.regions.iter().any(|r| r == region) {
        report.error(
            format!("{at}.region"),
            format!(
                "`{region}` is not one of the regions of the controller config: {}",
                view.config.regions.join(", ")
            ),
        );
    }
}

fn aliases(config: &ControllerConfig) -> String {
    if config.accounts.is_empty() {
        "it has none".to_owned()
    } else {
        let names: Vec<_> = config.accounts.keys().map(String::as_str).collect();
        format!("known: {}", names.join(", "))
    }
}

fn check_tags(tags: &crate::compact::Tags, report: &mut Report<'_>) {
    // AWS allows 50 tags; the controller's two ownership tags count too.
    if tags.len() > 48 {
        report.error(
            "spec.tags",
            format!(
                "{} tags; at most 48 (AWS allows 50, two are the controller's)",
                tags.len()
            ),
        );
    }
    for (key, value) in tags {
        let path = format!("spec.tags.{key}");
        if let Some(prefix) = RESERVED_TAG_PREFIXES.iter().find(|p| key.starts_with(**p)) {
            report.error(
                path,
                format!("tag keys starting with `{prefix}` are reserved"),
            );
        } else if key.is_empty() || key.chars().count() > 128 {
            report.error(path, "a tag key has 1 to 128 characters");
        } else if value.chars().count() > 256 {
            report.error(path, "a tag value has at most 256 characters");
        }
    }
}

pub(crate) fn check_ids(prefix: &str, path: &str, ids: &[String], report: &mut Report<'_>) {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !rules::is_ec2_id(prefix, id) {
            report.error(
                format!("{path}[{i}]"),
                format!("`{id}` is not an id of the form {prefix}-..."),
            );
        } else if !seen.insert(id) {
            report.error(format!("{path}[{i}]"), format!("`{id}` is listed twice"));
        }
    }
}
