// load.c - Loads libalpm at the first call of one of its functions.
//
// Copyright (c) 2026 The clp authors
//
// MIT Licensed. See LICENSE for details.
//
// go-alpm does not link libalpm: a program that links it would load
// libalpm and its ~48 libraries (libarchive, gpgme, curl, libcrypto...) in
// the dynamic loader at every start, whether it calls libalpm or not. The
// trampolines (trampolines_*.c) call go_alpm_sym instead, which opens the
// libalpm the package was built against, once, on the first call.
//
// Which libalpm: GO_ALPM_SOMAJOR, the major number of the soname
// (libalpm.so.N) the linker sees for -lalpm at build time. clp's Makefile
// and PKGBUILD derive it (scripts/libalpm-somajor.sh) and pass it in
// CGO_CFLAGS; without it, the build tag's libalpm is taken: 13 (pacman 6.0)
// for the default build, 16 (pacman 7.1) for -tags next. A test
// (TestSonameIsTheLinkers in clp's alpm package) checks it against the
// linker's view. It is fixed at build time on purpose: a name taken from
// the environment at run time would let whoever sets it choose the code a
// root process runs.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "load.h"

#ifndef GO_ALPM_SOMAJOR
# ifdef GO_ALPM_NEXT
#  define GO_ALPM_SOMAJOR 16
# else
#  define GO_ALPM_SOMAJOR 13
# endif
#endif
#define GO_ALPM_STR1(x) #x
#define GO_ALPM_STR(x) GO_ALPM_STR1(x)
#define GO_ALPM_SONAME "libalpm.so." GO_ALPM_STR(GO_ALPM_SOMAJOR)

// Exit status when libalpm cannot be loaded inside a call that cannot
// fail: clp's "no usable installation" (cmd/clp/errors.go, ExitNoSystem).
#define GO_ALPM_LOAD_EXIT 7

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *lib;
static char why[512];

static void load(void) {
  // RTLD_LOCAL: libalpm's symbols do not take part in later lookups of
  // other libraries. RTLD_LAZY: functions are bound on their first call,
  // as the dynamic loader did when clp linked libalpm (RTLD_NOW binds
  // every function of libalpm's ~48 libraries first, measurably slower).
  // A function go-alpm calls that libalpm lacks is still found missing
  // before it is called: go_alpm_sym's dlsym.
  lib = dlopen(GO_ALPM_SONAME, RTLD_LAZY | RTLD_LOCAL);
  if (lib == NULL) {
    const char *e = dlerror();
    snprintf(why, sizeof why, "%s", e != NULL ? e : "unknown error");
  }
}

const char *go_alpm_soname(void) { return GO_ALPM_SONAME; }

const char *go_alpm_path(void) {
  const char *err;
  struct link_map *map = NULL;
  if (go_alpm_load(&err) != 0 || dlinfo(lib, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) {
    return NULL;
  }
  return map->l_name;
}

int go_alpm_load(const char **err) {
  pthread_once(&once, load);
  if (lib == NULL) {
    *err = why;
    return -1;
  }
  return 0;
}

static void die(const char *what) {
  // stdio may be in any state in a Go program's C call: one write.
  char msg[1024];
  int n = snprintf(msg, sizeof msg,
                   "clp: error: cannot load %s: %s\n"
                   "clp: hint: libalpm comes with pacman; reinstall the pacman package\n",
                   GO_ALPM_SONAME, what);
  if (n > 0) {
    ssize_t w = write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    (void)w;
  }
  _exit(GO_ALPM_LOAD_EXIT);
}

void *go_alpm_sym(void **slot, const char *name) {
  void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (fn != NULL) {
    return fn;
  }
  const char *err;
  if (go_alpm_load(&err) != 0) {
    die(err);
  }
  dlerror();
  fn = dlsym(lib, name);
  if (fn == NULL) {
    const char *e = dlerror();
    char buf[256];
    snprintf(buf, sizeof buf, "no function %s in it (%s)", name, e != NULL ? e : "null");
    die(buf);
  }
  __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
  return fn;
}
