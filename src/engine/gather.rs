//! Gathering facts from one machine: the facts script, run in one round trip and parsed.

use crate::facts::{
    FactKey, Facts, FactsError, facts_script, facts_script_one_by_one, parse_facts,
};
use crate::inventory::Host;
use crate::remote::frame::Boundary;
use crate::transport::{RemoteOutput, Transport};

use super::error::HostError;
use super::prepare::Job;
use super::work::{HostCtx, stderr_excerpt};

/// Runs the facts script for `keys` on the job's machine, counted by `ctx`.
pub fn gather(job: &Job<'_>, keys: &[FactKey], ctx: &HostCtx<'_>) -> Result<Facts, HostError> {
    gather_then(job, keys, ctx, false)
}

/// [`gather`]; with `hold`, the host's shell is left running for what follows (an apply;
/// see `Transport::run_held`), to be ended with `Transport::release` when nothing does.
pub fn gather_then(
    job: &Job<'_>,
    keys: &[FactKey],
    ctx: &HostCtx<'_>,
    hold: bool,
) -> Result<Facts, HostError> {
    let mut facts = read_again_if_changed(keys, &job.host.path_root(), |script| {
        ctx.remote_then(job, script, hold)
    })?;
    facts.cpus = facts.cpus.or(job.host.cpus);
    facts.booted = job.booted.clone();
    Ok(facts)
}

/// Runs the facts script for `keys` through `run` and parses what it printed. A file that
/// changed between the script's one `stat` and its one `cat` is read again, each path alone
/// and its bytes framed on their own, in one more round trip (rare: a file being written).
fn read_again_if_changed(
    keys: &[FactKey],
    root: &str,
    mut run: impl FnMut(&[u8]) -> Result<RemoteOutput, HostError>,
) -> Result<Facts, HostError> {
    let once = |run: &mut dyn FnMut(&[u8]) -> Result<RemoteOutput, HostError>, one_by_one: bool| {
        let boundary = Boundary::random();
        let script = if one_by_one {
            facts_script_one_by_one(keys, root, &boundary)
        } else {
            facts_script(keys, root, &boundary)
        }
        .map_err(|e| HostError::Script(e.to_string()))?;
        let output = run(&script)?;
        parse_output(keys, &boundary, &output)
    };
    match once(&mut run, false) {
        Err(HostError::Facts {
            error: FactsError::ChangedWhileRead { .. },
            ..
        }) => once(&mut run, true),
        read => read,
    }
}

/// The facts script for `keys` on the job's machine and the boundary its output is read
/// with: its own round trip ([`gather`]), or the tail of an apply script, so that a host
/// with changes costs two round trips, not three (see `engine::apply`).
pub fn facts_request(job: &Job<'_>, keys: &[FactKey]) -> Result<(Vec<u8>, Boundary), HostError> {
    let boundary = Boundary::random();
    let script = facts_script(keys, &job.host.path_root(), &boundary)
        .map_err(|e| HostError::Script(e.to_string()))?;
    Ok((script, boundary))
}

/// Reads the facts a [`facts_request`] script printed. Only records framed with
/// `boundary` are read, so output of another script before it (an apply) is ignored.
pub fn read_facts(
    job: &Job<'_>,
    keys: &[FactKey],
    boundary: &Boundary,
    output: &RemoteOutput,
) -> Result<Facts, HostError> {
    let mut facts = parse_output(keys, boundary, output)?;
    // A local tree cannot count its CPUs; the inventory may say what its domain gives it.
    facts.cpus = facts.cpus.or(job.host.cpus);
    facts.booted = job.booted.clone();
    Ok(facts)
}

/// The facts in `output`, or why they cannot be read, with the script's standard error.
fn parse_output(
    keys: &[FactKey],
    boundary: &Boundary,
    output: &RemoteOutput,
) -> Result<Facts, HostError> {
    parse_facts(keys, boundary, &output.stdout).map_err(|error| HostError::Facts {
        error,
        detail: stderr_excerpt(output),
    })
}

/// Gathers `keys` from one machine in one round trip (two if a file changed while it was
/// read), outside of a fleet run (`vmup
/// facts`, the booted-kernel pre-phase on a parent host).
pub fn gather_facts(
    host: &Host,
    transport: &dyn Transport,
    keys: &[FactKey],
) -> Result<Facts, HostError> {
    let mut facts =
        read_again_if_changed(keys, &host.path_root(), |script| Ok(transport.run(script)?))?;
    facts.cpus = facts.cpus.or(host.cpus);
    Ok(facts)
}
