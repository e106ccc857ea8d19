/*
 * The short names the store's front files (store.c, store_console.c) write
 * their wrappers with: STORE__WRAP and its helpers (store_int.h). Private
 * to those two files.
 */
#ifndef FL_STORE_WRAP_H
#define FL_STORE_WRAP_H

#include "store_int.h"

#define need store__need
#define RD STORE__RD
#define WR STORE__WR
#define OR STORE__OR
#define OUT_NULL STORE__OUT_NULL
#define WRAP STORE__WRAP

#endif
