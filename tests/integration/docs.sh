# Man pages and completions: regenerated from the built binary they must equal the committed files
# (so they cannot drift from the options), every real option appears in each of them, the shells
# really complete commands, options and option values, and `make install`'s rules install them.
source "$(dirname "$0")/lib.sh"
src=$MTASTREAM_SOURCE_DIR
for tool in python3 zsh fish groff; do
  command -v "$tool" >/dev/null || fail "$tool not installed (scripts/install-test-deps.sh installs it)"
done

# 1. No drift: what `make docs` would write now equals what is committed.
expect_exit 0 "gen-docs.py runs on the built binary" -- python3 "$src/scripts/gen-docs.py" "$MTASTREAM" "$T/gen"
for dir in man completions; do
  if diff -r "$src/$dir" "$T/gen/$dir" >"$T/diff" 2>&1; then pass "$dir/ is up to date"; else
    fail "$dir/ differs from what the binary generates: run 'make docs' and commit"; head -30 "$T/diff" >&2; fi
done

# 2. The hidden option-tree command stays out of --help.
"$MTASTREAM" --help >"$T/help" 2>&1 || true
expect_not_contains "$T/help" "option-tree" "option-tree is hidden from --help"

# 3. Every option of every command in its man page and in each completion; values and commands complete.
"$MTASTREAM" option-tree >"$T/tree.json"
cat >"$T/check.py" <<'PY'
import json, os, re, subprocess, sys
tree = json.load(open(sys.argv[1])); src = sys.argv[2]; binary = sys.argv[3]
failures = 0
def ok(what): print("ok: " + what)
def bad(what):
    global failures; failures += 1; print("FAIL: " + what, file=sys.stderr)
def walk(c):
    yield c
    for s in c["commands"]: yield from walk(s)
def spelled(o): return ["-" + s for s in o["short"]] + ["--" + l for l in o["long"]]
def roff(s): return s.replace("-", "\\-")
zsh_text = open(os.path.join(src, "completions/_mtastream")).read()
def bash_complete(words):
    script = ('source "%s/completions/mtastream.bash"; COMP_WORDS=(%s); COMP_CWORD=%d; _mtastream; '
              'printf "%%s\\n" "${COMPREPLY[@]}"') % (src, " ".join("'%s'" % w for w in words), len(words) - 1)
    return set(subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, text=True).stdout.split())
def fish_complete(line):
    out = subprocess.run(["fish", "--no-config", "-c", 'source "%s/completions/mtastream.fish"; complete -C %s'
                          % (src, "'" + line.replace("'", "\\'") + "'")], stdout=subprocess.PIPE, text=True).stdout
    return {l.split("\t")[0] for l in out.splitlines()}
checked = 0
for c in walk(tree):
    words = c["path"].split(".") if c["path"] else []
    page = os.path.join(src, "man", "mtastream%s.1" % ("-" + words[0] if words else ""))
    if words and words[0] in ("help", "version"):
        page = os.path.join(src, "man", "mtastream.1")
    man = open(page).read() if os.path.exists(page) else ""
    if not man: bad("no man page %s for '%s'" % (page, c["path"]))
    if words and words[0] not in ("help", "version") and c["name"] not in man: bad("%s does not mention '%s'" % (page, c["name"]))
    bash_opts = bash_complete(["mtastream"] + words + ["-"])
    fish_opts = fish_complete(" ".join(["mtastream"] + words + ["-"]))
    for o in c["options"]:
        for n in spelled(o):
            checked += 1
            if "\\fB%s\\fR" % roff(n) not in man: bad("%s: %s missing from %s" % (c["path"] or "mtastream", n, page))
            if n not in bash_opts: bad("%s: bash does not complete %s" % (c["path"] or "mtastream", n))
            if n.startswith("--") and n not in fish_opts and "-" + n.lstrip("-") not in fish_opts:
                bad("%s: fish does not complete %s" % (c["path"] or "mtastream", n))
            if n not in zsh_text: bad("%s: %s missing from completions/_mtastream" % (c["path"] or "mtastream", n))
        type_words = [w for w in o["type"].split("|") if re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", w)]
        values = o["allowed"] or (type_words if "|" in o["type"] and len(type_words) >= 2 else [])
        if values:
            n = spelled(o)[-1]
            want = set(values)
            got = bash_complete(["mtastream"] + words + [n, ""])
            if got != want: bad("%s %s: bash completes %s, expected %s" % (c["path"], n, sorted(got), sorted(want)))
            got = fish_complete(" ".join(["mtastream"] + words + [n, ""]))
            if got != want: bad("%s %s: fish completes %s, expected %s" % (c["path"], n, sorted(got), sorted(want)))
            for v in want:
                if v not in zsh_text: bad("%s %s: value %s missing from completions/_mtastream" % (c["path"], n, v))
        if o["env"] and o["env"].replace("_", "\\_") not in man and roff(o["env"]) not in man:
            bad("%s: environment variable %s missing from %s" % (c["path"], o["env"], page))
    subs = {s["name"] for s in c["commands"]}
    if subs:
        got = bash_complete(["mtastream"] + words + [""])
        if got != subs: bad("%s: bash completes %s, expected commands %s" % (c["path"] or "mtastream", sorted(got), sorted(subs)))
        got = fish_complete(" ".join(["mtastream"] + words + [""]))
        if got != subs: bad("%s: fish completes %s, expected commands %s" % (c["path"] or "mtastream", sorted(got), sorted(subs)))
    # --help has examples (set_examples in src/commands/command.h) for every command but the root and help.
    if words and words[0] not in ("help", "version"):
        h = subprocess.run([binary] + words + ["--help"], stdout=subprocess.PIPE, text=True).stdout
        if "Examples:\n  mtastream" not in h: bad("'mtastream %s --help' has no examples" % " ".join(words))
        if subprocess.run([binary, "help"] + words, stdout=subprocess.PIPE, text=True).stdout != h:
            bad("'mtastream help %s' differs from --help" % " ".join(words))
got = bash_complete(["mtastream", "help", ""])
want = {s["name"] for s in tree["commands"] if s["name"] not in ("help", "version")}
if got != want: bad("help: bash completes %s, expected the commands %s" % (sorted(got), sorted(want)))
print("ok: %d option spellings checked in the man pages and the bash, zsh and fish completions" % checked)
sys.exit(1 if failures else 0)
PY
expect_exit 0 "every option in man pages and completions; commands and values complete" -- \
  python3 "$T/check.py" "$T/tree.json" "$src" "$MTASTREAM"
cat "$T/out"; sed 's/^/  /' "$T/err" | head -40 >&2

# 4. The man pages render without warnings (but long example lines may stick out).
for page in "$src"/man/*.1; do
  groff -man -ww -Wbreak -z "$page" >"$T/groff" 2>&1 || true
  expect_empty "$T/groff" "$(basename "$page") renders cleanly"
done

# 5. zsh: syntax, and a real completion through a pseudo-terminal (zpty).
expect_exit 0 "zsh parses completions/_mtastream" -- zsh -n "$src/completions/_mtastream"
# comptest.zsh FPATH LINE EXPECTED: types LINE and TAB into an interactive zsh, waits for EXPECTED on
# the screen (zsh skips a listing while keys are pending, so nothing else is typed before it shows).
cat >"$T/comptest.zsh" <<'ZSH'
zmodload zsh/zpty
setopt extendedglob
zpty z zsh -f -i
zpty -w z "PS1='%% '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; LISTMAX=10000"
zpty -w -n z "$2"$'\t'
out="" n=0 found=1
while (( n++ < 2400 )); do  # a guard against a hang only (2 minutes); the list shows in well under a second
  zpty -r -t z chunk && out+=$chunk || sleep 0.05
  if [[ ${out//$'\e'\[[0-9;?]#[a-zA-Z]/} == *"$3"* ]]; then found=0; break; fi
done
print -r -- "$out" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g'
zpty -d z
exit $found
ZSH
expect_exit 0 "zsh completes 'mtastream pro' to produce" -- \
  zsh "$T/comptest.zsh" "$src/completions" "mtastream pro" "mtastream produce"
expect_exit 0 "zsh lists topic's subcommands with descriptions" -- \
  zsh "$T/comptest.zsh" "$src/completions" "mtastream topic " "describe  -- "
expect_exit 0 "zsh completes an option's values" -- \
  zsh "$T/comptest.zsh" "$src/completions" "mtastream produce --key " "turnstile"

# 6. `make install` puts the binary, the man pages and the completions where tools look for them.
build_dir=$(dirname "$MTASTREAM")
expect_exit 0 "cmake --install into a prefix" -- cmake --install "$build_dir" --prefix "$T/prefix"
for f in bin/mtastream share/man/man1/mtastream.1 share/man/man1/mtastream-consume.1 \
         share/bash-completion/completions/mtastream share/zsh/vendor-completions/_mtastream \
         share/fish/vendor_completions.d/mtastream.fish; do
  if [ -f "$T/prefix/$f" ]; then pass "installed $f"; else fail "make install did not install $f"; fi
done
finish
