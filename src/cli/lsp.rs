//! `cdl lsp`: the language server, speaking LSP on standard input and output.

#[derive(clap::Args)]
#[command(
    about = "Run the language server on standard input and output (for editors)",
    after_help = "Editors start it themselves; see docs/editors.md. Diagnostics, hover, go to \
definition, references, completion, document symbols, formatting and rename.\n\nExample:\n  \
cdl lsp    # what an editor runs; the VS Code extension is in editors/vscode"
)]
pub struct Args {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long)]
    stdio: bool,
}

pub fn run(_args: Args) -> u8 {
    match cdl::lsp::serve_stdio() {
        Ok(()) => super::SUCCESS,
        Err(err) => {
            eprintln!("error: cdl lsp: {err}");
            super::FAILURE
        }
    }
}
