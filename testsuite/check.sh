# testsuite/check.sh — sourced by the scripted debugger sessions in
# cli/: one PASS/FAIL line per expected line of output.
#
# check NAME FILE TEXT: PASS when FILE has a line containing TEXT, else
# FAIL with the start of FILE to see why.
# check_count NAME FILE TEXT COUNT: PASS when exactly COUNT lines do.
check() {
    if grep -qF -- "$3" "$2"; then
        echo "PASS $1"
    else
        echo "FAIL $1: no line with '$3'"
        sed 's/^/    | /' "$2" | head -30
    fi
}
check_count() {
    local n
    n=$(grep -cF -- "$3" "$2")
    if [ "$n" = "$4" ]; then
        echo "PASS $1"
    else
        echo "FAIL $1: $n lines with '$3', expected $4"
    fi
}
