//! `vmup report FILE... --html OUT`: the `--json` output of runs as one HTML page a person
//! can open (no server, nothing fetched).

use std::io::Read;
use std::path::Path;

use vmup::report::{Report, input};

use super::args::ReportArgs;
use super::error::CliError;
use super::exit::Exit;

/// What to do about a file that is not vmup's JSON lines.
const HINT: &str = "give the standard output of `vmup apply --json` (or plan, check, kernels, \
                    recreate), saved whole: `vmup apply -i INVENTORY RUNBOOK --json > run.jsonl`";

/// Reads every FILE (`-`: standard input), merges their runs into one page and writes it
/// to OUT (`-`: standard output). Exit 0 once the page is written, whatever the runs'
/// outcomes; 2 when a FILE is not vmup JSON lines (nothing is written then).
pub fn run(args: ReportArgs) -> Result<Exit, CliError> {
    let mut report = Report::new();
    for file in &args.files {
        let (name, text) = read(file)?;
        let runs = input::parse(&name, &text).map_err(|e| CliError::input(e).hint(HINT))?;
        for run in runs {
            report.add_run(&run.source, run.hosts, run.summary);
        }
    }
    let page = report.html();
    if args.html == Path::new("-") {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(page.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| CliError::failed(format!("cannot write the page: {e}")))?;
    } else {
        std::fs::write(&args.html, page)
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", args.html.display())))?;
    }
    Ok(Exit::Success)
}

/// The file's name as messages show it, and its text.
fn read(file: &Path) -> Result<(String, String), CliError> {
    let mut bytes = Vec::new();
    let (name, result) = if file == Path::new("-") {
        (
            "-".to_string(),
            std::io::stdin().lock().read_to_end(&mut bytes),
        )
    } else {
        let name = file.display().to_string();
        (
            name,
            std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes)),
        )
    };
    result.map_err(|e| CliError::input(format!("cannot read {name}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::input(format!(
            "{name}: not text (invalid UTF-8 at byte {})",
            e.utf8_error().valid_up_to()
        ))
        .hint(HINT)
    })?;
    Ok((name, text))
}
