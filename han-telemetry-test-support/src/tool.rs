//! Finding a pinned program that a `scripts/install-*` script put under `target/tools/`
//! (Claude Code, Han), or that an environment variable names, and checking its version.
//! Without it a test fails with the reason and what to run; it never passes silently.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// A program the tests run, as it is installed.
pub(crate) struct Tool<'a> {
    /// What the messages call it: `Claude Code (claude)`.
    pub(crate) name: &'a str,
    /// The environment variable that names it instead.
    pub(crate) env: &'a str,
    /// Where the install script puts it, relative to `target/` (`tools/han/...`).
    pub(crate) under_target: &'a str,
    /// The first line of `--version`, exactly.
    pub(crate) version_line: &'a str,
    /// What to do about it: the install script and what it needs.
    pub(crate) hint: &'a str,
}

impl Tool<'_> {
    /// The program, checked; the reason and the hint when it is missing, cannot run, or is
    /// another version.
    pub(crate) fn locate(&self) -> Result<PathBuf, String> {
        let Tool {
            name, env, hint, ..
        } = self;
        let path = match env::var_os(env).filter(|p| !p.is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    return Err(format!("{env}={} is not a file.\n{hint}", path.display()));
                }
                path
            }
            None => {
                let candidates = self.candidates();
                match candidates.iter().find(|p| p.is_file()) {
                    Some(found) => found.clone(),
                    None => {
                        let looked: Vec<String> = candidates
                            .iter()
                            .map(|p| format!("  {}", p.display()))
                            .collect();
                        return Err(format!(
                            "{name} not found. Looked in:\n{}\n{hint}",
                            looked.join("\n")
                        ));
                    }
                }
            }
        };
        let output = Command::new(&path)
            .arg("--version")
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .output()
            .map_err(|e| format!("cannot run {}: {e}\n{hint}", path.display()))?;
        let version = String::from_utf8_lossy(&output.stdout);
        let first = version.lines().next().unwrap_or("").trim();
        if first != self.version_line {
            return Err(format!(
                "{} --version says {first:?} (stderr {:?}); these tests are written against \
                 {:?}.\n{hint}",
                path.display(),
                String::from_utf8_lossy(&output.stderr).trim(),
                self.version_line,
            ));
        }
        Ok(path)
    }

    /// `$CARGO_TARGET_DIR/<under_target>`, then `target/<under_target>` in each ancestor of
    /// this crate and of the working directory.
    fn candidates(&self) -> Vec<PathBuf> {
        let mut candidates = Vec::new();
        if let Some(target) = env::var_os("CARGO_TARGET_DIR") {
            candidates.push(PathBuf::from(target).join(self.under_target));
        }
        let mut roots = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
        if let Ok(cwd) = env::current_dir() {
            roots.push(cwd);
        }
        for root in roots {
            for dir in root.ancestors() {
                let candidate = dir.join("target").join(self.under_target);
                if !candidates.contains(&candidate) {
                    candidates.push(candidate);
                }
            }
        }
        candidates
    }
}
