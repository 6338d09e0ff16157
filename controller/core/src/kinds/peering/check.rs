//! The rules of a `VpcPeering`, beyond its schema.

use super::Peerings;
use crate::config::ControllerConfig;
use crate::engine::Rules;
use crate::model::{PeeringSide, VpcPeeringSpec};
use crate::validate::{Identity, Report, SetView, check_ids, check_place, rules};

impl Rules for Peerings {
    const PLACE: &'static str = "spec.requester";

    fn check(spec: &VpcPeeringSpec, view: &SetView<'_>, report: &mut Report<'_>) {
        check_place(
            &spec.accepter.account,
            &spec.accepter.region,
            "spec.accepter",
            view,
            report,
        );
        for (at, side) in [
            ("spec.requester", &spec.requester),
            ("spec.accepter", &spec.accepter),
        ] {
            if !rules::is_ec2_id("vpc", &side.vpc_id) {
                report.error(
                    format!("{at}.vpcId"),
                    format!("`{}` is not a VPC id (vpc-...)", side.vpc_id),
                );
            }
            check_ids(
                "rtb",
                &format!("{at}.routeTableIds"),
                &side.route_table_ids,
                report,
            );
        }
        if spec.requester.vpc_id == spec.accepter.vpc_id {
            report.error(
                "spec.accepter.vpcId",
                format!(
                    "`{}` is the requester's VPC; a VPC cannot peer with itself",
                    spec.accepter.vpc_id
                ),
            );
        }
    }

    /// The same two VPCs, whichever requests: one identity.
    fn identities(
        spec: &VpcPeeringSpec,
        _account: &str,
        _region: &str,
        config: &ControllerConfig,
    ) -> Vec<Identity> {
        let side = |s: &PeeringSide| {
            let account = config
                .resolve_account(&s.account)
                .unwrap_or_else(|| s.account.clone());
            format!("{account}|{}|{}", s.region, s.vpc_id)
        };
        let mut pair = [side(&spec.requester), side(&spec.accepter)];
        pair.sort();
        vec![Identity {
            id: format!("pcx|{}|{}", pair[0], pair[1]),
            what: format!(
                "the peering of {} and {}",
                spec.requester.vpc_id, spec.accepter.vpc_id
            ),
            path: "spec.accepter.vpcId",
        }]
    }
}
