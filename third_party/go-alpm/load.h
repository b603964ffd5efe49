// load.h - Loads libalpm at the first call of one of its functions.
//
// Copyright (c) 2026 The clp authors
//
// MIT Licensed. See LICENSE for details.

#ifndef GO_ALPM_LOAD_H
#define GO_ALPM_LOAD_H

// go_alpm_sym is the library's function name, looked up once into *slot:
// the first call loads libalpm. When libalpm or the function cannot be
// found it prints why on stderr and ends the process (exit status 7):
// there is no value a trampoline could return instead.
void *go_alpm_sym(void **slot, const char *name);

// go_alpm_load loads libalpm if it is not loaded yet: 0 when it is, else
// -1 and *err is why (dlerror's text; static storage).
int go_alpm_load(const char **err);

// go_alpm_soname is the file name go_alpm_load opens, libalpm.so.N.
const char *go_alpm_soname(void);

// go_alpm_path is the path the dynamic loader found libalpm at, once it is
// loaded; NULL before, or when it cannot say.
const char *go_alpm_path(void);

#endif
