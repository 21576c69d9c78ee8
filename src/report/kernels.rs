//! The kernel matrix: per guest, the kernels installed, the one its host boots and the
//! running one, from the `kernels` and `check` lines of the runs given, and its table.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::escape::push as esc;
use super::input::{GuestKernels, Run};

/// One row per guest, by name; where several runs report a guest, the last one given
/// wins (a `kernels` run saved after the apply shows the state after it).
pub fn matrix(runs: &[Run]) -> Vec<&GuestKernels> {
    let mut rows: BTreeMap<&str, &GuestKernels> = BTreeMap::new();
    for run in runs {
        for host in &run.hosts {
            if let Some(k) = &host.kernels {
                rows.insert(&k.guest, k);
            }
        }
    }
    rows.into_values().collect()
}

/// The matrix as an HTML table (nothing when no run had kernels), every value escaped;
/// rows carry `data-host` so the page's filter box finds them.
pub fn table(out: &mut String, rows: &[&GuestKernels]) {
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"kernels\" aria-labelledby=\"kernels-h\">\n<h2 id=\"kernels-h\">Kernels</h2>\n\
         <table class=\"kernels\">\n<caption>Per guest: installed kernels, the one its host boots, the running one, and the next boot</caption>\n\
         <thead><tr><th scope=\"col\">guest</th><th scope=\"col\">installed</th><th scope=\"col\">booted by its host</th>\
         <th scope=\"col\">running</th><th scope=\"col\">next boot</th></tr></thead>\n<tbody>\n",
    );
    for k in rows {
        let verdict = if k.ok { "ok" } else { "bad" };
        out.push_str("<tr class=\"kernel\" data-host=\"");
        esc(out, &k.guest);
        let _ = write!(out, "\" data-status=\"{verdict}\"><th scope=\"row\">");
        esc(out, &k.guest);
        out.push_str("</th><td class=\"installed\">");
        if k.no_rpm_database {
            out.push_str("<em>no rpm database</em>");
        }
        for (i, inst) in k.installed.iter().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            out.push_str("<span title=\"");
            esc(out, &inst.package);
            out.push_str("\">");
            esc(out, &inst.release);
            out.push_str("</span>");
            if !inst.modules {
                out.push_str(" <em>(no modules)</em>");
            }
        }
        out.push_str("</td><td class=\"booted\">");
        match (&k.booted, &k.booted_error) {
            (Some(b), _) => {
                esc(out, b.release.as_deref().unwrap_or("unknown release"));
                if let Some(host) = &b.host {
                    out.push_str(" <span class=\"via\">(");
                    esc(out, host);
                    out.push_str(")</span>");
                }
            }
            (None, Some(e)) => {
                out.push_str("<em>unknown: ");
                esc(out, e);
                out.push_str("</em>");
            }
            (None, None) => out.push_str("<em>unknown</em>"),
        }
        out.push_str("</td><td class=\"running\">");
        esc(out, k.running.as_deref().unwrap_or("unknown"));
        let _ = write!(out, "</td><td class=\"verdict {verdict}\">");
        esc(out, &k.verdict);
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}
