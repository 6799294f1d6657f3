//! What a run shows: on a terminal, a live view of running, waiting and finished jobs with
//! elapsed times; elsewhere, plain timestamped lines for CI logs. Job output is streamed with
//! the job's name in front, and a summary table ends the run.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::prompt::{self, Answer};
use super::record::{JobState, RunRecord, format_elapsed, format_time, now_ms};

pub struct View {
    live: Option<Live>,
    width: usize,
    /// Set when the terminal is gone (SIGHUP): nothing more is written.
    muted: bool,
}

struct Live {
    multi: MultiProgress,
    overview: ProgressBar,
    bars: HashMap<String, ProgressBar>,
}

impl View {
    /// A live view when stderr is a terminal, plain lines otherwise.
    pub fn new(record: &RunRecord) -> View {
        let target = std::io::stderr()
            .is_terminal()
            .then(ProgressDrawTarget::stderr);
        View::with_target(record, target)
    }

    /// A live view drawn to `target`, or plain lines when there is none.
    fn with_target(record: &RunRecord, target: Option<ProgressDrawTarget>) -> View {
        let width = record
            .plan
            .jobs
            .iter()
            .map(|j| j.id.chars().count())
            .max()
            .unwrap_or(4)
            .min(40);
        let live = target.map(|target| {
            let multi = MultiProgress::with_draw_target(target);
            let overview = multi.add(ProgressBar::new(record.plan.jobs.len() as u64));
            overview.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            overview.set_prefix(format!("run {}", record.id));
            Live {
                multi,
                overview,
                bars: HashMap::new(),
            }
        });
        View {
            live,
            width,
            muted: false,
        }
    }

    fn line(&self, text: &str) {
        if self.muted {
            return;
        }
        match &self.live {
            // Never `suspend`: it unwraps its draw, and a terminal closed under us (EIO)
            // would panic `cdl` before it records the cancel. A failed write is ignored.
            Some(live) => {
                let _ = live.multi.println(text);
            }
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{} {text}", clock());
            }
        }
    }

    pub fn output(&self, job: &str, text: &str) {
        self.line(&format!("{job:>w$} │ {text}", w = self.width));
    }

    pub fn note(&self, text: &str) {
        self.line(text);
    }

    pub fn started(&mut self, job: &str, attempt: u32) {
        let again = if attempt > 1 {
            format!(" (attempt {attempt})")
        } else {
            String::new()
        };
        match &mut self.live {
            Some(live) => {
                let bar = live.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                        .expect("valid template"),
                );
                bar.set_message(format!("{job}{again}"));
                bar.enable_steady_tick(Duration::from_millis(120));
                live.bars.insert(job.to_string(), bar);
            }
            None => self.line(&format!("▶ {job} started{again}")),
        }
    }

    pub fn finished(&mut self, job: &str, state: JobState, elapsed_ms: u64, reason: Option<&str>) {
        let mark = match state {
            JobState::Succeeded => "✔",
            JobState::Failed => "✘",
            JobState::Skipped => "⤼",
            _ => "■",
        };
        let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
        let text = if state == JobState::Skipped {
            format!("{mark} {job} skipped{why}")
        } else {
            format!(
                "{mark} {job} {} in {}{why}",
                state.as_str(),
                format_elapsed(elapsed_ms)
            )
        };
        if let Some(live) = &mut self.live {
            if let Some(bar) = live.bars.remove(job) {
                bar.finish_and_clear();
                live.multi.remove(&bar);
            }
            live.overview.inc(1);
        }
        self.line(&text);
    }

    /// The counts beside the overview bar.
    pub fn counts(&self, running: usize, waiting: usize) {
        if let Some(live) = &self.live {
            live.overview
                .set_message(format!("{running} running · {waiting} waiting"));
        }
    }

    /// Asks a yes/no question on the terminal, with the live view suspended.
    /// A gate's prompt ([`prompt::ask`]), with the live view suspended while it waits.
    pub fn ask(
        &self,
        question: &str,
        deadline_ms: Option<u64>,
        signal: &std::sync::atomic::AtomicUsize,
    ) -> Answer {
        let ask = || prompt::ask(question, deadline_ms, signal);
        match &self.live {
            // The bars are cleared and hidden while the prompt waits (not `suspend`, which
            // panics when the terminal is gone), and drawn again after.
            Some(live) => {
                let _ = live.multi.clear();
                live.multi.set_draw_target(ProgressDrawTarget::hidden());
                let answer = ask();
                if !self.muted && answer != Answer::Gone {
                    live.multi.set_draw_target(ProgressDrawTarget::stderr());
                }
                answer
            }
            None => ask(),
        }
    }

    /// Writes nothing more: the terminal was closed.
    pub fn mute(&mut self) {
        self.muted = true;
        if let Some(live) = &self.live {
            live.multi.set_draw_target(ProgressDrawTarget::hidden());
        }
    }

    pub fn close(&mut self) {
        if let Some(live) = self.live.take() {
            for bar in live.bars.values() {
                bar.finish_and_clear();
            }
            live.overview.finish_and_clear();
        }
    }
}

fn clock() -> String {
    let time = format_time(now_ms());
    time[11..19].to_string()
}

/// The table printed at the end of a run: job, result, attempts, duration.
pub fn summary(record: &RunRecord) -> String {
    let width = record
        .plan
        .jobs
        .iter()
        .map(|j| j.id.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut out = format!(
        "\n{:width$}  {:9}  {:8}  {}\n",
        "job", "result", "attempts", "duration"
    );
    for job in &record.plan.jobs {
        let r = record.job(&job.id);
        let duration = if r.attempts.is_empty() {
            "-".to_string()
        } else {
            format_elapsed(r.duration_ms())
        };
        out.push_str(&format!(
            "{:width$}  {:9}  {:8}  {}\n",
            job.id,
            r.state.as_str(),
            r.attempts.len(),
            duration
        ));
    }
    // v2 i14e: steps with native forms only, which `cdl run` does not run.
    for job in &record.plan.jobs {
        if record.job(&job.id).attempts.is_empty() {
            continue;
        }
        for step in job.step_blocks.iter().filter(|s| s.fallback().is_none()) {
            out.push_str(&format!(
                "step {} of {}: skipped ({})\n",
                step.name,
                job.id,
                crate::run::steps::NO_FALLBACK
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;

    /// A terminal that was closed (tmux kill-session): every write fails with EIO.
    #[derive(Debug)]
    struct Closed;

    fn eio() -> std::io::Result<()> {
        Err(std::io::Error::from_raw_os_error(libc::EIO))
    }

    impl TermLike for Closed {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            eio()
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            eio()
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            eio()
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            eio()
        }
        fn write_line(&self, _: &str) -> std::io::Result<()> {
            eio()
        }
        fn write_str(&self, _: &str) -> std::io::Result<()> {
            eio()
        }
        fn clear_line(&self) -> std::io::Result<()> {
            eio()
        }
        fn flush(&self) -> std::io::Result<()> {
            eio()
        }
    }

    /// The torture test's SIGHUP finding: the live view drawing to a terminal closed under it
    /// panicked `cdl` (indicatif's `suspend` unwraps its draw) before it journaled the cancel.
    #[test]
    fn a_live_view_on_a_closed_terminal_never_panics() {
        let text = "pipeline p { stage s { job a { run = \"true\" } job b { run = \"true\" } } }";
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let plan = crate::plan::build(&compilation).unwrap();
        let record = RunRecord::new(
            "r".into(),
            plan,
            "p.cdl".into(),
            ".".into(),
            &crate::plan::RunContext::default(),
            super::super::record::Selection {
                jobs: 1,
                fail_fast: false,
                only: None,
                approve: Vec::new(),
                auto_approve: false,
                identity: "me".into(),
            },
        );
        let target = ProgressDrawTarget::term_like(Box::new(Closed));
        let mut view = View::with_target(&record, Some(target));
        view.started("a", 1);
        view.output("a", "a line of output");
        view.note("a note");
        view.counts(1, 0);
        view.finished("a", JobState::Succeeded, 10, None);
        view.started("b", 2);
        view.finished("b", JobState::Failed, 10, Some("exited with 1"));
        view.mute();
        view.note("after the hang-up");
        view.close();
    }
}
