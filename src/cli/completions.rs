//! `cdl completions SHELL` and `cdl manpage`: generated from the command definitions.

#[derive(clap::Args)]
#[command(
    about = "Print a shell completion script",
    after_help = "Examples:\n  cdl completions bash > /etc/bash_completion.d/cdl\n  cdl completions zsh > \"${fpath[1]}/_cdl\"\n  cdl completions fish > ~/.config/fish/completions/cdl.fish"
)]
pub struct Args {
    shell: clap_complete::Shell,
}

#[derive(clap::Args)]
#[command(
    about = "Print the man page (roff)",
    after_help = "Example:\n  cdl manpage > /usr/local/share/man/man1/cdl.1"
)]
pub struct ManArgs {}

pub fn completions(args: Args) -> u8 {
    let mut command = <super::Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "cdl", &mut out);
    super::output(&String::from_utf8_lossy(&out));
    super::SUCCESS
}

pub fn manpage(_: ManArgs) -> u8 {
    let command = <super::Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(command).render(&mut out) {
        eprintln!("error: {e}");
        return super::USAGE;
    }
    super::output(&String::from_utf8_lossy(&out));
    super::SUCCESS
}
