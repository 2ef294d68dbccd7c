/*
 * launcher.c — `ptrace-vmm --launcher SOCKET`: makes VMM processes cheaply, for restores.
 *
 * Why: starting a VMM from the worker costs the worker a fork of its own (large) process plus an
 * exec, and Node's spawn blocks its event loop for all of that: ~50 ms on our 2-core test host,
 * more than the whole restore. This small process forks instead, and a fork of it costs well under
 * a millisecond. It listens on a Unix socket (in a directory only its user can enter); every
 * connection gets a VMM process of its own, forked from here, whose stdin and stdout are that
 * connection: standby_main() says hello with its pid and waits for a RESTORE command
 * (fn_vmm_control.h), then serves the restored VM exactly as `--restore` would. The parent keeps
 * a few such VMMs connected ahead of need, so a cold start skips process creation altogether.
 *
 * It stops when its stdin (a pipe from the parent) reaches EOF; the VMMs it forked die with it
 * (PR_SET_PDEATHSIG), with their guests. Its socket is its parent's to remove (with the directory
 * around it): once listening, the launcher runs under a seccomp allowlist with no_new_privs
 * (launcher_lockdown in lockdown.c), which leaves it no unlink.
 */
#include "vmm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_on(const char *path)
{
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path)
    die("the launcher socket path is longer than %zu bytes: %s", sizeof a.sun_path - 1, path);
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0)
    die("cannot listen on %s: %s", path, strerror(errno));
  return fd;
}

/* Only our own user may have a VMM made (the directory says so too). */
static int same_user(int fd)
{
  struct ucred cred;
  socklen_t len = sizeof cred;
  return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == getuid();
}

static void fork_vmm(int conn)
{
  pid_t launcher = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "ptrace-vmm launcher: fork: %s\n", strerror(errno));
    return; /* the connection closes unanswered: the parent sees a VMM that ended at once */
  }
  if (pid > 0)
    return;
  signal(SIGCHLD, SIG_DFL); /* the VMM waits for its guest process */
  prctl(PR_SET_NAME, "ptrace-standby"); /* "ptrace-vmm" once it holds a VM (RESTORE) */
  /* A VMM waiting on a guest that spins never reads its connection, so it would not notice its
   * parent process going away. The launcher does (its stdin closes): its end is theirs too. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != launcher)
    _exit(0);
  if (dup2(conn, 0) != 0 || dup2(conn, 1) != 1)
    _exit(1);
  close(conn);
  standby_main();
}

int launcher_main(const char *path)
{
  /* Not a VMM itself: a name of its own, so nothing that counts VMM processes counts this one. */
  prctl(PR_SET_NAME, "fn-vmm-launcher");
  int listener = listen_on(path);
  signal(SIGCHLD, SIG_IGN); /* VMMs are reaped by the kernel: nobody here waits for them */
  tsc_khz(); /* calibrated once here: every VMM forked later inherits it and never waits for it */
  printf("ready\n");
  fflush(stdout);
  /* From here on it only accepts and forks: seccomp allowlist and no_new_privs (lockdown.c). */
  launcher_lockdown();
  for (;;) {
    struct pollfd p[2] = {{.fd = listener, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      die("poll: %s", strerror(errno));
    }
    if (p[1].revents) {
      char b[256];
      if (read(0, b, sizeof b) <= 0) /* the parent went away, or closed our stdin: stop */
        return 0;      /* (the socket and its directory are the parent's to remove) */
    }
    if (p[0].revents & POLLIN) {
      int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
      if (conn < 0)
        continue;
      if (same_user(conn))
        fork_vmm(conn);
      close(conn);
    }
  }
}
