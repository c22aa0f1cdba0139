# SPDX-License-Identifier: BSD-2-Clause
# Shell helpers the bench/ scripts source.  They expect DRIVE_PID (the
# drive's pid, emptied once stopped) and LOG (its log file).

# Stop the drive with SIGTERM; show its log if it did not exit cleanly.
stop_drive() {
	kill -TERM "$DRIVE_PID"
	local rc=0
	wait "$DRIVE_PID" || rc=$?
	DRIVE_PID=
	if [ "$rc" != 0 ]; then
		echo "drive exited with status $rc after SIGTERM; log:" >&2
		cat "$LOG" >&2
	fi
}

# field NAME "RESULT ..." -> the value of NAME= in a benchmark's RESULT line
field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}
