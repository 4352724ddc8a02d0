#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal and answers its prompts.

Usage: pty_session.py 'PROMPT=>ANSWER' ... -- command args...
Each pair waits until PROMPT appears in the output (after the previous
prompt), then types ANSWER and Enter. Prints everything the command wrote and
exits with its exit code (99 if a prompt never appeared).
"""
import os
import pty
import select
import sys
import time


def main():
    split = sys.argv.index('--')
    script = [pair.split('=>', 1) for pair in sys.argv[1:split]]
    command = sys.argv[split + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    output = b''
    consumed = 0
    deadline = time.time() + 30
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if script:
            found = output.find(script[0][0].encode(), consumed)
            if found >= 0:
                consumed = found + len(script[0][0])
                os.write(fd, script.pop(0)[1].encode() + b'\n')
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(output.decode(errors='replace').replace('\r\n', '\n'))
    if script:
        sys.stdout.write('\n[pty_session: prompts never seen: %s]\n' % [p for p, _ in script])
        sys.exit(99)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
