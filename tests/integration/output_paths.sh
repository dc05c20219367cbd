#!/usr/bin/env bash
# Output paths a user names are never destroyed: a regular file (or a symlink to one) is replaced
# atomically, a device, FIFO or /dev/stdout is written through. Device nodes are made here with mknod,
# never the real /dev/null. Runs as root and, when root, again as an unprivileged user.
source "$(dirname "$0")/lib.sh"

head -40 "$SHARED_DATA/mta/turnstile_170617.txt" >"$T/week.txt"
"$MTASTREAM" replay "$T/week.txt" >"$T/events.csv" 2>/dev/null
echo "not,a,turnstile,line" >>"$T/events.csv"  # one bad line: the dead letter gets something
chmod 0755 "$T"
chmod 0644 "$T/week.txt" "$T/events.csv"

# as USER...: prefix that runs a command as USER ("" = as we are).
as() { if [ -z "$1" ]; then shift; "$@"; else local u=$1; shift; runuser -u "$u" -- "$@"; fi; }

check_paths() {
  local user=$1 label=${1:-$(id -un)} W="$T/w-${1:-self}"
  mkdir -p "$W"
  [ -n "$user" ] && chown "$user" "$W"
  mknod "$W/null" c 1 3 && chmod 0666 "$W/null"
  mkfifo "$W/fifo" && chmod 0666 "$W/fifo"
  echo old >"$W/target.csv" && chmod 0600 "$W/target.csv"
  [ -n "$user" ] && chown "$user" "$W/target.csv"
  ln -s target.csv "$W/link"

  for cmd in aggregate replay; do
    local input=("$T/events.csv") ok=3
    [ "$cmd" = replay ] && input=("$T/week.txt") && ok=0
    expect_exit "$ok" "$label: $cmd -o DEVICE" -- as "$user" "$MTASTREAM" "$cmd" -o "$W/null" "${input[@]}"
    [ -c "$W/null" ] && pass "$label: $cmd -o DEVICE leaves the device a device" || fail "$label: $cmd -o DEVICE replaced the device"
    expect_not_contains "$T/err" "fsync" "$label: $cmd -o DEVICE: no fsync error"

    timeout 20 cat "$W/fifo" >"$W/fifo.out" &  # bounded: a FIFO renamed over never gets a writer
    local reader=$!
    expect_exit "$ok" "$label: $cmd -o FIFO" -- as "$user" "$MTASTREAM" "$cmd" -o "$W/fifo" "${input[@]}"
    wait "$reader" || true
    [ -p "$W/fifo" ] && pass "$label: $cmd -o FIFO leaves the FIFO" || fail "$label: $cmd -o FIFO replaced the FIFO"
    [ "$(wc -l <"$W/fifo.out")" -gt 5 ] && pass "$label: $cmd -o FIFO: the reader got the data" || fail "$label: $cmd -o FIFO: reader got $(wc -l <"$W/fifo.out") lines"

    expect_exit "$ok" "$label: $cmd -o SYMLINK" -- as "$user" "$MTASTREAM" "$cmd" -o "$W/link" "${input[@]}"
    [ -L "$W/link" ] && pass "$label: $cmd -o SYMLINK keeps the link" || fail "$label: $cmd -o SYMLINK replaced the link"
    [ "$(wc -l <"$W/target.csv")" -gt 5 ] && pass "$label: $cmd -o SYMLINK updates the target" || fail "$label: $cmd -o SYMLINK left the target as it was"
    expect_eq "$(stat -c %a "$W/target.csv")" 600 "$label: $cmd -o FILE keeps the file's permissions"
    expect_eq "$(find "$W" -name '.*tmp*' | wc -l)" 0 "$label: $cmd -o leaves no temporary file"

    # /dev/stdout only unprivileged: a broken binary run as root would rename a file over the machine's
    # /dev/stdout. As root /dev/fd/1 is the same magic link, and nothing can be created in /proc/self/fd.
    local stdout_path=/dev/stdout
    [ "$(as "$user" id -u)" -eq 0 ] && stdout_path=/dev/fd/1
    expect_exit "$ok" "$label: $cmd -o $stdout_path redirected to a file" -- \
      as "$user" sh -c '"$0" "$1" -o "$4" "$2" >"$3"' "$MTASTREAM" "$cmd" "${input[@]}" "$W/redirected.csv" "$stdout_path"
    [ "$(wc -l <"$W/redirected.csv")" -gt 5 ] && pass "$label: $cmd -o $stdout_path reaches the shell's redirection" || fail "$label: $cmd -o $stdout_path lost the data"

    expect_exit "$ok" "$label: $cmd --dead-letter DEVICE" -- as "$user" "$MTASTREAM" "$cmd" -o "$W/null" --dead-letter "$W/null" "${input[@]}"
    [ -c "$W/null" ] && pass "$label: $cmd --dead-letter DEVICE leaves the device" || fail "$label: $cmd --dead-letter DEVICE replaced the device"
  done

  # A device in a directory the user cannot write: written through, so no temporary file is needed.
  if [ -n "$user" ]; then
    mkdir "$T/ro" && mknod "$T/ro/null" c 1 3 && chmod 0666 "$T/ro/null" && chmod 0555 "$T/ro"
    expect_exit 3 "$label: aggregate -o DEVICE in a read-only directory" -- as "$user" "$MTASTREAM" aggregate -o "$T/ro/null" "$T/events.csv"
  fi

  # A lake directory that is a symlink: the files land in its target, the link stays.
  mkdir "$W/lake-real" && ln -s lake-real "$W/lake-link"
  [ -n "$user" ] && chown -h "$user" "$W/lake-real" "$W/lake-link"
  expect_exit 3 "$label: aggregate --lake-dir SYMLINK" -- as "$user" "$MTASTREAM" aggregate --lake-dir "$W/lake-link" "$T/events.csv"
  [ -L "$W/lake-link" ] && [ "$(find "$W/lake-real" -name '*.csv.gz' | wc -l)" -gt 0 ] &&
    pass "$label: --lake-dir SYMLINK writes into its target" || fail "$label: --lake-dir SYMLINK"

  # upload file://: an object path that is a device is refused and left alone; a symlink is followed.
  mkdir -p "$W/lake" "$W/bucket"
  echo data >"$W/lake/a.csv.gz"
  mknod "$W/bucket/a.csv.gz" c 1 3 && chmod 0666 "$W/bucket/a.csv.gz"
  [ -n "$user" ] && chown -R "$user" "$W/lake" "$W/bucket"
  expect_exit 1 "$label: upload onto a device is refused" -- as "$user" "$MTASTREAM" upload --to "file://$W/bucket" "$W/lake/a.csv.gz"
  expect_contains "$T/err" "not a regular file" "$label: upload says why"
  [ -c "$W/bucket/a.csv.gz" ] && pass "$label: upload leaves the device" || fail "$label: upload replaced the device"
  rm "$W/bucket/a.csv.gz" && echo old >"$W/bucket/real" && ln -s real "$W/bucket/a.csv.gz"
  [ -n "$user" ] && chown -h "$user" "$W/bucket/real" "$W/bucket/a.csv.gz"
  expect_exit 0 "$label: upload onto a symlink" -- as "$user" "$MTASTREAM" upload --to "file://$W/bucket" "$W/lake/a.csv.gz"
  [ -L "$W/bucket/a.csv.gz" ] && [ "$(cat "$W/bucket/real")" = data ] && pass "$label: upload follows the symlink" ||
    fail "$label: upload onto a symlink did not update its target"
}

check_paths ""
if [ "$(id -u)" -eq 0 ]; then check_paths nobody; else echo "not root: the unprivileged half is this run"; fi
finish
