//! The cdl extension for Zed: runs `cdl lsp` with the `cdl` found on the worktree's `PATH`.

use zed_extension_api as zed;

struct Cdl;

impl zed::Extension for Cdl {
    fn new() -> Self {
        Cdl
    }

    fn language_server_command(
        &mut self,
        _language_server_id: &zed::LanguageServerId,
        worktree: &zed::Worktree,
    ) -> zed::Result<zed::Command> {
        let command = worktree.which("cdl").ok_or_else(|| {
            "cdl is not on PATH: install cdl (cargo install --path . in the cdl repository)"
                .to_string()
        })?;
        Ok(zed::Command {
            command,
            args: vec!["lsp".to_string()],
            env: worktree.shell_env(),
        })
    }
}

zed::register_extension!(Cdl);
