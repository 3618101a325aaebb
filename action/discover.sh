#!/usr/bin/env bash
# Runs `minpriv discover --wait --catalog … --check` for the action: the inputs come from
# MINPRIV_* variables, the proposal goes to a file, the step summary and the `proposal`
# output, and the step exits with minpriv's code. $MINPRIV names the binary (default:
# `minpriv` on the PATH).
set -euo pipefail

fail() { # message: a misconfigured action is a usage error, exit 2 as minpriv's own
    echo "::error::minpriv: $1"
    exit 2
}

minpriv=${MINPRIV:-minpriv}
out="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
proposal="$out/minpriv-proposal.md"
report="$out/minpriv-report.json"
summary="$out/minpriv-summary.txt"
: "${GITHUB_OUTPUT:?}" "${GITHUB_STEP_SUMMARY:?}"
[ -n "${MINPRIV_CATALOG:-}" ] || fail "the catalog input is required"
[ -n "${MINPRIV_PRINCIPAL:-}" ] || fail "the principal input is required"

args=(discover --catalog "$MINPRIV_CATALOG" --check --report "$report")
[ -n "${MINPRIV_TRAIL_BUCKET:-}" ] && args+=(--trail-bucket "$MINPRIV_TRAIL_BUCKET")
read -r -d '' -a principals <<< "$MINPRIV_PRINCIPAL" || true
for principal in "${principals[@]}"; do args+=(--principal "$principal"); done
read -r -d '' -a sessions <<< "${MINPRIV_SESSION:-}" || true
for session in "${sessions[@]}"; do args+=(--session "$session"); done

since=${MINPRIV_SINCE:-}
if [ -z "$since" ]; then
    # The start of this run attempt: the job cannot have called AWS before it.
    since=$(gh api "repos/${GITHUB_REPOSITORY:?}/actions/runs/${GITHUB_RUN_ID:?}/attempts/${GITHUB_RUN_ATTEMPT:-1}" \
        --jq .run_started_at) && [ -n "$since" ] ||
        fail "since is empty and the run's start time could not be read from the GitHub API (give since, or permissions: actions: read)"
fi
args+=(--since "$since")
[ -n "${MINPRIV_UNTIL:-}" ] && args+=(--until "$MINPRIV_UNTIL")

case "${MINPRIV_WAIT:-true}" in
    true | "") args+=(--wait) ;;
    false) ;;
    *) args+=("--wait=$MINPRIV_WAIT") ;;
esac
read -r -d '' -a extra <<< "${MINPRIV_ARGS:-}" || true
args+=("${extra[@]}")

echo "minpriv ${args[*]}"
# stdout (the proposal) to its file; stderr (progress, summary) to the log as it comes and to
# a file for the step summary. A pipeline waits for its tee, so that file is complete.
set +e
{ "$minpriv" "${args[@]}" 2>&1 >&3 3>&- | tee "$summary" >&2; } 3> "$proposal"
status=${PIPESTATUS[0]}
set -e
cat "$proposal"

case $status in
    0) verdict="the catalog covers this run" ;;
    3) verdict="drift: the catalog needs the update below" ;;
    7) verdict="the trail was not delivered in time: nothing was read" ;;
    *) verdict="failed (exit $status)" ;;
esac
{
    echo "## minpriv: $verdict"
    echo
    cat "$proposal"
    echo
    echo "<details><summary>run summary</summary>"
    echo
    echo '```'
    cat "$summary"
    echo '```'
    echo
    echo "</details>"
} >> "$GITHUB_STEP_SUMMARY"
{
    echo "proposal=$proposal"
    echo "report=$report"
    echo "exit-code=$status"
} >> "$GITHUB_OUTPUT"
exit "$status"
