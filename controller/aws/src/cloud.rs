//! The engine's [`Cloud`] over real AWS clients: one SDK client set per account and region,
//! every call within its rate budget.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ecs_topology_core::engine::{Change, Scope};
use ecs_topology_core::kinds::binding::{BindingCloud, Bindings, ObservedBoundService};
use ecs_topology_core::kinds::endpoints::{EndpointCloud, EndpointSets};
use ecs_topology_core::kinds::express::{ExpressCloud, ExpressServices};
use ecs_topology_core::kinds::namespace::{NamespaceCloud, NamespaceScan, Namespaces};
use ecs_topology_core::kinds::peering::{
    Network, NetworkWants, ObservedPeering, PeeringApplied, PeeringCloud, PeeringField, Peerings,
};
use ecs_topology_core::kinds::share::{ShareCloud, Shares};
use ecs_topology_core::model::VpcEndpointSetSpec;
use ecs_topology_core::observed::{
    ObservedEndpoint, ObservedExpressService, ObservedNamespace, ObservedShare,
};
use ecs_topology_core::status::{ErrorClass, ErrorInfo};

use crate::call::Aws;
use crate::{AccountError, Accounts, ApiBudgets, Clients};

/// AWS as the engine sees it.
#[derive(Debug, Clone)]
pub struct AwsCloud {
    accounts: Accounts,
    budgets: Arc<ApiBudgets>,
    /// What earlier passes described of Express services.
    express: Arc<crate::express::ExpressCache>,
}

impl AwsCloud {
    pub fn new(accounts: Accounts, budgets: Arc<ApiBudgets>) -> AwsCloud {
        AwsCloud {
            accounts,
            budgets,
            express: Arc::default(),
        }
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The calls of one account and region, within this cloud's budgets.
    fn aws<'a>(&'a self, clients: &'a Clients) -> Aws<'a> {
        Aws::new(clients, &self.budgets)
    }

    async fn clients(&self, scope: &Scope) -> Result<Clients, ErrorInfo> {
        self.accounts
            .clients(&scope.account, &scope.region)
            .await
            .map_err(account_error)
    }
}

fn account_error(e: AccountError) -> ErrorInfo {
    ErrorInfo::new(ErrorClass::Credentials, e.to_string())
}

impl NamespaceCloud for AwsCloud {
    async fn observe_namespaces(&self, scope: &Scope) -> Result<NamespaceScan, ErrorInfo> {
        let clients = self.clients(scope).await?;
        let aws = self.aws(&clients);
        Ok(crate::cloudmap::observe(aws, &scope.account).await?)
    }

    async fn visible_namespaces(
        &self,
        scope: &Scope,
    ) -> Result<Option<BTreeSet<String>>, ErrorInfo> {
        let clients = match self.accounts.clients(&scope.account, &scope.region).await {
            Ok(c) => c,
            Err(AccountError::NoRole { .. }) => return Ok(None),
            Err(e) => return Err(account_error(e)),
        };
        Ok(Some(
            crate::cloudmap::visible(self.aws(&clients), &scope.account).await?,
        ))
    }

    async fn apply_namespace(
        &self,
        change: Change<'_, Namespaces>,
    ) -> Result<Option<ObservedNamespace>, ErrorInfo> {
        let clients = self.clients(change.scope).await?;
        let aws = self.aws(&clients).in_term(change.term);
        Ok(crate::cloudmap::apply(aws, &change).await?)
    }
}

impl ShareCloud for AwsCloud {
    async fn observe_shares(
        &self,
        scope: &Scope,
        permissions: &BTreeSet<String>,
    ) -> Result<Vec<ObservedShare>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        let aws = self.aws(&clients);
        Ok(crate::ram::observe(aws, permissions).await?)
    }

    async fn apply_share(
        &self,
        change: Change<'_, Shares>,
    ) -> Result<Option<ObservedShare>, ErrorInfo> {
        let clients = self.clients(change.scope).await?;
        let aws = self.aws(&clients).in_term(change.term);
        Ok(crate::ram::apply(aws, &change).await?)
    }
}

impl EndpointCloud for AwsCloud {
    async fn observe_endpoints(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> Result<Vec<ObservedEndpoint>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        let aws = self.aws(&clients);
        Ok(crate::endpoints::observe(aws, owner).await?)
    }

    async fn endpoint_look_alikes(
        &self,
        scope: &Scope,
        vpc: &str,
        owner: &str,
    ) -> Result<Vec<ObservedEndpoint>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        let aws = self.aws(&clients);
        Ok(crate::endpoints::look_alikes(aws, vpc, owner).await?)
    }

    async fn endpoint_preflight(
        &self,
        scope: &Scope,
        spec: &VpcEndpointSetSpec,
    ) -> Result<Vec<String>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        let aws = self.aws(&clients);
        Ok(crate::endpoints::preflight(aws, spec).await?)
    }

    async fn apply_endpoints(
        &self,
        change: Change<'_, EndpointSets>,
    ) -> Result<Vec<ObservedEndpoint>, ErrorInfo> {
        let clients = self.clients(change.scope).await?;
        let aws = self.aws(&clients).in_term(change.term);
        Ok(crate::endpoints::apply(aws, &change).await?)
    }
}

impl ExpressCloud for AwsCloud {
    async fn observe_express(
        &self,
        scope: &Scope,
        clusters: &BTreeSet<String>,
    ) -> Result<Vec<ObservedExpressService>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        let aws = self.aws(&clients);
        Ok(crate::express::observe(aws, clusters, &self.express).await?)
    }

    async fn owned_express_clusters(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> Result<BTreeSet<String>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        Ok(crate::express::owned_clusters(self.aws(&clients), owner).await?)
    }

    async fn apply_express(
        &self,
        change: Change<'_, ExpressServices>,
    ) -> Result<Option<ObservedExpressService>, ErrorInfo> {
        let clients = self.clients(change.scope).await?;
        let aws = self.aws(&clients).in_term(change.term);
        Ok(crate::express::apply(aws, &change).await?)
    }
}

impl PeeringCloud for AwsCloud {
    async fn observe_peerings(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> Result<Vec<ObservedPeering>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        Ok(crate::peering::observe(self.aws(&clients), owner).await?)
    }

    async fn peering_look_alikes(
        &self,
        scope: &Scope,
        vpcs: &BTreeSet<String>,
        owner: &str,
    ) -> Result<Vec<ObservedPeering>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        Ok(crate::peering::look_alikes(self.aws(&clients), vpcs, owner).await?)
    }

    async fn observe_network(
        &self,
        scope: &Scope,
        wants: &NetworkWants,
    ) -> Result<Network, ErrorInfo> {
        if wants.vpcs.is_empty() && wants.route_tables.is_empty() {
            return Ok(Network::default());
        }
        let clients = self.clients(scope).await?;
        Ok(crate::peering::network(self.aws(&clients), wants).await?)
    }

    async fn apply_peering(
        &self,
        change: Change<'_, Peerings>,
    ) -> Result<PeeringApplied, ErrorInfo> {
        // The accepter's calls are made with the accepter account's clients, in its region.
        let accepter = change
            .edits
            .iter()
            .find_map(|e| match &e.field {
                PeeringField::Connection { create: Some(new) } => Some(new.accepter.clone()),
                PeeringField::Acceptance { accepter } => Some(accepter.clone()),
                _ => None,
            })
            .or_else(|| {
                change
                    .subject
                    .first()
                    .filter(|c| !c.accepter.account.is_empty())
                    .map(|c| {
                        let region = Some(c.accepter.region.as_str())
                            .filter(|r| !r.is_empty())
                            .unwrap_or(&change.scope.region);
                        Scope::new(c.accepter.account.clone(), region)
                    })
            })
            .unwrap_or_else(|| change.scope.clone());
        let requester_clients = self.clients(change.scope).await?;
        let accepter_clients = self.clients(&accepter).await?;
        let requester = self.aws(&requester_clients).in_term(change.term);
        let accepter = self.aws(&accepter_clients).in_term(change.term);
        Ok(crate::peering::apply(requester, accepter, &change).await?)
    }
}

impl BindingCloud for AwsCloud {
    async fn observe_bindings(
        &self,
        scope: &Scope,
        named: &BTreeMap<String, BTreeSet<String>>,
        claimed_by: Option<&str>,
    ) -> Result<Vec<ObservedBoundService>, ErrorInfo> {
        let clients = self.clients(scope).await?;
        Ok(crate::binding::observe(self.aws(&clients), named, claimed_by).await?)
    }

    async fn apply_binding(
        &self,
        change: Change<'_, Bindings>,
    ) -> Result<Option<ObservedBoundService>, ErrorInfo> {
        let clients = self.clients(change.scope).await?;
        let aws = self.aws(&clients).in_term(change.term);
        Ok(crate::binding::apply(aws, &change).await?)
    }
}
