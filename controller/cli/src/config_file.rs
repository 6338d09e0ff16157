//! Finding and reading the controller config.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ecs_topology_core::config::{CONFIG_FILE_NAME, ControllerConfig};

/// The config named on the command line (or by `ECS_TOPOLOGY_CONFIG`); else its text in
/// `ECS_TOPOLOGY_CONFIG_YAML` (a container with a read-only filesystem); else the nearest
/// `ecs-topology.config.yaml` in the document directory or above it; else the defaults.
pub fn resolve(
    explicit: Option<&Path>,
    near: &[PathBuf],
) -> anyhow::Result<(ControllerConfig, Option<PathBuf>)> {
    if explicit.is_none()
        && let Ok(text) = std::env::var("ECS_TOPOLOGY_CONFIG_YAML")
    {
        let config = ControllerConfig::parse("ECS_TOPOLOGY_CONFIG_YAML", &text)
            .with_context(|| "the controller config is not usable")?;
        return Ok((config, None));
    }
    let path = match explicit {
        Some(p) => Some(p.to_owned()),
        None => near.iter().find_map(|p| discover(p)),
    };
    match path {
        Some(path) => {
            let config = ControllerConfig::load(&path)
                .with_context(|| "the controller config is not usable")?;
            Ok((config, Some(path)))
        }
        None => Ok((ControllerConfig::default(), None)),
    }
}

fn discover(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let mut dir = if start.is_dir() {
        Some(start.as_path())
    } else {
        start.parent()
    };
    while let Some(d) = dir {
        let candidate = d.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Some(relative_to_cwd(candidate));
        }
        dir = d.parent();
    }
    None
}

fn relative_to_cwd(path: PathBuf) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_owned))
        .unwrap_or(path)
}
