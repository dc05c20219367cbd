#!/usr/bin/env python3
"""Generates the man pages (man/) and shell completions (completions/) from the binary's own option tree.

usage: gen-docs.py BINARY [OUTDIR]     (OUTDIR defaults to the repository root)

The binary's hidden `option-tree` command prints every command, subcommand, option and positional as JSON
(src/config/option_tree.cpp); this script knows no option by name, so new options show up after `make docs`.
Output is deterministic (no dates), so a test can regenerate and compare with the committed files.
"""
import json
import os
import re
import subprocess
import sys

PROG = "mtastream"
# Commands documented in mtastream(1) only, without a page of their own.
PAGELESS = ("help", "version")

# Prose that is not in the option tree: how configuration and the environment work (see README.md).
FILES_TEXT = [
    ("./mtastream.toml", "read when neither --config nor MTASTREAM_CONFIG is given"),
    ("~/.config/mtastream/mtastream.toml", "read next (XDG_CONFIG_HOME is honoured)"),
    ("FILE.properties", "the original's librdkafka properties file, given with --config"),
]
ENV_GLOBAL = [
    ("MTASTREAM_BROKERS", "bootstrap servers, as -b/--brokers"),
    ("MTASTREAM_KAFKA_<PROPERTY>", "any librdkafka property, dots as underscores "
     "(MTASTREAM_KAFKA_SASL_PASSWORD sets sasl.password)"),
    ("MTASTREAM_<COMMAND>_<OPTION>", "any command option by its long name, '-' and subcommand separators as "
     "underscores (MTASTREAM_CONSUME_WINDOW=10m, MTASTREAM_TOPIC_CREATE_PARTITIONS=4); flags win"),
    ("MTASTREAM_CONFIG", "config file to read when --config is not given"),
    ("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
     "S3 credentials for s3:// targets (else AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile "
     "AWS_PROFILE)"),
    ("AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3",
     "S3 region and an S3-compatible endpoint"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "service-account key file for gs:// targets"),
]
CONFIG_TEXT = ("Layers, later wins: config file < environment < -X key=value < command-line flags. "
               "A .properties file holds librdkafka properties; a .toml file has a [kafka] table, a top-level "
               "brokers key and one table per command whose keys are the command's long options "
               "([consume] window = \"5m\", [topic.create] partitions = 4). Keys containing password, secret "
               "or sasl.jaas are printed as [redacted] everywhere.")


# ---------------------------------------------------------------- the tree

def load_tree(binary):
    out = subprocess.run([binary, "option-tree"], check=True, stdout=subprocess.PIPE,
                         env={k: v for k, v in os.environ.items() if not k.startswith("MTASTREAM_")}).stdout
    return json.loads(out)


def walk(command):
    yield command
    for sub in command["commands"]:
        yield from walk(sub)


def words(command):
    return command["path"].split(".") if command["path"] else []


def spelled(option):
    return ["-" + s for s in option["short"]] + ["--" + l for l in option["long"]]


def parse_footer(footer):
    """Splits a command's help footer into example lines and note lines."""
    examples, notes, in_examples, notes_break = [], [], False, False
    for line in footer.splitlines():
        if line.strip() == "Examples:":
            in_examples = True
            continue
        if in_examples and line.startswith((" ", "\t")):
            examples.append(line.strip())
        elif line.strip():
            # Consecutive note lines form one paragraph.
            if in_examples or not notes or notes_break:
                notes.append(line.strip())
            else:
                notes[-1] += " " + line.strip()
            in_examples = False
        notes_break = not line.strip()
    return examples, notes


def exit_codes(root):
    codes, inside = [], False
    for line in root["footer"].splitlines():
        if line.strip() == "Exit codes:":
            inside = True
            continue
        m = re.match(r"^\s+(\d+)\s+(.*)$", line)
        if inside and m:
            codes.append((m.group(1), m.group(2)))
        elif inside and line.strip():
            inside = False
    return codes


def inherited(root, command):
    """Root options also accepted after a command's name (CLI11 fallthrough), minus those the command
    spells itself (its own option wins) and --help/--version."""
    if command is root:
        return []
    own = {n for o in command["options"] for n in spelled(o)}
    return [o for o in root["options"]
            if o["long"] not in (["help"], ["version"]) and not own.intersection(spelled(o))]


def allowed_values(option):
    """The values an option takes: from its IsMember/Transformer check, else from a type name that
    spells them out (`csv|json-string|json`)."""
    if option["allowed"]:
        return option["allowed"]
    return type_name_values(option["type"] or "")


def type_name_values(type_name):
    """The lowercase words of a `a|b|c` type name (`beginning|end|stored|N|-N`: the first three), when it
    spells at least two; placeholders such as N are left to the user."""
    words = [w for w in type_name.split("|") if re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", w)]
    return words if "|" in type_name and len(words) >= 2 else []


def value_kind(option):
    """What a value is, for completion: 'values', 'file', 'dir' or 'none' (free text)."""
    if allowed_values(option):
        return "values"
    t = option["type"].upper()
    if "DIR" in t:
        return "dir"
    if "FILE" in t or "PATH" in t:
        return "file"
    return "none"


# ---------------------------------------------------------------- man pages

def sentence(text):
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def man_option(option, lines):
    names = spelled(option) if option["short"] or option["long"] else [option["name"]]
    head = ", ".join("\\fB%s\\fR" % roff(n) for n in names)
    if option["takes_value"] and option["type"]:
        head += " \\fI%s\\fR" % roff(option["type"])
    if option["repeatable"] and option["takes_value"] and not option["type"].endswith("..."):
        head += " ..."
    lines += [".TP", head, roff(option["description"] or "")]
    extra = []
    if allowed_values(option):
        extra.append("One of: " + ", ".join("\\fB%s\\fR" % roff(v) for v in allowed_values(option)) + ".")
    for check in option["checks"]:
        extra.append("Check: %s." % roff(check))
    if option["default"]:
        extra.append("Default: \\fB%s\\fR." % roff(option["default"]))
    if option["required"]:
        extra.append("Required.")
    if option["repeatable"] and not option["takes_value"]:
        extra.append("Repeatable.")
    if option["env"]:
        extra.append("Environment: \\fB%s\\fR." % roff(option["env"]))
    if extra:
        lines += [".br", " ".join(extra)]


def man_synopsis(command, lines):
    w = words(command)
    parts = ["\\fB%s\\fR" % PROG]
    if w:
        parts += ["[\\fIGLOBAL OPTIONS\\fR]", "\\fB%s\\fR" % roff(" ".join(w))]
    parts.append("[\\fIOPTIONS\\fR]")
    if command["commands"]:
        parts.append("\\fICOMMAND\\fR" if command["requires_subcommand"] else "[\\fICOMMAND\\fR]")
    for p in command["positionals"]:
        label = p["type"] or p["name"].upper()
        name = "\\fI%s\\fR%s" % (roff(label), " ..." if p["repeatable"] and not label.endswith("...") else "")
        parts.append(name if p["required"] else "[%s]" % name)
    lines += [".PP", ".ad l", " ".join(parts), ".ad"]


def man_examples(examples, lines):
    if not examples:
        return
    lines += [".PP", ".nf", ".RS 4"]
    lines += [roff(e) for e in examples]
    lines += [".RE", ".fi"]


def man_command_body(command, lines, level):
    """Options, arguments (and for subcommands: synopsis, examples); subcommands follow as subsections."""
    examples, notes = parse_footer(command["footer"])
    if level > 0:
        lines += [".SS \"%s\"" % roff(" ".join([PROG] + words(command))), roff(command["description"])]
        man_synopsis(command, lines)
        for note in notes:
            lines += [".PP", roff(note)]
    if command["options"]:
        lines += [".SH OPTIONS"] if level == 0 else [".PP", "Options:"]
        for o in command["options"]:
            man_option(o, lines)
    if command["positionals"]:
        lines += [".SH ARGUMENTS"] if level == 0 else [".PP", "Arguments:"]
        for p in command["positionals"]:
            man_option(p, lines)
    if level > 0 and examples:
        lines += [".PP", "Examples:"]
        man_examples(examples, lines)
    if command["commands"] and level == 0:
        lines.append(".SH COMMANDS")
    for sub in command["commands"]:
        man_command_body(sub, lines, level + 1)


def man_common_tail(root, lines, env_options, see_also):
    lines += [".SH CONFIGURATION", roff(CONFIG_TEXT)]
    lines.append(".SH ENVIRONMENT")
    for name, text in ENV_GLOBAL:
        lines += [".TP", "\\fB%s\\fR" % roff(name), roff(text)]
    for o, path in env_options:
        lines += [".TP", "\\fB%s\\fR" % roff(o["env"]),
                  "sets %s %s" % (roff(" ".join([PROG] + path.split("."))), roff(spelled(o)[-1]))]
    lines.append(".SH FILES")
    for name, text in FILES_TEXT:
        lines += [".TP", "\\fI%s\\fR" % roff(name), roff(text)]
    lines.append(".SH EXIT STATUS")
    for code, text in exit_codes(root):
        lines += [".TP", "\\fB%s\\fR" % code, roff(text)]
    lines += [".SH \"SEE ALSO\"", ",\n".join("\\fB%s\\fR(1)" % roff(p) for p in see_also)]


def man_header(title, version, lines):
    lines += ['.\\" Generated by scripts/gen-docs.py from `%s option-tree`; do not edit, run `make docs`.' % PROG,
              '.TH "%s" 1 "" "%s" "mtastream manual"' % (title.upper(), roff(version)), ".nh"]


def man_root(root, version, commands):
    lines = []
    man_header(PROG, version, lines)
    lines += [".SH NAME", "%s \\- %s" % (PROG, roff(root["description"].split(": ", 1)[-1]))]
    lines.append(".SH SYNOPSIS")
    man_synopsis(root, lines)
    lines += [".SH DESCRIPTION", roff(root["description"]) + ".",
              ".PP", "stdout carries data only (rows, messages, \\-\\-json summaries); logs, progress and errors "
              "go to stderr. Global options are accepted before or after the command name."]
    lines.append(".SH \"GLOBAL OPTIONS\"")
    for o in root["options"]:
        man_option(o, lines)
    lines.append(".SH COMMANDS")
    for c in commands:
        name = c["name"]
        target = "%s\\-%s(1)" % (PROG, roff(name)) if c["name"] not in PAGELESS else None
        lines += [".TP", "\\fB%s\\fR%s" % (roff(" ".join([name] + ([("|".join(s["name"] for s in c["commands"]))]
                                                               if c["commands"] else []))),
                                          ""),
                  roff(sentence(c["description"])) + (" See \\fB%s\\fR." % target if target else "")]
    examples = []
    for c in commands:
        examples += parse_footer(c["footer"])[0][:1]
    if examples:
        lines.append(".SH EXAMPLES")
        man_examples(examples, lines)
    man_common_tail(root, lines, [], ["%s-%s" % (PROG, c["name"]) for c in commands if c["name"] not in PAGELESS])
    return "\n".join(lines) + "\n"


def man_command(root, command, version, commands):
    lines = []
    name = "%s-%s" % (PROG, command["name"])
    man_header(name, version, lines)
    lines += [".SH NAME", "%s \\- %s" % (roff(name), roff(command["description"]))]
    lines.append(".SH SYNOPSIS")
    man_synopsis(command, lines)
    for sub in command["commands"]:
        man_synopsis(sub, lines)
    examples, notes = parse_footer(command["footer"])
    lines += [".SH DESCRIPTION", roff(command["description"][:1].upper() + command["description"][1:]) + "."]
    for note in notes:
        lines += [".PP", roff(note)]
    lines += [".PP", "Global options (\\fB\\-b\\fR, \\fB\\-X\\fR, \\fB\\-\\-config\\fR, \\fB\\-q\\fR, \\fB\\-v\\fR) "
              "are described in \\fBmtastream\\fR(1)."]
    man_command_body(command, lines, 0)
    if examples:
        lines.append(".SH EXAMPLES")
        man_examples(examples, lines)
    env_options = [(o, c["path"]) for c in walk(command) for o in c["options"] if o["env"]]
    man_common_tail(root, lines, env_options,
                    [PROG] + ["%s-%s" % (PROG, c["name"]) for c in commands
                              if c["name"] not in PAGELESS + (command["name"],)])
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- completions

def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def bash_completion(root):
    commands = list(walk(root))
    out = ["# bash completion for %s; generated by scripts/gen-docs.py, do not edit (`make docs`)." % PROG,
           "# Install: copy to /usr/share/bash-completion/completions/%s, or source it." % PROG,
           "",
           "_%s_tree() {" % PROG,
           "  # $1: command path ('' for the root); sets subs, opts, valopts for it",
           "  case \"$1\" in"]
    for c in commands:
        subs = " ".join(s["name"] for s in c["commands"])
        if c["path"] == "help":  # `mtastream help COMMAND`
            subs = " ".join(s["name"] for s in root["commands"] if s["name"] not in PAGELESS)
        all_opts = c["options"] + inherited(root, c)
        opts = " ".join(n for o in all_opts for n in spelled(o))
        valopts = " ".join(n for o in all_opts if o["takes_value"] for n in spelled(o))
        out += ["    %s) subs=%s; opts=%s; valopts=%s ;;" % (sh_quote(c["path"]), sh_quote(subs),
                                                            sh_quote(opts.strip()), sh_quote(valopts))]
    out += ["  esac", "}", "",
            "_%s_values() {" % PROG,
            "  # $1: command path, $2: option; prints a word list, or 'FILE'/'DIR' for paths",
            "  case \"$1 $2\" in"]
    seen = set()
    for c in commands:
        for o in c["options"] + inherited(root, c):
            if not o["takes_value"]:
                continue
            kind = value_kind(o)
            if kind == "none":
                continue
            value = " ".join(allowed_values(o)) if kind == "values" else kind.upper()
            for n in spelled(o):
                key = "%s %s" % (c["path"], n)
                if key in seen:
                    continue
                seen.add(key)
                out.append("    %s) echo %s ;;" % (sh_quote(key), sh_quote(value)))
    out += ["  esac", "}", "",
            "_%s() {" % PROG,
            "  local cur prev path='' word subs opts valopts i",
            "  cur=${COMP_WORDS[COMP_CWORD]}",
            "  prev=${COMP_WORDS[COMP_CWORD-1]}",
            "  _%s_tree ''" % PROG,
            "  # Walk the words before the cursor: subcommand names deepen the path; an option that takes a",
            "  # value swallows the next word.",
            "  for ((i = 1; i < COMP_CWORD; i++)); do",
            "    word=${COMP_WORDS[i]}",
            "    if [[ \" $valopts \" == *\" $word \"* ]]; then ((i++)); continue; fi",
            "    if [[ $word != -* && \" $subs \" == *\" $word \"* ]]; then",
            "      path=${path:+$path.}$word",
            "      _%s_tree \"$path\"" % PROG,
            "    fi",
            "  done",
            "  if [[ \" $valopts \" == *\" $prev \"* ]]; then",
            "    local values",
            "    values=$(_%s_values \"$path\" \"$prev\")" % PROG,
            "    case \"$values\" in",
            "      FILE) COMPREPLY=($(compgen -f -- \"$cur\")) ;;",
            "      DIR) COMPREPLY=($(compgen -d -- \"$cur\")) ;;",
            "      *) COMPREPLY=($(compgen -W \"$values\" -- \"$cur\")) ;;",
            "    esac",
            "    return 0",
            "  fi",
            "  if [[ $cur == -* ]]; then",
            "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))",
            "  elif [[ -n $subs ]]; then",
            "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))",
            "  else",
            "    COMPREPLY=($(compgen -f -- \"$cur\"))",
            "  fi",
            "}",
            "complete -o filenames -F _%s %s" % (PROG, PROG)]
    return "\n".join(out) + "\n"


def zsh_escape_desc(s):
    """For the [description] of an _arguments spec, inside single quotes."""
    return s.replace("\\", "\\\\").replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]")


def zsh_escape_msg(s):
    """For the message of an _arguments spec or a _describe item name, inside single quotes."""
    return s.replace("\\", "\\\\").replace("'", "'\\''").replace(":", "\\:")


def zsh_option_specs(options):
    specs = []
    for o in options:
        names = spelled(o)
        desc = zsh_escape_desc(o["description"])
        if o["takes_value"]:
            kind = value_kind(o)
            label = zsh_escape_msg(o["type"] or "value")
            action = {"values": "(%s)" % " ".join(v.replace(" ", "\\ ") for v in allowed_values(o)),
                      "file": "_files", "dir": "_files -/", "none": " "}[kind]
            tail = ":%s:%s" % (label, action)
        else:
            tail = ""
        star = "*" if o["repeatable"] else ""
        if len(names) > 1 and not star:
            excl = "(%s)" % " ".join(names)
            specs.append("'%s'{%s}'[%s]%s'" % (excl, ",".join(names), desc, tail))
        elif len(names) > 1:
            specs.append("'*'{%s}'[%s]%s'" % (",".join(names), desc, tail))
        else:
            specs.append("'%s%s[%s]%s'" % (star, names[0], desc, tail))
    return specs


def zsh_function_name(command):
    return "_%s" % PROG + "".join("_" + w.replace("-", "_") for w in words(command))


def zsh_completion(root):
    out = ["#compdef %s" % PROG,
           "# zsh completion for %s; generated by scripts/gen-docs.py, do not edit (`make docs`)." % PROG,
           "# Install: copy to a directory in $fpath (e.g. /usr/share/zsh/vendor-completions/_%s)." % PROG,
           ""]
    for c in reversed(list(walk(root))):
        fn = zsh_function_name(c)
        opts = c["options"] + inherited(root, c)
        specs = zsh_option_specs(opts)
        out.append("%s() {" % fn)
        if c["commands"]:
            out += ["  local curcontext=\"$curcontext\" state line ret=1",
                    "  typeset -A opt_args",
                    "  local -a commands",
                    "  commands=("]
            out += ["    '%s:%s'" % (zsh_escape_msg(s["name"]), s["description"].replace("'", "'\\''"))
                    for s in c["commands"]]
            out += ["  )",
                    "  _arguments -C \\"]
            out += ["    %s \\" % s for s in specs]
            out += ["    '1: :->command' \\",
                    "    '*:: :->args' && ret=0",
                    "  case $state in",
                    "    command) _describe -t commands '%s command' commands && ret=0 ;;" %
                    " ".join([PROG] + words(c)),
                    "    args)",
                    "      case $words[1] in"]
            out += ["        %s) %s && ret=0 ;;" % (s["name"], zsh_function_name(s)) for s in c["commands"]]
            out += ["      esac ;;",
                    "  esac",
                    "  return ret"]
        else:
            pos = []
            for p in c["positionals"]:
                kind = value_kind(p)
                action = {"values": "(%s)" % " ".join(allowed_values(p)), "file": "_files", "dir": "_files -/",
                          "none": "_files"}[kind]
                pos.append("'%s:%s:%s'" % ("*" if p["repeatable"] else "", zsh_escape_msg(p["name"]), action))
            out.append("  _arguments \\")
            out += ["    %s \\" % s for s in specs + pos]
            out[-1] = out[-1][:-2]
        out += ["}", ""]
    out += ["%s \"$@\"" % zsh_function_name(root)]
    return "\n".join(out) + "\n"


def fish_escape(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_completion(root):
    out = ["# fish completion for %s; generated by scripts/gen-docs.py, do not edit (`make docs`)." % PROG,
           "# Install: copy to ~/.config/fish/completions/ or /usr/share/fish/vendor_completions.d/.",
           "",
           "# The command path typed so far (subcommand names only), e.g. 'topic create'.",
           "function __%s_path" % PROG,
           "    set -l tokens (commandline -opc)",
           "    set -l path",
           "    set -l skip 0",
           "    for token in $tokens[2..-1]",
           "        if test $skip -eq 1",
           "            set skip 0",
           "            continue",
           "        end",
           "        if contains -- $token (__%s_value_options $path)" % PROG,
           "            set skip 1",
           "            continue",
           "        end",
           "        if contains -- $token (__%s_subcommands $path)" % PROG,
           "            set path $path $token",
           "        end",
           "    end",
           "    echo (string join ' ' -- $path)",
           "end",
           "",
           "function __%s_at" % PROG,
           "    test (__%s_path) = \"$argv\"" % PROG,
           "end",
           "",
           "function __%s_subcommands" % PROG,
           "    switch \"$argv\""]
    commands = list(walk(root))
    for c in commands:
        if c["commands"]:
            out += ["        case %s" % fish_escape(" ".join(words(c))),
                    "            printf '%%s\\n' %s" % " ".join(s["name"] for s in c["commands"])]
    out += ["    end", "end", "",
            "function __%s_value_options" % PROG,
            "    switch \"$argv\""]
    for c in commands:
        names = [n for o in c["options"] + inherited(root, c) if o["takes_value"] for n in spelled(o)]
        if names:
            out += ["        case %s" % fish_escape(" ".join(words(c))),
                    "            printf '%%s\\n' -- %s" % " ".join(names)]
    out += ["    end", "end", "", "complete -c %s -f" % PROG]
    for c in commands:
        cond = "__%s_at %s" % (PROG, " ".join(words(c))) if words(c) else "__%s_at" % PROG
        out.append("")
        out.append("# %s" % " ".join([PROG] + words(c)))
        for s in c["commands"]:
            out.append("complete -c %s -n %s -a %s -d %s" % (PROG, fish_escape(cond), s["name"],
                                                             fish_escape(s["description"])))
        opts = c["options"] + inherited(root, c)
        for o in opts:
            parts = ["complete -c %s -n %s" % (PROG, fish_escape(cond))]
            for s in o["short"]:
                parts.append("-s %s" % s if len(s) == 1 else "-o %s" % s)
            for l in o["long"]:
                parts.append("-l %s" % l)
            if o["takes_value"]:
                kind = value_kind(o)
                if kind == "values":
                    parts.append("-x -a %s" % fish_escape(" ".join(allowed_values(o))))
                elif kind in ("file", "dir"):
                    parts.append("-r -F")
                else:
                    parts.append("-x")
            parts.append("-d %s" % fish_escape(o["description"]))
            out.append(" ".join(parts))
        if c["positionals"] and any(value_kind(p) in ("file", "dir", "none") for p in c["positionals"]) \
                and not c["commands"]:
            out.append("complete -c %s -n %s -F" % (PROG, fish_escape(cond)))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- main

def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary = sys.argv[1]
    outdir = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tree = load_tree(binary)
    version = tree["version"].split(" (")[0]  # "mtastream 0.1.0": the librdkafka part differs per build
    commands = [c for c in tree["commands"]]
    files = {os.path.join("man", "%s.1" % PROG): man_root(tree, version, commands)}
    for c in commands:
        if c["name"] in PAGELESS:
            continue
        files[os.path.join("man", "%s-%s.1" % (PROG, c["name"]))] = man_command(tree, c, version, commands)
    files[os.path.join("completions", "%s.bash" % PROG)] = bash_completion(tree)
    files[os.path.join("completions", "_%s" % PROG)] = zsh_completion(tree)
    files[os.path.join("completions", "%s.fish" % PROG)] = fish_completion(tree)
    for sub in ("man", "completions"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
        # Pages of commands that no longer exist go away.
        for old in os.listdir(os.path.join(outdir, sub)):
            if os.path.join(sub, old) not in files and (old.endswith(".1") or sub == "completions"):
                os.remove(os.path.join(outdir, sub, old))
    for path, text in sorted(files.items()):
        with open(os.path.join(outdir, path), "w") as f:
            f.write(text)
        print(path)


if __name__ == "__main__":
    main()
