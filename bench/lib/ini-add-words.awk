# ini-add-words.awk: add the missing WORDS (space-separated) to KEY in [SEC],
# at the end of the key's last value; a missing key goes after the last key
# of the section, a missing section at the end of the file. Reads the file
# twice:  awk -v sec=S -v key=K -v words="W..." -f ini-add-words.awk F F
# (the same program as inline in plain/update.sh; used by pyinfra/deploy.py)
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
NR == FNR {
    l = trim($0); lines = FNR; prev_blank = (l == "")
    if (l ~ /^\[[^]]*\]$/) { insec = (substr(l, 2, length(l) - 2) == sec); if (insec) hdr = FNR; next }
    if (insec && l ~ /^[^#;=[][^=]*=/) {
        last = FNR; k = l; sub(/[ \t]*=.*/, "", k)
        if (k == key) { target = FNR; val = l; sub(/^[^=]*=/, "", val); val = trim(val) }
    }
    next
}
FNR == 1 {
    nh = split(val, have, /[ \t]+/); for (i = 1; i <= nh; i++) got[have[i]] = 1
    nw = split(words, want, / /); add = ""
    for (i = 1; i <= nw; i++) if (!(want[i] in got)) { got[want[i]] = 1; add = add (add == "" ? "" : " ") want[i] }
}
add != "" && FNR == target {
    cr = sub(/\r$/, ""); sub(/[ \t]+$/, "")
    $0 = $0 (val == "" ? "" : " ") add (cr ? "\r" : "")
}
{ print }
add != "" && !target && hdr && FNR == (last ? last : hdr) { print key "=" add }
END {
    if (add == "" || hdr) exit
    if (lines && !prev_blank) print ""
    print "[" sec "]"; print key "=" add
}
