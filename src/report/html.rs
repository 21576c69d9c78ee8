//! The page itself: head with the inline CSS, one section per run (its summary, then its
//! hosts grouped by outcome), the kernel matrix ([`kernels::table`]), and the inline JS
//! for the filter box.
//!
//! Everything that came from a run goes through [`escape::push`]; nothing from a run is
//! put inside the `<script>` or `<style>` elements, so no host content can close them.

use std::fmt::Write;

use super::escape::{self, push as esc};
use super::group::{Group, groups};
use super::input::{Change, HostLine, Run, Status};
use super::{Report, kernels};

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

/// Nothing may be fetched: no server, no CDN, no fonts. Only the inline style and script.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// How many host names a group's heading lists before "and N more".
const NAMED: usize = 8;

/// The whole document.
pub fn page(report: &Report) -> String {
    let runs = report.runs();
    let hosts: usize = runs.iter().map(|r| r.hosts.len()).sum();
    let mut out = String::with_capacity(4096 + hosts * 512);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <title>vmup report: {} run(s), {hosts} host line(s)</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        runs.len()
    );
    header(&mut out, runs);
    out.push_str("<main>\n");
    for (i, run) in runs.iter().enumerate() {
        section(&mut out, i + 1, run);
    }
    kernels::table(&mut out, &kernels::matrix(runs));
    let _ = write!(out, "</main>\n<script>\n{JS}</script>\n</body>\n</html>\n");
    out
}

fn header(out: &mut String, runs: &[Run]) {
    out.push_str("<header>\n<h1>vmup report</h1>\n<p>");
    let _ = write!(out, "{} run(s) from ", runs.len());
    let mut sources: Vec<&str> = runs.iter().map(|r| r.source.as_str()).collect();
    sources.dedup();
    for (i, source) in sources.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("<code>");
        esc(out, source);
        out.push_str("</code>");
    }
    out.push_str(
        ".</p>\n<form class=\"tools\" role=\"search\" onsubmit=\"return false\">\n\
         <label for=\"filter\">Filter hosts</label>\n\
         <input id=\"filter\" type=\"search\" autocomplete=\"off\" \
         placeholder=\"host name or status\" aria-describedby=\"filter-help\">\n\
         <button type=\"button\" id=\"open-all\">Expand all</button>\n\
         <button type=\"button\" id=\"close-all\">Collapse all</button>\n\
         <span id=\"filter-help\">a part of a host name, or a status (failed, changed, ok, ...)</span>\n\
         </form>\n<p id=\"js-status\" role=\"status\" aria-live=\"polite\"></p>\n\
         <noscript><p>The filter needs JavaScript; everything else is shown without it.</p></noscript>\n\
         </header>\n",
    );
}

/// What ran, guessed from the lines when the summary does not say.
fn command(run: &Run) -> &str {
    if let Some(c) = &run.summary.command {
        return c;
    }
    let any = |f: &dyn Fn(&HostLine) -> bool| run.hosts.iter().any(f);
    if any(&|h| {
        h.kernels.is_some()
            && h.verdict.as_deref() != Some("OK")
            && h.verdict.as_deref() != Some("Not OK")
    }) {
        "kernels"
    } else if any(&|h| {
        h.status == Status::NotOk || matches!(h.verdict.as_deref(), Some("OK" | "Not OK"))
    }) {
        "check"
    } else if any(&|h| matches!(h.phase.as_deref(), Some("apply" | "verify"))) {
        "apply"
    } else {
        "run"
    }
}

fn section(out: &mut String, n: usize, run: &Run) {
    let s = &run.summary;
    let _ = write!(
        out,
        "<section class=\"run\" id=\"run-{n}\" data-run=\"{n}\" aria-labelledby=\"run-{n}-h\">\n\
         <h2 id=\"run-{n}-h\">Run {n}: {} from <code>",
        escape::text(command(run))
    );
    esc(out, &run.source);
    let _ = write!(
        out,
        "</code></h2>\n<p class=\"meta\">{} host(s), {} change(s)",
        s.hosts, s.changes
    );
    if let Some(e) = s.elapsed {
        let _ = write!(out, ", {e:.2} s");
    }
    if let Some(started) = &s.started {
        out.push_str(", started ");
        esc(out, started);
    }
    if s.interrupted {
        out.push_str(", <strong>interrupted</strong>");
    }
    out.push_str("</p>\n");
    if run.hosts.len() != s.hosts {
        let _ = writeln!(
            out,
            "<p class=\"warning\">The summary line counts {} host(s) but the run has {} host line(s).</p>",
            s.hosts,
            run.hosts.len()
        );
    }
    let _ = write!(
        out,
        "<table class=\"summary\" data-run=\"{n}\">\n<caption>Hosts per status: as the summary line has them, and as shown below</caption>\n\
         <thead><tr><th scope=\"col\">status</th><th scope=\"col\">summary</th><th scope=\"col\">shown</th></tr></thead>\n<tbody>\n"
    );
    for status in Status::ALL {
        let w = status.as_str();
        let _ = writeln!(
            out,
            "<tr class=\"st-{w}\"><th scope=\"row\">{w}</th><td class=\"summary-count\" data-status=\"{w}\">{}</td><td class=\"shown\" data-status=\"{w}\"></td></tr>",
            s.count(status)
        );
    }
    let _ = write!(
        out,
        "<tr class=\"total\"><th scope=\"row\">hosts</th><td class=\"summary-count\" data-status=\"hosts\">{}</td><td class=\"shown\" data-status=\"hosts\"></td></tr>\n</tbody>\n</table>\n<div class=\"groups\">\n",
        s.hosts
    );
    for group in groups(&run.hosts) {
        group_details(out, &group);
    }
    out.push_str("</div>\n</section>\n");
}

fn group_details(out: &mut String, group: &Group<'_>) {
    let first = group.first;
    let w = first.status.as_str();
    let count = group.hosts.len();
    let _ = write!(
        out,
        "<details class=\"group st-{w}\" data-status=\"{w}\">\n<summary><span class=\"badge\">{w}</span> \
         <span class=\"n-shown\">{count}</span> host(s): "
    );
    for (i, host) in group.hosts.iter().take(NAMED).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        esc(out, &host.host);
    }
    if count > NAMED {
        let _ = write!(out, ", ... and {} more", count - NAMED);
    }
    let each = if count > 1 { " each" } else { "" };
    let _ = write!(
        out,
        " <span class=\"what\">({} change(s){each}",
        first.changes.len()
    );
    if first.error.is_some() {
        out.push_str(", error");
    }
    if !first.warnings.is_empty() {
        let _ = write!(out, ", {} warning(s)", first.warnings.len());
    }
    if let Some(method) = &first.become_method {
        out.push_str(", as root via ");
        esc(out, method);
    }
    out.push_str(")</span></summary>\n<div class=\"body\">\n<ul class=\"hosts\">\n");
    for host in &group.hosts {
        out.push_str("<li class=\"host\" data-host=\"");
        esc(out, &host.host);
        let _ = write!(out, "\" data-status=\"{w}\">");
        esc(out, &host.host);
        if let Some(e) = host.elapsed {
            let _ = write!(out, " <span class=\"time\">{e:.2} s</span>");
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
    if let Some(error) = &first.error {
        out.push_str("<p class=\"error\"><strong>error</strong>");
        if let Some(phase) = &first.phase {
            out.push_str(" (");
            esc(out, phase);
            out.push_str(" phase)");
        }
        out.push_str(": ");
        esc(out, error);
        out.push_str("</p>\n");
    }
    if !first.warnings.is_empty() {
        out.push_str("<p class=\"warnings-head\"><strong>warning(s)</strong></p>\n");
        items(out, "warnings", &first.warnings);
    }
    for change in &first.changes {
        change_block(out, change);
    }
    if !first.notes.is_empty() {
        let _ = write!(
            out,
            "<details class=\"notes\"><summary>{} note(s) of ",
            first.notes.len()
        );
        esc(out, &first.host);
        out.push_str("</summary>\n");
        items(out, "notes", &first.notes);
        out.push_str("</details>\n");
    }
    out.push_str("</div>\n</details>\n");
}

/// `<ul class="CLASS">` of `items`, each escaped.
fn items(out: &mut String, class: &str, items: &[String]) {
    let _ = writeln!(out, "<ul class=\"{class}\">");
    for item in items {
        out.push_str("<li>");
        esc(out, item);
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}

fn change_block(out: &mut String, change: &Change) {
    out.push_str("<div class=\"change\">\n<h3>");
    esc(out, &change.step);
    out.push_str(" <span class=\"resource\">");
    esc(out, &change.resource);
    out.push_str("</span>");
    if let Some(path) = &change.path {
        out.push_str(" <code>");
        esc(out, path);
        out.push_str("</code>");
    }
    out.push_str("</h3>\n<p>");
    esc(out, &change.summary);
    out.push_str("</p>\n");
    if let Some(diff) = &change.diff {
        out.push_str("<pre class=\"diff\">");
        for line in diff.lines() {
            let class = if line.starts_with("+++") || line.starts_with("---") {
                "hdr"
            } else if line.starts_with("@@") {
                "hunk"
            } else if line.starts_with('+') {
                "add"
            } else if line.starts_with('-') {
                "del"
            } else {
                "ctx"
            };
            let _ = write!(out, "<span class=\"{class}\">");
            esc(out, line);
            out.push_str("</span>\n");
        }
        out.push_str("</pre>\n");
    }
    if let Some(output) = &change.output {
        out.push_str("<p class=\"output-head\">output</p>\n<pre class=\"output\">");
        esc(out, output);
        out.push_str("</pre>\n");
    }
    out.push_str("</div>\n");
}

#[cfg(test)]
mod tests {
    use super::super::{Report, input};

    fn page(lines: &str) -> String {
        let mut report = Report::new();
        for run in input::parse("run.jsonl", lines).unwrap() {
            report.add_run(&run.source, run.hosts, run.summary);
        }
        report.html()
    }

    #[test]
    fn output_errors_warnings_and_notes_are_escaped_text() {
        let html = page(concat!(
            r#"{"host":"<h>","phase":"apply","status":"failed","changes":[{"step":"s","resource":"command","path":null,"summary":"run <x>","diff":null,"output":"</pre><script>alert(1)</script>"}],"#,
            r#""warnings":["<i>w</i>"],"notes":["<u>n</u>"],"error":"</details>bad","become":"sudo"}"#,
            "\n",
            r#"{"summary":{"hosts":1,"failed":1,"changes":1}}"#,
            "\n"
        ));
        assert!(html.contains(
            "<pre class=\"output\">&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;</pre>"
        ));
        assert!(html.contains("(apply phase): &lt;/details&gt;bad"));
        assert!(html.contains("<li>&lt;i&gt;w&lt;/i&gt;</li>"));
        assert!(html.contains("<li>&lt;u&gt;n&lt;/u&gt;</li>"));
        assert!(html.contains("data-host=\"&lt;h&gt;\""));
        assert!(html.contains("as root via sudo"));
        assert_eq!(html.matches("<script").count(), 1, "only the page's own");
    }

    #[test]
    fn a_thousand_hosts_with_distinct_errors_build_in_linear_time() {
        let mut lines = String::new();
        for i in 0..1000 {
            lines.push_str(&format!(
                "{{\"host\":\"g{i}\",\"status\":\"failed\",\"error\":\"error {i}\"}}\n"
            ));
        }
        lines.push_str("{\"summary\":{\"hosts\":1000,\"failed\":1000}}\n");
        let start = std::time::Instant::now();
        let html = page(&lines);
        assert_eq!(html.matches("<details class=\"group").count(), 1000);
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
