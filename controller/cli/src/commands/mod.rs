pub mod apply;
pub mod healthcheck;
pub mod plan;
pub mod run;
pub mod schema;
pub mod validate;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}
