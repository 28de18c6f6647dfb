/* cmdlist.h - prototypes of every command function, grouped by the file that
 * implements it.  commands.c builds the table from these. */
#ifndef LATTICE_CMDLIST_H
#define LATTICE_CMDLIST_H

#include "networking.h"

/* t_string.c */
void getCommand(client *c);
void setCommand(client *c);
void setnxCommand(client *c);
void setexCommand(client *c);
void psetexCommand(client *c);
void getsetCommand(client *c);
void getdelCommand(client *c);
void getexCommand(client *c);
void mgetCommand(client *c);
void msetCommand(client *c);
void msetnxCommand(client *c);
void appendCommand(client *c);
void strlenCommand(client *c);
void getrangeCommand(client *c);
void setrangeCommand(client *c);
void lcsCommand(client *c);
void incrCommand(client *c);
void decrCommand(client *c);
void incrbyCommand(client *c);
void decrbyCommand(client *c);
void incrbyfloatCommand(client *c);

/* t_set.c */
void saddCommand(client *c);
void sremCommand(client *c);
void smembersCommand(client *c);
void sismemberCommand(client *c);
void smismemberCommand(client *c);
void scardCommand(client *c);
void spopCommand(client *c);
void srandmemberCommand(client *c);
void smoveCommand(client *c);
void sinterCommand(client *c);
void sintercardCommand(client *c);
void sinterstoreCommand(client *c);
void sunionCommand(client *c);
void sunionstoreCommand(client *c);
void sdiffCommand(client *c);
void sdiffstoreCommand(client *c);
void sscanCommand(client *c);

/* t_hash.c */
void hsetCommand(client *c);
void hmsetCommand(client *c);
void hsetnxCommand(client *c);
void hgetCommand(client *c);
void hmgetCommand(client *c);
void hdelCommand(client *c);
void hlenCommand(client *c);
void hstrlenCommand(client *c);
void hexistsCommand(client *c);
void hkeysCommand(client *c);
void hvalsCommand(client *c);
void hgetallCommand(client *c);
void hincrbyCommand(client *c);
void hincrbyfloatCommand(client *c);
void hrandfieldCommand(client *c);
void hscanCommand(client *c);

/* t_bitmap.c */
void setbitCommand(client *c);
void getbitCommand(client *c);
void bitcountCommand(client *c);
void bitposCommand(client *c);
void bitopCommand(client *c);
void bitfieldCommand(client *c);
void bitfieldroCommand(client *c);

/* keys.c */
/* SCAN-family cursor, parsed as Redis does; replies the error itself. */
int parseScanCursor(client *c, const arg *a, unsigned long long *cursor);
/* SCAN-family MATCH / COUNT (and, when type is not NULL, TYPE) options from
 * argv[from..]; a MATCH of "*" gives *pat = NULL.  Replies the error itself. */
int parseScanOptions(client *c, int from, long long *count, arg **pat, arg **type);
void delCommand(client *c);
void unlinkCommand(client *c);
void existsCommand(client *c);
void typeCommand(client *c);
void keysCommand(client *c);
void scanCommand(client *c);
void randomkeyCommand(client *c);
void renameCommand(client *c);
void renamenxCommand(client *c);
void dbsizeCommand(client *c);
void flushdbCommand(client *c);
void flushallCommand(client *c);
void expireCommand(client *c);
void pexpireCommand(client *c);
void expireatCommand(client *c);
void pexpireatCommand(client *c);
void ttlCommand(client *c);
void pttlCommand(client *c);
void expiretimeCommand(client *c);
void pexpiretimeCommand(client *c);
void persistCommand(client *c);
void touchCommand(client *c);
void selectCommand(client *c);
void swapdbCommand(client *c);
void moveCommand(client *c);
void copyCommand(client *c);
void objectEncodingCommand(client *c);
void objectFreqCommand(client *c);
void objectIdletimeCommand(client *c);
void objectRefcountCommand(client *c);
void objectHelpCommand(client *c);

/* conn.c: connection commands */
void pingCommand(client *c);
void echoCommand(client *c);
void quitCommand(client *c);
void resetCommand(client *c);
void authCommand(client *c);
void helloCommand(client *c);
void selectCommand(client *c);
void clientIdCommand(client *c);
void clientSetnameCommand(client *c);
void clientGetnameCommand(client *c);
void clientListCommand(client *c);
void clientInfoCommand(client *c);
void clientKillCommand(client *c);
void clientReplyCommand(client *c);
void clientPauseCommand(client *c);
void clientUnpauseCommand(client *c);
void clientNoEvictCommand(client *c);
void clientHelpCommand(client *c);
void clientGetredirCommand(client *c);
void clientTrackinginfoCommand(client *c);
void clientUnblockCommand(client *c);

/* server_cmds.c: server commands */
void infoCommand(client *c);
void timeCommand(client *c);
void lastsaveCommand(client *c);
void shutdownCommand(client *c);
void debugCommand(client *c);
void saveCommand(client *c);
void bgsaveCommand(client *c);
void functionFlushCommand(client *c);
void functionHelpCommand(client *c);
void configGetCommand(client *c);
void configSetCommand(client *c);
void configResetstatCommand(client *c);
void configRewriteCommand(client *c);
void configHelpCommand(client *c);
void memoryUsageCommand(client *c);
void memoryHelpCommand(client *c);
void waitCommand(client *c);
void replicaofCommand(client *c);
void roleCommand(client *c);
void peerCommand(client *c);
void lolwutCommand(client *c);
void readonlyCommand(client *c);

/* cmd_command.c: COMMAND introspection */
void commandCommand(client *c);
void commandCountCommand(client *c);
void commandInfoCommand(client *c);
void commandDocsCommand(client *c);
void commandGetkeysCommand(client *c);
void commandListCommand(client *c);
void commandHelpCommand(client *c);

/* introspect.c */
void slowlogGetCommand(client *c);
void slowlogLenCommand(client *c);
void slowlogResetCommand(client *c);
void slowlogHelpCommand(client *c);
void monitorCommand(client *c);

#endif
