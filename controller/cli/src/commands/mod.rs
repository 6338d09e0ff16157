pub mod apply;
pub mod healthcheck;
pub mod inspect;
pub mod plan;
pub mod run;
pub mod schema;
pub mod validate;

use std::path::PathBuf;

use crate::session::Session;

/// Where `plan` and `apply` read the desired state and the controller config.
#[derive(Debug, clap::Args)]
pub struct Sources {
    /// The desired state: a directory of documents.
    #[arg(long)]
    source: PathBuf,
    /// The controller config; found next to the documents when absent.
    #[arg(long, env = "ECS_TOPOLOGY_CONFIG")]
    config: Option<PathBuf>,
}

impl Sources {
    /// Loads the documents and the config and opens a session on them.
    pub async fn open(&self) -> anyhow::Result<Session> {
        Session::open(&self.source, self.config.as_deref()).await
    }
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}
