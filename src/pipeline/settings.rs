//! `[pipeline]` of hark.toml: batch sizes, channel capacities and the default poll interval
//! of the stages `pipeline` wires.

use serde::Deserialize;

/// `[pipeline]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Mentions per index commit at most.
    #[serde(default = "default_batch")]
    pub commit_batch: usize,
    /// Capacity of each channel between stages (back-pressure).
    #[serde(default = "default_channel")]
    pub channel_capacity: usize,
    /// Default poll interval of sources without their own.
    #[serde(default = "default_interval")]
    pub default_interval: String,
}

fn default_batch() -> usize {
    5000
}
fn default_channel() -> usize {
    64
}
fn default_interval() -> String {
    "15m".into()
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            commit_batch: default_batch(),
            channel_capacity: default_channel(),
            default_interval: default_interval(),
        }
    }
}
