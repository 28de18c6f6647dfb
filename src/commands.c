/* commands.c - the command table and the way from a parsed request to a
 * command function: lookup, arity, authentication, transaction queueing,
 * pub/sub context, CLIENT PAUSE, then call() with stats, slowlog and MONITOR.
 * Commands themselves live in t_*.c, keys.c, conn.c, server_cmds.c... */
#include "commands.h"
#include "cmdlist.h"
#include "config.h"
#include "db.h"
#include "introspect.h"
#include "multi.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define W CMD_WRITE
#define R CMD_READONLY
#define M CMD_DENYOOM
#define A CMD_ADMIN
#define F CMD_FAST
#define N CMD_NO_AUTH
#define P CMD_PUBSUB
#define S CMD_NOSCRIPT
#define L CMD_LOADING
#define T CMD_STALE

/* name, proc, arity, flags, acl, first, last, step, group, since, summary */
#define CMD(n, p, ar, fl, acl, f, l, s, g, since, sum) \
    { n, p, ar, fl, acl, f, l, s, sum, since, g, NULL, NULL, NULL, NULL, "", 0, 0, 0, 0 }
#define SUB(n, p, ar, fl, acl, f, l, s, since, sum) CMD(n, p, ar, fl, acl, f, l, s, NULL, since, sum)
#define CONTAINER(n, ar, fl, acl, g, since, sum, subs) CONTAINER_PROC(n, NULL, ar, fl, acl, g, since, sum, subs)
/* A container that also runs on its own (COMMAND with no subcommand). */
#define CONTAINER_PROC(n, p, ar, fl, acl, g, since, sum, subs) \
    { n, p, ar, fl, acl, 0, 0, 0, sum, since, g, NULL, NULL, subs, NULL, "", 0, 0, 0, 0 }
#define END { NULL, NULL, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "", 0, 0, 0, 0 }

static command objectSubs[] = {
    SUB("encoding", objectEncodingCommand, 3, R, "@keyspace @read @slow", 2, 2, 1, "2.2.3", "Returns the internal encoding of a Redis object."),
    SUB("freq", objectFreqCommand, 3, R, "@keyspace @read @slow", 2, 2, 1, "4.0.0", "Returns the logarithmic access frequency counter of a Redis object."),
    SUB("help", objectHelpCommand, 2, L | T, "@keyspace @slow", 0, 0, 0, "6.2.0", "Returns helpful text about the different subcommands."),
    SUB("idletime", objectIdletimeCommand, 3, R, "@keyspace @read @slow", 2, 2, 1, "2.2.3", "Returns the time since the last access to a Redis object."),
    SUB("refcount", objectRefcountCommand, 3, R, "@keyspace @read @slow", 2, 2, 1, "2.2.3", "Returns the reference count of a value of a key."),
    END
};

static command clientSubs[] = {
    SUB("getname", clientGetnameCommand, 2, S | L | T, "@slow @connection", 0, 0, 0, "2.6.9", "Returns the name of the connection."),
    SUB("getredir", clientGetredirCommand, 2, S | L | T, "@slow @connection", 0, 0, 0, "6.0.0", "Returns the client ID to which the connection's tracking notifications are redirected."),
    SUB("help", clientHelpCommand, 2, L | T, "@slow @connection", 0, 0, 0, "5.0.0", "Returns helpful text about the different subcommands."),
    SUB("id", clientIdCommand, 2, S | L | T, "@slow @connection", 0, 0, 0, "5.0.0", "Returns the unique client ID of the connection."),
    SUB("info", clientInfoCommand, 2, S | L | T, "@slow @connection", 0, 0, 0, "6.2.0", "Returns information about the connection."),
    SUB("kill", clientKillCommand, -3, A | S | L | T, "@admin @slow @dangerous @connection", 0, 0, 0, "2.4.0", "Terminates open connections."),
    SUB("list", clientListCommand, -2, A | S | L | T, "@admin @slow @dangerous @connection", 0, 0, 0, "2.4.0", "Lists open connections."),
    SUB("no-evict", clientNoEvictCommand, 3, A | S | L | T, "@admin @slow @dangerous @connection", 0, 0, 0, "7.0.0", "Sets the client eviction mode of the connection."),
    SUB("pause", clientPauseCommand, -3, A | S | L | T, "@admin @slow @dangerous @connection", 0, 0, 0, "3.0.0", "Suspends commands processing."),
    SUB("reply", clientReplyCommand, 3, S | L | T, "@slow @connection", 0, 0, 0, "3.2.0", "Instructs the server whether to reply to commands."),
    SUB("setname", clientSetnameCommand, 3, S | L | T, "@slow @connection", 0, 0, 0, "2.6.9", "Sets the connection name."),
    SUB("trackinginfo", clientTrackinginfoCommand, 2, S | L | T, "@slow @connection", 0, 0, 0, "6.2.0", "Returns information about server-assisted client-side caching for the connection."),
    SUB("unblock", clientUnblockCommand, -3, A | S | L | T, "@admin @slow @dangerous @connection", 0, 0, 0, "5.0.0", "Unblocks a client blocked by a blocking command from a different connection."),
    SUB("unpause", clientUnpauseCommand, 2, A | S | L | T, "@admin @slow @dangerous @connection", 0, 0, 0, "6.2.0", "Resumes processing commands from paused clients."),
    END
};

static command configSubs[] = {
    SUB("get", configGetCommand, -3, A | S | L | T, "@admin @slow @dangerous", 0, 0, 0, "2.0.0", "Returns the effective values of configuration parameters."),
    SUB("help", configHelpCommand, 2, L | T, "@slow", 0, 0, 0, "5.0.0", "Returns helpful text about the different subcommands."),
    SUB("resetstat", configResetstatCommand, 2, A | S | L | T, "@admin @slow @dangerous", 0, 0, 0, "2.0.0", "Resets the server's statistics."),
    SUB("rewrite", configRewriteCommand, 2, A | S | L | T, "@admin @slow @dangerous", 0, 0, 0, "2.8.0", "Persists the effective configuration to file."),
    SUB("set", configSetCommand, -4, A | S | L | T, "@admin @slow @dangerous", 0, 0, 0, "2.0.0", "Sets configuration parameters in-flight."),
    END
};

static command commandSubs[] = {
    SUB("count", commandCountCommand, 2, L | T, "@slow @connection", 0, 0, 0, "2.8.13", "Returns a count of commands."),
    SUB("docs", commandDocsCommand, -2, L | T, "@slow @connection", 0, 0, 0, "7.0.0", "Returns documentary information about one, multiple or all commands."),
    SUB("getkeys", commandGetkeysCommand, -4, L | T, "@slow @connection", 0, 0, 0, "2.8.13", "Extracts the key names from an arbitrary command."),
    SUB("help", commandHelpCommand, 2, L | T, "@slow @connection", 0, 0, 0, "5.0.0", "Returns helpful text about the different subcommands."),
    SUB("info", commandInfoCommand, -2, L | T, "@slow @connection", 0, 0, 0, "2.8.13", "Returns information about one, multiple or all commands."),
    SUB("list", commandListCommand, -2, L | T, "@slow @connection", 0, 0, 0, "7.0.0", "Returns a list of command names."),
    END
};

static command slowlogSubs[] = {
    SUB("get", slowlogGetCommand, -2, A | L | T, "@admin @slow @dangerous", 0, 0, 0, "2.2.12", "Returns the slow log's entries."),
    SUB("help", slowlogHelpCommand, 2, L | T, "@slow", 0, 0, 0, "6.2.0", "Show helpful text about the different subcommands"),
    SUB("len", slowlogLenCommand, 2, A | L | T, "@admin @slow @dangerous", 0, 0, 0, "2.2.12", "Returns the number of entries in the slow log."),
    SUB("reset", slowlogResetCommand, 2, A | L | T, "@admin @slow @dangerous", 0, 0, 0, "2.2.12", "Clears all entries from the slow log."),
    END
};

static command pubsubSubs[] = {
    SUB("channels", pubsubChannelsCommand, -2, P | L | T, "@pubsub @slow", 0, 0, 0, "2.8.0", "Returns the active channels."),
    SUB("help", pubsubHelpCommand, 2, L | T, "@slow", 0, 0, 0, "6.2.0", "Returns helpful text about the different subcommands."),
    SUB("numpat", pubsubNumpatCommand, 2, P | L | T, "@pubsub @slow", 0, 0, 0, "2.8.0", "Returns a count of unique pattern subscriptions."),
    SUB("numsub", pubsubNumsubCommand, -2, P | L | T, "@pubsub @slow", 0, 0, 0, "2.8.0", "Returns a count of subscribers to channels."),
    SUB("shardchannels", pubsubShardchannelsCommand, -2, P | L | T, "@pubsub @slow", 0, 0, 0, "7.0.0", "Returns the active shard channels."),
    SUB("shardnumsub", pubsubShardnumsubCommand, -2, P | L | T, "@pubsub @slow", 0, 0, 0, "7.0.0", "Returns the count of subscribers of shard channels."),
    END
};

static command functionSubs[] = {
    SUB("flush", functionFlushCommand, -2, W | S, "@write @slow @scripting", 0, 0, 0, "7.0.0", "Deletes all library and functions."),
    SUB("help", functionHelpCommand, 2, L | T, "@slow @scripting", 0, 0, 0, "7.0.0", "Returns helpful text about the different subcommands."),
    END
};

static command memorySubs[] = {
    SUB("help", memoryHelpCommand, 2, L | T, "@slow", 0, 0, 0, "4.0.0", "Returns helpful text about the different subcommands."),
    SUB("usage", memoryUsageCommand, -3, R, "@read @slow", 2, 2, 1, "4.0.0", "Estimates the memory usage of a key."),
    END
};

static command table[] = {
    /* strings */
    CMD("append", appendCommand, 3, W | M | F, "@write @string @fast", 1, 1, 1, "string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
    CMD("decr", decrCommand, 2, W | M | F, "@write @string @fast", 1, 1, 1, "string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    CMD("decrby", decrbyCommand, 3, W | M | F, "@write @string @fast", 1, 1, 1, "string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
    CMD("get", getCommand, 2, R | F, "@read @string @fast", 1, 1, 1, "string", "1.0.0", "Returns the string value of a key."),
    CMD("getdel", getdelCommand, 2, W | F, "@write @string @fast", 1, 1, 1, "string", "6.2.0", "Returns the string value of a key after deleting the key."),
    CMD("getex", getexCommand, -2, W | F, "@write @string @fast", 1, 1, 1, "string", "6.2.0", "Returns the string value of a key after setting its expiration time."),
    CMD("getrange", getrangeCommand, 4, R, "@read @string @slow", 1, 1, 1, "string", "2.4.0", "Returns a substring of the string stored at a key."),
    CMD("getset", getsetCommand, 3, W | M | F, "@write @string @fast", 1, 1, 1, "string", "1.0.0", "Returns the previous string value of a key after setting it to a new value."),
    CMD("incr", incrCommand, 2, W | M | F, "@write @string @fast", 1, 1, 1, "string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    CMD("incrby", incrbyCommand, 3, W | M | F, "@write @string @fast", 1, 1, 1, "string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    CMD("incrbyfloat", incrbyfloatCommand, 3, W | M | F, "@write @string @fast", 1, 1, 1, "string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    CMD("lcs", lcsCommand, -3, R, "@read @string @slow", 1, 2, 1, "string", "7.0.0", "Finds the longest common substring."),
    CMD("mget", mgetCommand, -2, R | F, "@read @string @fast", 1, -1, 1, "string", "1.0.0", "Atomically returns the string values of one or more keys."),
    CMD("mset", msetCommand, -3, W | M, "@write @string @slow", 1, -1, 2, "string", "1.0.1", "Atomically creates or modifies the string values of one or more keys."),
    CMD("msetnx", msetnxCommand, -3, W | M, "@write @string @slow", 1, -1, 2, "string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
    CMD("psetex", psetexCommand, 4, W | M, "@write @string @slow", 1, 1, 1, "string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."),
    CMD("set", setCommand, -3, W | M, "@write @string @slow", 1, 1, 1, "string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
    CMD("setex", setexCommand, 4, W | M, "@write @string @slow", 1, 1, 1, "string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."),
    CMD("setnx", setnxCommand, 3, W | M | F, "@write @string @fast", 1, 1, 1, "string", "1.0.0", "Set the string value of a key only when the key doesn't exist."),
    CMD("setrange", setrangeCommand, 4, W | M, "@write @string @slow", 1, 1, 1, "string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
    CMD("strlen", strlenCommand, 2, R | F, "@read @string @fast", 1, 1, 1, "string", "2.2.0", "Returns the length of a string value."),
    CMD("substr", getrangeCommand, 4, R, "@read @string @slow", 1, 1, 1, "string", "1.0.0", "Returns a substring from string value."),
    /* sets */
    CMD("sadd", saddCommand, -3, W | M | F | CMD_MEMBER_ARG, "@write @set @fast", 1, 1, 1, "set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist."),
    CMD("scard", scardCommand, 2, R | F, "@read @set @fast", 1, 1, 1, "set", "1.0.0", "Returns the number of members in a set."),
    CMD("sdiff", sdiffCommand, -2, R, "@read @set @slow", 1, -1, 1, "set", "1.0.0", "Returns the difference of multiple sets."),
    CMD("sdiffstore", sdiffstoreCommand, -3, W | M, "@write @set @slow", 1, -1, 1, "set", "1.0.0", "Stores the difference of multiple sets in a key."),
    CMD("sinter", sinterCommand, -2, R, "@read @set @slow", 1, -1, 1, "set", "1.0.0", "Returns the intersect of multiple sets."),
    CMD("sintercard", sintercardCommand, -3, R | CMD_MOVABLE_KEYS, "@read @set @slow", 0, 0, 0, "set", "7.0.0", "Returns the number of members of the intersect of multiple sets."),
    CMD("sinterstore", sinterstoreCommand, -3, W | M, "@write @set @slow", 1, -1, 1, "set", "1.0.0", "Stores the intersect of multiple sets in a key."),
    CMD("sismember", sismemberCommand, 3, R | F | CMD_MEMBER_ARG, "@read @set @fast", 1, 1, 1, "set", "1.0.0", "Determines whether a member belongs to a set."),
    CMD("smembers", smembersCommand, 2, R, "@read @set @slow", 1, 1, 1, "set", "1.0.0", "Returns all members of a set."),
    CMD("smismember", smismemberCommand, -3, R | F | CMD_MEMBER_ARG, "@read @set @fast", 1, 1, 1, "set", "6.2.0", "Determines whether multiple members belong to a set."),
    CMD("smove", smoveCommand, 4, W | F, "@write @set @fast", 1, 2, 1, "set", "1.0.0", "Moves a member from one set to another."),
    CMD("spop", spopCommand, -2, W | F, "@write @set @fast", 1, 1, 1, "set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    CMD("srandmember", srandmemberCommand, -2, R, "@read @set @slow", 1, 1, 1, "set", "1.0.0", "Get one or multiple random members from a set"),
    CMD("srem", sremCommand, -3, W | F | CMD_MEMBER_ARG, "@write @set @fast", 1, 1, 1, "set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed."),
    CMD("sscan", sscanCommand, -3, R, "@read @set @slow", 1, 1, 1, "set", "2.8.0", "Iterates over members of a set."),
    CMD("sunion", sunionCommand, -2, R, "@read @set @slow", 1, -1, 1, "set", "1.0.0", "Returns the union of multiple sets."),
    CMD("sunionstore", sunionstoreCommand, -3, W | M, "@write @set @slow", 1, -1, 1, "set", "1.0.0", "Stores the union of multiple sets in a key."),
    /* hashes */
    CMD("hdel", hdelCommand, -3, W | F | CMD_MEMBER_ARG, "@write @hash @fast", 1, 1, 1, "hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
    CMD("hexists", hexistsCommand, 3, R | F | CMD_MEMBER_ARG, "@read @hash @fast", 1, 1, 1, "hash", "2.0.0", "Determines whether a field exists in a hash."),
    CMD("hget", hgetCommand, 3, R | F | CMD_MEMBER_ARG, "@read @hash @fast", 1, 1, 1, "hash", "2.0.0", "Returns the value of a field in a hash."),
    CMD("hgetall", hgetallCommand, 2, R, "@read @hash @slow", 1, 1, 1, "hash", "2.0.0", "Returns all fields and values in a hash."),
    CMD("hincrby", hincrbyCommand, 4, W | M | F | CMD_MEMBER_ARG, "@write @hash @fast", 1, 1, 1, "hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."),
    CMD("hincrbyfloat", hincrbyfloatCommand, 4, W | M | F | CMD_MEMBER_ARG, "@write @hash @fast", 1, 1, 1, "hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."),
    CMD("hkeys", hkeysCommand, 2, R, "@read @hash @slow", 1, 1, 1, "hash", "2.0.0", "Returns all fields in a hash."),
    CMD("hlen", hlenCommand, 2, R | F, "@read @hash @fast", 1, 1, 1, "hash", "2.0.0", "Returns the number of fields in a hash."),
    CMD("hmget", hmgetCommand, -3, R | F | CMD_MEMBER_ARG, "@read @hash @fast", 1, 1, 1, "hash", "2.0.0", "Returns the values of all fields in a hash."),
    CMD("hmset", hmsetCommand, -4, W | M | F | CMD_MEMBER_ARG, "@write @hash @fast", 1, 1, 1, "hash", "2.0.0", "Sets the values of multiple fields."),
    CMD("hrandfield", hrandfieldCommand, -2, R, "@read @hash @slow", 1, 1, 1, "hash", "6.2.0", "Returns one or more random fields from a hash."),
    CMD("hscan", hscanCommand, -3, R, "@read @hash @slow", 1, 1, 1, "hash", "2.8.0", "Iterates over fields and values of a hash."),
    CMD("hset", hsetCommand, -4, W | M | F | CMD_MEMBER_ARG, "@write @hash @fast", 1, 1, 1, "hash", "2.0.0", "Creates or modifies the value of a field in a hash."),
    CMD("hsetnx", hsetnxCommand, 4, W | M | F | CMD_MEMBER_ARG, "@write @hash @fast", 1, 1, 1, "hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist."),
    CMD("hstrlen", hstrlenCommand, 3, R | F | CMD_MEMBER_ARG, "@read @hash @fast", 1, 1, 1, "hash", "3.2.0", "Returns the length of the value of a field."),
    CMD("hvals", hvalsCommand, 2, R, "@read @hash @slow", 1, 1, 1, "hash", "2.0.0", "Returns all values in a hash."),
    /* bitmaps */
    CMD("bitcount", bitcountCommand, -2, R, "@read @bitmap @slow", 1, 1, 1, "bitmap", "2.6.0", "Counts the number of set bits (population counting) in a string."),
    CMD("bitfield", bitfieldCommand, -2, W | M, "@write @bitmap @slow", 1, 1, 1, "bitmap", "3.2.0", "Performs arbitrary bitfield integer operations on strings."),
    CMD("bitfield_ro", bitfieldroCommand, -2, R | F, "@read @bitmap @fast", 1, 1, 1, "bitmap", "6.0.0", "Performs arbitrary read-only bitfield integer operations on strings."),
    CMD("bitop", bitopCommand, -4, W | M, "@write @bitmap @slow", 2, -1, 1, "bitmap", "2.6.0", "Performs bitwise operations on multiple strings, and stores the result."),
    CMD("bitpos", bitposCommand, -3, R, "@read @bitmap @slow", 1, 1, 1, "bitmap", "2.8.7", "Finds the first set (1) or clear (0) bit in a string."),
    CMD("getbit", getbitCommand, 3, R | F, "@read @bitmap @fast", 1, 1, 1, "bitmap", "2.2.0", "Returns a bit value by offset."),
    CMD("setbit", setbitCommand, 4, W | M, "@write @bitmap @slow", 1, 1, 1, "bitmap", "2.2.0", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."),
    /* keyspace */
    CMD("copy", copyCommand, -3, W | M, "@keyspace @write @slow", 1, 2, 1, "generic", "6.2.0", "Copies the value of a key to a new key."),
    CMD("dbsize", dbsizeCommand, 1, R | F, "@keyspace @read @fast", 0, 0, 0, "server", "1.0.0", "Returns the number of keys in the database."),
    CMD("del", delCommand, -2, W, "@keyspace @write @slow", 1, -1, 1, "generic", "1.0.0", "Deletes one or more keys."),
    CMD("exists", existsCommand, -2, R | F, "@keyspace @read @fast", 1, -1, 1, "generic", "1.0.0", "Determines whether one or more keys exist."),
    CMD("expire", expireCommand, -3, W | F, "@keyspace @write @fast", 1, 1, 1, "generic", "1.0.0", "Sets the expiration time of a key in seconds."),
    CMD("expireat", expireatCommand, -3, W | F, "@keyspace @write @fast", 1, 1, 1, "generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp."),
    CMD("expiretime", expiretimeCommand, 2, R | F, "@keyspace @read @fast", 1, 1, 1, "generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp."),
    CMD("flushall", flushallCommand, -1, W, "@keyspace @write @slow @dangerous", 0, 0, 0, "server", "1.0.0", "Removes all keys from all databases."),
    CMD("flushdb", flushdbCommand, -1, W, "@keyspace @write @slow @dangerous", 0, 0, 0, "server", "1.0.0", "Remove all keys from the current database."),
    CMD("keys", keysCommand, 2, R, "@keyspace @read @slow @dangerous", 0, 0, 0, "generic", "1.0.0", "Returns all key names that match a pattern."),
    CMD("move", moveCommand, 3, W | F, "@keyspace @write @fast", 1, 1, 1, "generic", "1.0.0", "Moves a key to another database."),
    CONTAINER("object", -2, 0, "@slow", "generic", "2.2.3", "A container for object introspection commands.", objectSubs),
    CMD("persist", persistCommand, 2, W | F, "@keyspace @write @fast", 1, 1, 1, "generic", "2.2.0", "Removes the expiration time of a key."),
    CMD("pexpire", pexpireCommand, -3, W | F, "@keyspace @write @fast", 1, 1, 1, "generic", "2.6.0", "Sets the expiration time of a key in milliseconds."),
    CMD("pexpireat", pexpireatCommand, -3, W | F, "@keyspace @write @fast", 1, 1, 1, "generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
    CMD("pexpiretime", pexpiretimeCommand, 2, R | F, "@keyspace @read @fast", 1, 1, 1, "generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
    CMD("pttl", pttlCommand, 2, R | F, "@keyspace @read @fast", 1, 1, 1, "generic", "2.6.0", "Returns the expiration time in milliseconds of a key."),
    CMD("randomkey", randomkeyCommand, 1, R, "@keyspace @read @slow", 0, 0, 0, "generic", "1.0.0", "Returns a random key name from the database."),
    CMD("rename", renameCommand, 3, W, "@keyspace @write @slow", 1, 2, 1, "generic", "1.0.0", "Renames a key and overwrites the destination."),
    CMD("renamenx", renamenxCommand, 3, W | F, "@keyspace @write @fast", 1, 2, 1, "generic", "1.0.0", "Renames a key only when the target key name doesn't exist."),
    CMD("scan", scanCommand, -2, R, "@keyspace @read @slow", 0, 0, 0, "generic", "2.8.0", "Iterates over the key names in the database."),
    CMD("select", selectCommand, 2, L | T | F, "@fast @connection", 0, 0, 0, "connection", "1.0.0", "Changes the selected database."),
    CMD("swapdb", swapdbCommand, 3, W | F, "@keyspace @write @fast @dangerous", 0, 0, 0, "server", "4.0.0", "Swaps two Redis databases."),
    CMD("touch", touchCommand, -2, R | F, "@keyspace @read @fast", 1, -1, 1, "generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    CMD("ttl", ttlCommand, 2, R | F, "@keyspace @read @fast", 1, 1, 1, "generic", "1.0.0", "Returns the expiration time in seconds of a key."),
    CMD("type", typeCommand, 2, R | F, "@keyspace @read @fast", 1, 1, 1, "generic", "1.0.0", "Determines the type of value stored at a key."),
    CMD("unlink", unlinkCommand, -2, W | F, "@keyspace @write @fast", 1, -1, 1, "generic", "4.0.0", "Asynchronously deletes one or more keys."),
    /* connection */
    CMD("auth", authCommand, -2, N | S | L | T | F | CMD_ALLOW_BUSY, "@fast @connection", 0, 0, 0, "connection", "1.0.0", "Authenticates the connection."),
    CONTAINER("client", -2, 0, "@slow", "connection", "2.4.0", "A container for client connection commands.", clientSubs),
    CMD("echo", echoCommand, 2, L | T | F, "@fast @connection", 0, 0, 0, "connection", "1.0.0", "Returns the given string."),
    CMD("hello", helloCommand, -1, N | S | L | T | F | CMD_ALLOW_BUSY, "@fast @connection", 0, 0, 0, "connection", "6.0.0", "Handshakes with the Redis server."),
    CMD("ping", pingCommand, -1, F, "@fast @connection", 0, 0, 0, "connection", "1.0.0", "Returns the server's liveliness response."),
    CMD("quit", quitCommand, -1, N | S | L | T | F | CMD_ALLOW_BUSY, "@fast @connection", 0, 0, 0, "connection", "1.0.0", "Closes the connection."),
    CMD("reset", resetCommand, 1, N | S | L | T | F | CMD_ALLOW_BUSY, "@fast @connection", 0, 0, 0, "connection", "6.2.0", "Resets the connection."),
    /* transactions */
    CMD("discard", discardCommand, 1, S | L | T | F | CMD_ALLOW_BUSY, "@fast @transaction", 0, 0, 0, "transactions", "2.0.0", "Discards a transaction."),
    CMD("exec", execCommand, 1, S | L | T | CMD_SKIP_SLOWLOG, "@slow @transaction", 0, 0, 0, "transactions", "1.2.0", "Executes all commands in a transaction."),
    CMD("multi", multiCommand, 1, S | L | T | F | CMD_ALLOW_BUSY, "@fast @transaction", 0, 0, 0, "transactions", "1.2.0", "Starts a transaction."),
    CMD("unwatch", unwatchCommand, 1, S | L | T | F | CMD_ALLOW_BUSY, "@fast @transaction", 0, 0, 0, "transactions", "2.2.0", "Forgets about watched keys of a transaction."),
    CMD("watch", watchCommand, -2, S | L | T | F | CMD_ALLOW_BUSY, "@fast @transaction", 1, -1, 1, "transactions", "2.2.0", "Monitors changes to keys to determine the execution of a transaction."),
    /* pub/sub */
    CMD("psubscribe", psubscribeCommand, -2, P | S | L | T, "@pubsub @slow", 0, 0, 0, "pubsub", "2.0.0", "Listens for messages published to channels that match one or more patterns."),
    CMD("publish", publishCommand, 3, P | L | T | F, "@pubsub @fast", 0, 0, 0, "pubsub", "2.0.0", "Posts a message to a channel."),
    CONTAINER("pubsub", -2, 0, "@slow", "pubsub", "2.8.0", "A container for Pub/Sub commands.", pubsubSubs),
    CMD("punsubscribe", punsubscribeCommand, -1, P | S | L | T, "@pubsub @slow", 0, 0, 0, "pubsub", "2.0.0", "Stops listening to messages published to channels that match one or more patterns."),
    CMD("spublish", spublishCommand, 3, P | L | T | F, "@pubsub @fast", 1, 1, 1, "pubsub", "7.0.0", "Post a message to a shard channel"),
    CMD("ssubscribe", ssubscribeCommand, -2, P | S | L | T, "@pubsub @slow", 1, -1, 1, "pubsub", "7.0.0", "Listens for messages published to shard channels."),
    CMD("subscribe", subscribeCommand, -2, P | S | L | T, "@pubsub @slow", 0, 0, 0, "pubsub", "2.0.0", "Listens for messages published to channels."),
    CMD("sunsubscribe", sunsubscribeCommand, -1, P | S | L | T, "@pubsub @slow", 1, -1, 1, "pubsub", "7.0.0", "Stops listening to messages posted to shard channels."),
    CMD("unsubscribe", unsubscribeCommand, -1, P | S | L | T, "@pubsub @slow", 0, 0, 0, "pubsub", "2.0.0", "Stops listening to messages posted to channels."),
    /* server */
    CMD("bgsave", bgsaveCommand, -1, A | S | CMD_NO_ASYNC_LOADING, "@admin @slow @dangerous", 0, 0, 0, "server", "1.0.0", "Asynchronously saves the database(s) to disk."),
    CONTAINER_PROC("command", commandCommand, -1, L | T, "@slow @connection", "server", "2.8.13", "Returns detailed information about all commands.", commandSubs),
    CONTAINER("config", -2, 0, "@slow", "server", "2.0.0", "A container for server configuration commands.", configSubs),
    CMD("debug", debugCommand, -2, A | S | L | T, "@admin @slow @dangerous", 0, 0, 0, "server", "1.0.0", "A container for debugging commands."),
    CONTAINER("function", -2, 0, "@slow", "scripting", "7.0.0", "A container for function commands.", functionSubs),
    CMD("info", infoCommand, -1, L | T, "@slow @dangerous", 0, 0, 0, "server", "1.0.0", "Returns information and statistics about the server."),
    CMD("lastsave", lastsaveCommand, 1, L | T | F, "@admin @fast @dangerous", 0, 0, 0, "server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk."),
    CMD("lolwut", lolwutCommand, -1, R | F, "@read @fast", 0, 0, 0, "server", "5.0.0", "Displays computer art and the Redis version"),
    CONTAINER("memory", -2, 0, "@slow", "server", "4.0.0", "A container for memory diagnostics commands.", memorySubs),
    CMD("monitor", monitorCommand, 1, A | S | L | T, "@admin @slow @dangerous", 0, 0, 0, "server", "1.0.0", "Listens for all requests received by the server in real-time."),
    CMD("readonly", readonlyCommand, 1, L | T | F, "@fast @connection", 0, 0, 0, "cluster", "3.0.0", "Enables read-only queries for a connection to a Redis Cluster replica node."),
    CMD("save", saveCommand, 1, A | S | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI, "@admin @slow @dangerous", 0, 0, 0, "server", "1.0.0", "Synchronously saves the database(s) to disk."),
    CMD("shutdown", shutdownCommand, -1, A | S | L | T | CMD_NO_MULTI | CMD_ALLOW_BUSY, "@admin @slow @dangerous", 0, 0, 0, "server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server."),
    CONTAINER("slowlog", -2, 0, "@slow", "server", "2.2.12", "A container for slow log commands.", slowlogSubs),
    CMD("time", timeCommand, 1, L | T | F, "@fast", 0, 0, 0, "server", "2.6.0", "Returns the server time."),
    CMD("replicaof", replicaofCommand, 3, A | S | T | CMD_NO_ASYNC_LOADING, "@admin @slow @dangerous", 0, 0, 0, "server", "5.0.0", "Configures a server as replica of another, or promotes it to a master."),
    CMD("slaveof", replicaofCommand, 3, A | S | T | CMD_NO_ASYNC_LOADING, "@admin @slow @dangerous", 0, 0, 0, "server", "1.0.0", "Sets a Redis server as a replica of another, or promotes it to being a master."),
    CMD("role", roleCommand, 1, S | L | T | F, "@admin @fast @dangerous", 0, 0, 0, "server", "2.8.12", "Returns the replication role."),
    CMD("peer", peerCommand, -2, A | S | L | T | CMD_NO_MULTI, "@admin @slow @dangerous", 0, 0, 0, "server", "7.0.0", "lattice: what peers send each other (handshake, deltas, anti-entropy)."),
    CMD("wait", waitCommand, 3, S, "@slow @connection", 0, 0, 0, "generic", "3.0.0", "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed."),
    END
};

static size_t tableSize;

command *commandTable(void) { return table; }
size_t commandTableSize(void) { return tableSize; }

static int cmpName(const void *a, const void *b) {
    return strcmp(((const command *)a)->name, ((const command *)b)->name);
}

static void cmdSlotsBuild(void);

void commandsInit(void) {
    while (table[tableSize].name) tableSize++;
    qsort(table, tableSize, sizeof(command), cmpName);
    for (size_t i = 0; i < tableSize; i++) {
        command *c = &table[i];
        snprintf(c->fullname, sizeof(c->fullname), "%s", c->name);
        if (!c->subcommands) continue;
        size_t n = 0;
        while (c->subcommands[n].name) n++;
        qsort(c->subcommands, n, sizeof(command), cmpName);
        for (size_t j = 0; j < n; j++) {
            c->subcommands[j].parent = c;
            c->subcommands[j].group = c->group;
            snprintf(c->subcommands[j].fullname, sizeof(c->subcommands[j].fullname), "%s|%s",
                     c->name, c->subcommands[j].name);
        }
    }
    cmdSlotsBuild();
}

/* Binary search over a sorted, NULL-terminated array; the name is compared
 * case-insensitively without copying. */
static command *findIn(command *arr, size_t n, const char *name, size_t len) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *cn = arr[mid].name;
        int r = strncasecmp(name, cn, len);
        if (r == 0 && cn[len] != '\0') r = -1;
        if (r == 0) return &arr[mid];
        if (r < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

command *lookupCommandByName(const char *name, size_t len) {
    const char *bar = memchr(name, '|', len);
    if (!bar) return findIn(table, tableSize, name, len);
    command *parent = findIn(table, tableSize, name, (size_t)(bar - name));
    if (!parent || !parent->subcommands) return NULL;
    size_t n = 0;
    while (parent->subcommands[n].name) n++;
    return findIn(parent->subcommands, n, bar + 1, len - (size_t)(bar - name) - 1);
}

/* Top-level commands by name: an open-addressing table over the lower-cased
 * name, so the hot path costs one short hash instead of a binary search of
 * case-insensitive comparisons. */
#define CMD_SLOTS 512
static command *cmdSlots[CMD_SLOTS];

static uint32_t cmdNameHash(const char *lower, size_t len) {
    uint32_t h = 2166136261u;                   /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)lower[i]) * 16777619u;
    return h;
}

static void cmdSlotsBuild(void) {
    for (size_t i = 0; i < tableSize; i++) {
        uint32_t h = cmdNameHash(table[i].name, strlen(table[i].name)) & (CMD_SLOTS - 1);
        while (cmdSlots[h]) h = (h + 1) & (CMD_SLOTS - 1);
        cmdSlots[h] = &table[i];
    }
}

static command *findTopLevel(const char *name, size_t len) {
    char lower[32];
    if (len == 0 || len >= sizeof(lower)) return NULL;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        lower[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    uint32_t h = cmdNameHash(lower, len) & (CMD_SLOTS - 1);
    for (command *c; (c = cmdSlots[h]) != NULL; h = (h + 1) & (CMD_SLOTS - 1))
        if (strncmp(c->name, lower, len) == 0 && c->name[len] == '\0') return c;   /* stops at a shorter name's end */
    return NULL;
}

command *lookupCommand(arg *argv, int argc) {
    command *c = findTopLevel(argv[0].p, argv[0].len);
    if (!c || !c->subcommands || argc == 1) return c;
    size_t n = 0;
    while (c->subcommands[n].name) n++;
    return findIn(c->subcommands, n, argv[1].p, argv[1].len);
}

/* ---------- error statistics ---------- */

#define MAX_ERROR_KINDS 128
static struct { char name[32]; uint64_t count; } errorKinds[MAX_ERROR_KINDS];
static int errorKindCount;
static int inCall;              /* errors inside call() count as failed calls */
static int callFailed;

void commandErrorReplied(client *c, const char *err, size_t len) {
    (void)c;
    server.stat.totalErrorReplies++;
    size_t n = 0;
    while (n < len && n < 31 && err[n] != ' ') n++;
    int i;
    for (i = 0; i < errorKindCount; i++)
        if (strlen(errorKinds[i].name) == n && memcmp(errorKinds[i].name, err, n) == 0) break;
    if (i == errorKindCount) {
        if (errorKindCount == MAX_ERROR_KINDS) {
            i = -1;
        } else {
            memcpy(errorKinds[i].name, err, n);
            errorKinds[i].name[n] = '\0';
            errorKindCount++;
        }
    }
    if (i >= 0) errorKinds[i].count++;
    if (inCall) callFailed = 1;
}

size_t errorStatsCount(void) { return (size_t)errorKindCount; }
const char *errorStatsName(size_t i, uint64_t *count) {
    *count = errorKinds[i].count;
    return errorKinds[i].name;
}

void resetCommandStats(void) {
    for (size_t i = 0; i < tableSize; i++) {
        command *c = &table[i];
        c->calls = c->failedCalls = c->rejectedCalls = c->usec = 0;
        for (command *s = c->subcommands; s && s->name; s++)
            s->calls = s->failedCalls = s->rejectedCalls = s->usec = 0;
    }
    errorKindCount = 0;
    server.stat.totalErrorReplies = 0;
}

/* ---------- dispatch ---------- */

/* A command refused before running: counted as rejected, and in MULTI it
 * makes EXEC fail. */
static void rejectCommand(client *c, command *cmd, const char *err) {
    if (cmd) cmd->rejectedCalls++;
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
    if (cmd && cmd->proc == execCommand) {
        /* EXEC refused, in MULTI or not: the transaction (if any) is over,
         * and monitors see the EXEC, as in Redis. */
        char msg[600];
        snprintf(msg, sizeof(msg), "EXECABORT Transaction discarded because of: %s",
                 strncmp(err, "ERR ", 4) == 0 ? err + 4 : err);
        addReplyError(c, msg);
        discardTransaction(c);
        if (monitorsActive()) monitorFeed(c, c->dbid);
        return;
    }
    addReplyError(c, err);
}

void call(client *c, command *cmd) {
    int64_t start = ustime();
    /* A command sees the clock as it starts (a transaction's as EXEC starts),
     * which also stamps its writes without another clock read. */
    if (!inCall) updateCachedTimeWith(start);
    int prevIn = inCall, prevFailed = callFailed;
    inCall = 1;
    callFailed = 0;
    c->cmd = cmd;
    c->flags |= CLIENT_EXECUTING;
    cmd->proc(c);
    c->flags &= ~CLIENT_EXECUTING;
    /* Monitors see the command after it ran, with the db it left selected. */
    if (monitorsActive() && !(cmd->flags & (CMD_ADMIN | CMD_SKIP_MONITOR)))
        monitorFeed(c, c->dbid);
    int64_t dur = ustime() - start;
    cmd->calls++;
    cmd->usec += (uint64_t)dur;
    if (callFailed) cmd->failedCalls++;
    inCall = prevIn;
    callFailed = prevFailed;
    c->totalCommands++;
    server.stat.numcommands++;
    if (!(cmd->flags & CMD_SKIP_SLOWLOG)) slowlogPushEntryIfNeeded(c, dur);
}

static int isPubsubContextAllowed(command *cmd) {
    commandProc *p = cmd->proc;
    return p == pingCommand || p == subscribeCommand || p == unsubscribeCommand ||
           p == psubscribeCommand || p == punsubscribeCommand || p == ssubscribeCommand ||
           p == sunsubscribeCommand || p == quitCommand || p == resetCommand;
}

int processCommand(client *c) {
    c->cmd = NULL;
    command *cmd = lookupCommand(c->argv, c->argc);
    c->lastcmd = cmd;   /* as Redis: CLIENT LIST shows it from lookup on (NULL if unknown), queued or refused */
    char err[512];
    if (!cmd) {
        command *parent = findIn(table, tableSize, c->argv[0].p, c->argv[0].len);
        if (parent && parent->subcommands) {
            char up[64];
            snprintf(up, sizeof(up), "%s", parent->name);
            for (char *p = up; *p; p++) if (*p >= 'a' && *p <= 'z') *p -= 32;
            snprintf(err, sizeof(err), "ERR unknown subcommand '%.*s'. Try %s HELP.",
                     (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p, up);
        } else {
            char args[256];
            size_t al = 0;
            args[0] = '\0';
            for (int i = 1; i < c->argc && al < 128; i++) {
                int room = 128 - (int)al;
                int w = snprintf(args + al, sizeof(args) - al, "'%.*s' ",
                                 (int)(c->argv[i].len < (size_t)room ? c->argv[i].len : (size_t)room), c->argv[i].p);
                if (w > 0) al += (size_t)w;
                if (al >= sizeof(args)) al = sizeof(args) - 1;
            }
            snprintf(err, sizeof(err), "ERR unknown command '%.*s', with args beginning with: %s",
                     (int)(c->argv[0].len > 128 ? 128 : c->argv[0].len), c->argv[0].p, args);
        }
        rejectCommand(c, NULL, err);
        return CMD_DONE;
    }
    c->cmd = cmd;
    if ((cmd->arity > 0 && cmd->arity != c->argc) || (c->argc < -cmd->arity)) {
        snprintf(err, sizeof(err), "ERR wrong number of arguments for '%s' command", cmd->fullname);
        rejectCommand(c, cmd, err);
        return CMD_DONE;
    }
    if (!(c->flags & CLIENT_AUTHENTICATED) && !(cmd->flags & CMD_NO_AUTH)) {
        rejectCommand(c, cmd, "NOAUTH Authentication required.");
        return CMD_DONE;
    }
    if ((c->flags & CLIENT_MULTI) && (cmd->flags & CMD_NO_MULTI)) {
        rejectCommand(c, cmd, "ERR Command not allowed inside a transaction");
        return CMD_DONE;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2 && !isPubsubContextAllowed(cmd)) {
        snprintf(err, sizeof(err),
                 "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                 cmd->fullname);
        rejectCommand(c, cmd, err);
        return CMD_DONE;
    }
    if (clientsArePaused(0) && !(c->flags & CLIENT_MULTI)) {
        int isWrite = (cmd->flags & CMD_WRITE) || cmd->proc == execCommand;
        /* PUBLISH and EXPIRE-like side effects count as writes under WRITE pause in Redis;
         * we pause every write command and, under ALL, everything. */
        if (clientsArePaused(1) && (server.pauseAll || isWrite || cmd->proc == publishCommand)) {
            pauseClientNow(c);
            return CMD_CLIENT_PAUSED;
        }
    }
    if ((c->flags & CLIENT_MULTI) && cmd->proc != execCommand && cmd->proc != discardCommand &&
        cmd->proc != multiCommand && cmd->proc != watchCommand && cmd->proc != quitCommand &&
        cmd->proc != resetCommand) {
        queueMultiCommand(c, cmd);
        addReplyRaw(c, "+QUEUED\r\n", 9);
        return CMD_DONE;
    }
    call(c, cmd);
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
        c->flags |= CLIENT_REPLY_SKIP;
    } else if (c->flags & CLIENT_REPLY_SKIP) {
        c->flags &= ~CLIENT_REPLY_SKIP;
    }
    if (c->flags & CLIENT_CLOSE_ASAP) return CMD_CLIENT_FREED;
    return CMD_DONE;
}

/* ---------- CLIENT PAUSE ---------- */

static client *pausedHead;

void pauseClientNow(client *c) {
    c->flags |= CLIENT_PAUSED;
    c->pausedNext = pausedHead;
    pausedHead = c;
}

void unpauseRemove(client *c) {
    for (client **p = &pausedHead; *p; p = &(*p)->pausedNext) {
        if (*p == c) {
            *p = c->pausedNext;
            break;
        }
    }
    c->flags &= ~CLIENT_PAUSED;
}

void pauseClients(int64_t untilMs, int all) {
    /* A new pause never shortens or weakens one in force. */
    if ((uint64_t)untilMs > server.pauseEndMs) server.pauseEndMs = (uint64_t)untilMs;
    if (all) server.pauseAll = 1;
}

void unpauseClients(void) {
    server.pauseEndMs = 0;
    server.pauseAll = 0;
    client *list = pausedHead;
    pausedHead = NULL;
    /* Resume in arrival order. */
    client *rev = NULL;
    while (list) {
        client *n = list->pausedNext;
        list->pausedNext = rev;
        rev = list;
        list = n;
    }
    while (rev) {
        client *n = rev->pausedNext;
        rev->flags &= ~CLIENT_PAUSED;
        rev->pausedNext = NULL;
        clientResumeReading(rev);
        rev = n;
    }
}

void pauseCron(void) {
    if (server.pauseEndMs && (uint64_t)server.mstime >= server.pauseEndMs) unpauseClients();
}

int clientsArePaused(int forWrite) {
    (void)forWrite;
    return server.pauseEndMs != 0 && (uint64_t)server.mstime < server.pauseEndMs;
}
