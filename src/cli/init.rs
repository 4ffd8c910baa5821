//! `hark init [DIR]`: a commented starter deployment (the same files as the repository's
//! example config).

use super::usage;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to write hark.toml, queries/ and alerts/.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

const FILES: &[(&str, &str)] = &[
    ("hark.toml", include_str!("../../hark.toml")),
    (
        "queries/cloudflare.toml",
        include_str!("../../queries/cloudflare.toml"),
    ),
    (
        "queries/fastly.toml",
        include_str!("../../queries/fastly.toml"),
    ),
    (
        "alerts/cloudflare-negative-spike.toml",
        include_str!("../../alerts/cloudflare-negative-spike.toml"),
    ),
    (
        "alerts/cloudflare-outage-keywords.toml",
        include_str!("../../alerts/cloudflare-outage-keywords.toml"),
    ),
];

pub fn run(a: &InitArgs) -> anyhow::Result<()> {
    if !a.force
        && let Some((f, _)) = FILES.iter().find(|(f, _)| a.dir.join(f).exists())
    {
        return Err(usage(format!(
            "{} already exists (use --force to overwrite)",
            a.dir.join(f).display()
        )));
    }
    for (f, text) in FILES {
        let path = a.dir.join(f);
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        std::fs::write(&path, text)?;
        println!("{}", path.display());
    }
    eprintln!(
        "Edit hark.toml and queries/, then run `hark --config {} run`.",
        a.dir.join("hark.toml").display()
    );
    Ok(())
}
