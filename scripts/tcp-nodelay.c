/* LD_PRELOAD shim: sets TCP_NODELAY on every socket a server accepts. rotel's gRPC server
 * leaves Nagle on, which with the client's delayed ACK stalls some replies ~40 ms; collectors
 * that set TCP_NODELAY (Go's do by default) do not. scripts/bench-process and
 * scripts/bench-phases start a second rotel under this shim to time gRPC as such a collector
 * answers. Build: cc -shared -fPIC -O2 -o tcp-nodelay.so tcp-nodelay.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
static void nd(int fd) { if (fd >= 0) { int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); } }
int accept4(int s, struct sockaddr *a, socklen_t *l, int f) {
  static int (*real)(int, struct sockaddr *, socklen_t *, int);
  if (!real) real = dlsym(RTLD_NEXT, "accept4");
  int fd = real(s, a, l, f); nd(fd); return fd;
}
int accept(int s, struct sockaddr *a, socklen_t *l) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = dlsym(RTLD_NEXT, "accept");
  int fd = real(s, a, l); nd(fd); return fd;
}
