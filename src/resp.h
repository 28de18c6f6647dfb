/* resp.h - the RESP request parser: a state machine over a byte buffer.
 *
 * It does no I/O and keeps no pointers into the buffer between calls, only
 * offsets from the start of the command being parsed, so the caller may grow,
 * move or compact its buffer between calls as long as the unconsumed bytes keep
 * their order.  Feeding a request one byte at a time gives the same result as
 * feeding it whole.
 *
 * Both request forms are handled: multibulk ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
 * and inline ("GET k\n", with Redis's quoting rules).  Inline arguments are
 * unescaped in place, which is why the buffer is not const. */
#ifndef LATTICE_RESP_H
#define LATTICE_RESP_H

#include <stddef.h>

#define RESP_INLINE_MAX (64 * 1024)    /* longest inline request or count line */

enum { RESP_NEED_MORE = 0, RESP_COMMAND = 1, RESP_ERROR = -1 };

typedef struct respArg {
    size_t off;        /* from the start of the buffer passed to respParse */
    size_t len;
} respArg;

typedef struct respParser {
    int state;
    long long multibulk;     /* arguments announced by '*' */
    long long bulklen;       /* length of the argument being read, -1 if unknown */
    size_t pos;              /* scan position, relative to the command start */
    int argc, argcap;
    respArg *argv;
    long long maxBulk;       /* proto-max-bulk-len */
    int unauthenticated;     /* caller sets: apply the tighter pre-AUTH limits */
    const char *error;       /* set on RESP_ERROR: Redis's text, without "-ERR " */
    char errbuf[64];
} respParser;

void respParserInit(respParser *p, long long maxBulk);
void respParserFree(respParser *p);
/* Forget any partial command (used after an error or when the client resets). */
void respParserReset(respParser *p);

/* Parses buf[0..len), which must start at the first byte of a command.
 *  RESP_COMMAND:   a whole command was read: p->argc arguments at p->argv
 *                  (offsets into buf), *used = bytes it took.  argc may be 0
 *                  (an empty line or "*0"): nothing to run, just skip *used.
 *  RESP_NEED_MORE: call again with the same start and more bytes.
 *  RESP_ERROR:     protocol error, p->error says which; close the client. */
int respParse(respParser *p, char *buf, size_t len, size_t *used);

#endif
