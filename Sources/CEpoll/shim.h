#ifndef MOM_CEPOLL_SHIM_H
#define MOM_CEPOLL_SHIM_H
// epoll, eventfd and timerfd are not exported by Swift's Glibc module.
// No feature macros here: they clash between clang modules.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>

// accept4 is declared only under _GNU_SOURCE; declare the Linux prototype ourselves.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
// fallocate likewise (glibc, Linux).
extern int fallocate(int fd, int mode, off_t offset, off_t len);
// pthread_setname_np likewise (glibc 2.12+).
extern int pthread_setname_np(pthread_t thread, const char *name);
// syncfs likewise (glibc 2.14+, Linux 2.6.39+): group commit with one sync per file system.
extern int syncfs(int fd);
#endif
