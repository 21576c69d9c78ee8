#!/usr/bin/env bash
# Writes the shell completions and manual pages made from vmup's argument definitions to
# doc/ (for packagers); the `docs` end-to-end test fails while they differ from what the
# binary prints, so run this after changing an argument or its help text.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
vmup="${CARGO_TARGET_DIR:-target}/debug/vmup"
mkdir -p doc/completions doc/man
"$vmup" completions bash > doc/completions/vmup.bash
"$vmup" completions zsh > doc/completions/_vmup
"$vmup" completions fish > doc/completions/vmup.fish
rm -f doc/man/*.1
"$vmup" man > doc/man/vmup.1
for sub in $("$vmup" man --list); do
  "$vmup" man "$sub" > "doc/man/vmup-$sub.1"
done
echo "doc/: $(ls doc/completions | wc -l) completion scripts, $(ls doc/man | wc -l) manual pages"
