# Sourced by the bench scripts: the summary every figure gets.
# stats DIGITS values... -> "median min max", each with DIGITS decimals.
stats() {
    local digits=$1; shift
    printf '%s\n' "$@" | sort -g | awk -v d="$digits" '{v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; f = "%." d "f"; printf f " " f " " f, m, v[1], v[NR]}'
}
