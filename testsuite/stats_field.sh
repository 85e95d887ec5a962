# testsuite/stats_field.sh — sourced by test scripts that read `-d stats`
# (frontend/trace.c prints its lines at exit).
#
# field FILE WORDS: the number just before WORDS on a "stats:" line of
# FILE ("instructions retired", "page walks", "runs copied", ...).
field() { sed -n "s/^stats: .*\\b\\([0-9][0-9]*\\) $2.*/\\1/p; s/^stats: \\([0-9][0-9]*\\) $2.*/\\1/p" "$1" | head -n 1; }
