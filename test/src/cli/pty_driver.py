"""Runs a command in a real pseudo-terminal and types into it, as a person would.

Usage: python3 pty_driver.py '<json>'
  {"argv": [...], "cwd": "...", "env": {...}, "timeout": 30,
   "steps": [{"expect": "<regex>", "send": "<text>"}, ...]}
Each step waits until its regex matches the screen output (ANSI codes removed) written since the
previous step's match, then types its text. After the last step the output is read to the end.
Prints {"exitCode", "output" (raw), "text" (without ANSI codes), "error"} as JSON.
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

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]")


def main():
    spec = json.loads(sys.argv[1])
    deadline_each = spec.get("timeout", 30)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session leader whose terminal is the pty
        os.chdir(spec.get("cwd") or ".")
        os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))

    raw = b""
    error = None
    eof = False

    def pump(timeout):
        nonlocal raw, eof
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            eof = True
        raw += chunk

    consumed = 0
    for step in spec.get("steps", []):
        pattern = re.compile(step["expect"])
        until = time.time() + deadline_each
        while True:
            text = ANSI.sub("", raw.decode("utf-8", "replace"))
            match = pattern.search(text, consumed)
            if match:
                consumed = match.end()
                break
            if eof or time.time() > until:
                error = "timed out waiting for %r" % step["expect"] if not eof else "the command ended before %r" % step["expect"]
                break
            pump(0.1)
        if error:
            break
        time.sleep(step.get("pause", 0.15))  # let the prompt finish drawing before typing
        os.write(fd, step["send"].encode())

    until = time.time() + deadline_each
    while not eof and time.time() < until:
        pump(0.1)
    if not eof:
        error = error or "the command did not end"
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else (status >> 8)
    out = raw.decode("utf-8", "replace")
    json.dump({"exitCode": code, "output": out, "text": ANSI.sub("", out), "error": error}, sys.stdout)


if __name__ == "__main__":
    main()
