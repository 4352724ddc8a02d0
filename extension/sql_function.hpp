// Declaring the SQL-callable entry points of the library.
//
// The library is built with -fvisibility=hidden so that none of its C++
// symbols can clash with another extension's; the entry points PostgreSQL
// looks up by name are exported explicitly here.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

// Declares a version-1 SQL-callable C function, visible to the dynamic loader.
#define TENANCY_SQL_FUNCTION(name)                     \
	extern "C" {                                       \
	_Pragma("GCC visibility push(default)")            \
	PG_FUNCTION_INFO_V1(name);                         \
	_Pragma("GCC visibility pop")                      \
	}                                                  \
	extern "C" Datum name(PG_FUNCTION_ARGS)

// Marks any other symbol PostgreSQL looks up by name (_PG_init, workers).
#define TENANCY_EXPORTED extern "C" __attribute__((visibility("default")))
