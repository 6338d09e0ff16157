//! The emulator's own count of the calls it served, by account and operation: what call budgets
//! are asserted on.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// Call counts as served by the emulator (see [`Emulator::calls`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls {
    /// One row per (account, region, service, operation), sorted.
    pub rows: Vec<CallRow>,
}

/// The count of one operation in one account and region.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallRow {
    /// The 12-digit account that served the call.
    pub account: String,
    /// The region of the call's signature.
    pub region: String,
    /// The signing name of the service, e.g. `ec2`, `ecs`, `servicediscovery`, `ram`, `sts`.
    pub service: String,
    /// The operation, e.g. `DescribeVpcEndpoints`.
    pub operation: String,
    /// Calls served, throttled and faulted ones included.
    pub calls: u64,
    /// Of those, answered with a throttling error.
    pub throttled: u64,
    /// Of those, given an injected fault (HTTP 500/503, reset connection, slow reply).
    pub faulted: u64,
    /// Of the calls, those that asked for a page after the first (with a pagination token).
    pub continued: u64,
    /// Of those, the ones given an injected fault: a listing that failed after its first page.
    pub continued_faulted: u64,
}

impl CallRow {
    fn key(&self) -> (&str, &str, &str, &str) {
        (&self.account, &self.region, &self.service, &self.operation)
    }
}

impl Calls {
    pub(crate) fn from_json(body: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        let rows = value
            .get("calls")
            .and_then(Value::as_array)
            .ok_or("no \"calls\" array")?;
        let text = |row: &Value, field: &str| -> Result<String, String> {
            row.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("row without {field}: {row}"))
        };
        let number = |row: &Value, field: &str| -> Result<u64, String> {
            row.get(field)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("row without {field}: {row}"))
        };
        let mut rows = rows
            .iter()
            .map(|row| {
                Ok(CallRow {
                    account: text(row, "account")?,
                    region: text(row, "region")?,
                    service: text(row, "service")?,
                    operation: text(row, "operation")?,
                    calls: number(row, "calls")?,
                    throttled: number(row, "throttled")?,
                    faulted: number(row, "faulted")?,
                    continued: number(row, "continued")?,
                    continued_faulted: number(row, "continuedFaulted")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        rows.sort();
        Ok(Self { rows })
    }

    fn of<'a>(&'a self, account: &'a str) -> impl Iterator<Item = &'a CallRow> + 'a {
        self.rows.iter().filter(move |row| row.account == account)
    }

    /// All calls served in `account`, every region and service.
    pub fn total(&self, account: &str) -> u64 {
        self.of(account).map(|row| row.calls).sum()
    }

    /// Calls of `operation` (e.g. `CreateVpcEndpoint`) in `account`, every region and service.
    pub fn count(&self, account: &str, operation: &str) -> u64 {
        self.of(account)
            .filter(|row| row.operation == operation)
            .map(|row| row.calls)
            .sum()
    }

    /// Calls in `account` answered with a throttling error.
    pub fn throttled(&self, account: &str) -> u64 {
        self.of(account).map(|row| row.throttled).sum()
    }

    /// Calls in `account` given an injected fault.
    pub fn faulted(&self, account: &str) -> u64 {
        self.of(account).map(|row| row.faulted).sum()
    }

    /// Calls of `operation` in `account` that asked for a page after the first, and of those
    /// the faulted ones.
    pub fn continued(&self, account: &str, operation: &str) -> (u64, u64) {
        self.of(account)
            .filter(|row| row.operation == operation)
            .fold((0, 0), |(calls, faulted), row| {
                (calls + row.continued, faulted + row.continued_faulted)
            })
    }

    /// The calls made since `earlier` (an earlier snapshot of the same emulator): the
    /// difference per row; rows without new calls are left out.
    pub fn since(&self, earlier: &Calls) -> Calls {
        let before: HashMap<_, _> = earlier.rows.iter().map(|row| (row.key(), row)).collect();
        let rows = self
            .rows
            .iter()
            .filter_map(|row| {
                let old = before.get(&row.key());
                let minus = |now: u64, then: fn(&CallRow) -> u64| {
                    old.map_or(now, |old| now.saturating_sub(then(old)))
                };
                let calls = minus(row.calls, |r| r.calls);
                (calls > 0).then(|| CallRow {
                    calls,
                    throttled: minus(row.throttled, |r| r.throttled),
                    faulted: minus(row.faulted, |r| r.faulted),
                    continued: minus(row.continued, |r| r.continued),
                    continued_faulted: minus(row.continued_faulted, |r| r.continued_faulted),
                    ..row.clone()
                })
            })
            .collect();
        Calls { rows }
    }

    /// Calls in `account` whose operation is not a read: reads are `Describe*`, `List*`,
    /// `Get*`, `Head*`, `BatchGet*`, `Scan` and `Query`.
    pub fn mutating(&self, account: &str) -> u64 {
        self.of(account)
            .filter(|row| !is_read(&row.operation))
            .map(|row| row.calls)
            .sum()
    }

    /// The operations in `account` that are not reads (see [`Calls::mutating`]), sorted.
    pub fn mutating_operations(&self, account: &str) -> Vec<String> {
        self.operations(account)
            .into_keys()
            .filter(|op| !is_read(op))
            .collect()
    }

    /// Asserts that nothing in `account` was changed: no call but reads. The message names
    /// every operation served.
    #[track_caller]
    pub fn assert_read_only(&self, account: &str) {
        assert_eq!(
            self.mutating(account),
            0,
            "calls in {account} that change something: {:?}",
            self.operations(account)
        );
    }

    /// Calls per operation in `account`, every region and service added up.
    pub fn operations(&self, account: &str) -> BTreeMap<String, u64> {
        let mut operations = BTreeMap::new();
        for row in self.of(account) {
            *operations.entry(row.operation.clone()).or_insert(0) += row.calls;
        }
        operations
    }
}

/// Whether an operation only reads (see [`Calls::mutating`]).
pub fn is_read(operation: &str) -> bool {
    ["Describe", "List", "Get", "Head", "BatchGet"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
        || matches!(operation, "Scan" | "Query")
}
