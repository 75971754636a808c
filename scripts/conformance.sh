#!/usr/bin/env bash
# Renders every case of the Helm chart corpus with `rudder template` and compares the output
# with Helm 4.2.3's (see tests/helm_corpus.rs), then installs a corpus chart into the sandbox
# end to end (tests/helm_corpus_install.rs). Corpus: $RUDDER_CORPUS or ../shared/corpus.
# Filter rendered cases with RUDDER_CONFORMANCE_FILTER=CHART[/CASE].
set -euo pipefail
cd "$(dirname "$0")/.."
export RUDDER_CORPUS="${RUDDER_CORPUS:-$(cd .. && pwd)/shared/corpus}"
cargo test --quiet --test helm_corpus -- --ignored --nocapture helm_corpus_conformance
exec cargo test --quiet --test helm_corpus_install -- --ignored
