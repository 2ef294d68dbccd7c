# Runs a command on a pseudo-terminal, as a person at a terminal would: waits for PROMPT, types
# TYPED and Enter, then prints everything the terminal showed and exits with the command's code.
# Usage: python3 pty-run.py PROMPT TYPED command [args...]   (for the CLI's hidden-prompt tests)
import os, pty, select, sys

prompt, typed, argv = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)

shown, sent = b'', False
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        sys.stderr.write('pty-run: no output for 30 s\n')
        os.kill(pid, 9)
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:  # EIO: the command closed the terminal (exited)
        break
    if not chunk:
        break
    shown += chunk
    if not sent and prompt in shown:
        os.write(fd, typed + b'\r')
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode('utf8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
