/* introspect.h - watching the server from outside: SLOWLOG, MONITOR and the
 * commands that describe the server (INFO, COMMAND, DEBUG, OBJECT...). */
#ifndef LATTICE_INTROSPECT_H
#define LATTICE_INTROSPECT_H

#include <stdint.h>
#include "networking.h"

struct command;

void slowlogInit(void);
void slowlogPushEntryIfNeeded(client *c, int64_t durationUs);
void monitorRemove(client *c);
void monitorFeed(client *c, int dbid);   /* called after each command with its argv and db */
int monitorsActive(void);

void slowlogCommand(client *c);
void monitorCommand(client *c);

#endif
