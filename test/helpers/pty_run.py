"""Runs a command in a pseudo-terminal of a given size, the way a person's terminal would.

Input (argv[1], JSON): {"argv": [...], "cwd": str, "env": {...}, "cols": int, "rows": int,
"steps": [{"expect": regex, "send": str, "watchSeconds": n}], "limitSeconds": int}. Each step
waits until the output so far (escape sequences removed) matches `expect` after where the
previous step matched, then types `send` (e.g. "\\u0003" is Ctrl-C, "\\r" is Enter); with
`watchSeconds` it first goes on reading that long, to record what the command draws while it
waits for the key (a test then checks that nothing was). Everything the command writes to the
terminal goes to stdout as it arrives; the end goes to stderr as JSON: {"exit": code,
"signal": n | null, "stepsDone": n, "sentAt": [byte offset of each send], "limited": bool}.
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

spec = json.loads(sys.argv[1])
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r")

pid, fd = pty.fork()
if pid == 0:
    os.chdir(spec["cwd"])
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])

fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", spec["rows"], spec["cols"], 0, 0))
steps = spec.get("steps", [])
limit = time.monotonic() + spec.get("limitSeconds", 300)
seen = ""
offset = 0
done = 0
sent_at = []
written = 0
watch_until = None
limited = False
out = sys.stdout.buffer
while True:
    if time.monotonic() > limit:
        limited = True
        os.kill(pid, signal.SIGKILL)
        break
    if watch_until is not None and time.monotonic() >= watch_until:
        watch_until = None
        sent_at.append(written)
        os.write(fd, steps[done]["send"].encode())
        done += 1
    ready, _, _ = select.select([fd], [], [], 0.05)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out.write(chunk)
        out.flush()
        written += len(chunk)
        seen += ANSI.sub("", chunk.decode("utf-8", "replace"))
    while done < len(steps) and watch_until is None:
        match = re.compile(steps[done]["expect"]).search(seen, offset)
        if match is None:
            break
        offset = match.end()
        if steps[done].get("watchSeconds"):
            watch_until = time.monotonic() + steps[done]["watchSeconds"]
            break
        sent_at.append(written)
        os.write(fd, steps[done]["send"].encode())
        done += 1
_, status = os.waitpid(pid, 0)
sys.stderr.write(
    json.dumps(
        {
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "stepsDone": done,
            "sentAt": sent_at,
            "limited": limited,
        }
    )
)
