/* util.h - string and number helpers with Redis's exact parsing rules.
 * Pure functions: no server state, no allocation except splitArgs. */
#ifndef LATTICE_UTIL_H
#define LATTICE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Strict base-10 parse as Redis's string2ll: optional '-', no '+', no spaces,
 * no leading zeros (except "0"), must fit in long long. Returns 1 on success. */
int string2ll(const char *s, size_t len, long long *out);
/* Parses a double as Redis's getDoubleFromObject would accept it: strtod over the
 * whole string, no leading space, not NaN; "inf"/"-inf" accepted. Returns 1 on success. */
int string2d(const char *s, size_t len, double *out);
/* Same with long double, as INCRBYFLOAT uses. */
int string2ld(const char *s, size_t len, long double *out);
/* Writes v in base 10, returns its length (buf must hold 21 bytes). */
int ll2string(char *buf, size_t size, long long v);
int ull2string(char *buf, size_t size, unsigned long long v);
/* Formats a long double the way INCRBYFLOAT replies: "%.17Lf" with trailing
 * zeros (and a trailing dot) removed; "inf"/"-inf" as such. Returns length. */
int ld2string(char *buf, size_t size, long double v);
/* Formats a double as RESP2 bulk doubles in Redis ("%.17g", inf/-inf/nan). */
int d2string(char *buf, size_t size, double v);
/* Glob-style match with Redis's rules: * ? [abc] [^a] [a-z] and \ escapes. */
int stringmatchlen(const char *pattern, size_t patlen, const char *s, size_t slen, int nocase);
/* Splits a line as Redis's sdssplitargs does: blanks separate, "double quotes"
 * with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' with \' only; a closing
 * quote must be followed by a blank or the end.  Returns a malloc'd array of
 * malloc'd NUL-terminated strings with lengths in *lens (also malloc'd), or NULL
 * on unbalanced quotes.  freeArgs releases both. */
char **splitArgs(const char *line, size_t len, int *argc, size_t **lens);
void freeArgs(char **argv, size_t *lens, int argc);
/* Lower-cases in place an ASCII buffer. */
void strToLower(char *s, size_t len);
/* Parses a memory size such as "512mb", "1gb", "100" (Redis's memtoull). Returns 1 on success. */
int memtoull(const char *s, size_t len, unsigned long long *out);

#endif
