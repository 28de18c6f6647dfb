/* cmd_command.c - COMMAND and its subcommands: the command table described to
 * clients (redis-cli hints, cluster-unaware clients finding keys). */
#include "cmdlist.h"
#include "commands.h"
#include "networking.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The flags COMMAND INFO shows, in Redis 7.0's order.  Redis hides
 * may_replicate and sentinel; the flags lattice does not define (yet) are
 * shown as soon as commands.h defines them. */
static const struct { uint32_t flag; const char *name; } flagNames[] = {
    {CMD_WRITE, "write"}, {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"}, {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"}, {CMD_NOSCRIPT, "noscript"}, {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"}, {CMD_SKIP_MONITOR, "skip_monitor"}, {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_FAST, "fast"}, {CMD_NO_AUTH, "no_auth"},
#ifdef CMD_NO_MANDATORY_KEYS
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
#endif
#ifdef CMD_NO_ASYNC_LOADING
    {CMD_NO_ASYNC_LOADING, "no_async_loading"},
#endif
    {CMD_NO_MULTI, "no_multi"},
#ifdef CMD_MOVABLE_KEYS
    {CMD_MOVABLE_KEYS, "movablekeys"},
#endif
    {CMD_ALLOW_BUSY, "allow_busy"}, {0, NULL}};

static long countSubs(const command *c) {
    long n = 0;
    for (command *s = c->subcommands; s && s->name; s++) n++;
    return n;
}

static void replyWords(client *c, const char *words) {
    /* a space-separated list as a set of status replies */
    long n = 0;
    for (const char *p = words; p && *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    addReplySetLen(c, n);
    for (const char *p = words; p && *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ' ') e++;
        addReplyStatusLen(c, p, (size_t)(e - p));
        p = e;
    }
}

static void replyCommandInfo(client *c, const command *cmd) {
    addReplyArrayLen(c, 10);
    addReplyBulkCString(c, cmd->fullname);
    addReplyLongLong(c, cmd->arity);
    long nflags = 0;
    for (int i = 0; flagNames[i].name; i++) if (cmd->flags & flagNames[i].flag) nflags++;
    addReplySetLen(c, nflags);
    for (int i = 0; flagNames[i].name; i++) if (cmd->flags & flagNames[i].flag) addReplyStatus(c, flagNames[i].name);
    addReplyLongLong(c, cmd->firstkey);
    addReplyLongLong(c, cmd->lastkey);
    addReplyLongLong(c, cmd->keystep);
    replyWords(c, cmd->acl);
    addReplySetLen(c, 0);     /* tips */
    if (cmd->firstkey > 0) {
        /* One key spec describing the range, as Redis derives for simple commands. */
        addReplyArrayLen(c, 1);
        addReplyMapLen(c, 3);
        addReplyBulkCString(c, "flags");
        addReplySetLen(c, 0);
        addReplyBulkCString(c, "begin_search");
        addReplyMapLen(c, 2);
        addReplyBulkCString(c, "type");
        addReplyBulkCString(c, "index");
        addReplyBulkCString(c, "spec");
        addReplyMapLen(c, 1);
        addReplyBulkCString(c, "index");
        addReplyLongLong(c, cmd->firstkey);
        addReplyBulkCString(c, "find_keys");
        addReplyMapLen(c, 2);
        addReplyBulkCString(c, "type");
        addReplyBulkCString(c, "range");
        addReplyBulkCString(c, "spec");
        addReplyMapLen(c, 3);
        addReplyBulkCString(c, "lastkey");
        addReplyLongLong(c, cmd->lastkey < 0 ? cmd->lastkey : cmd->lastkey - cmd->firstkey);
        addReplyBulkCString(c, "keystep");
        addReplyLongLong(c, cmd->keystep);
        addReplyBulkCString(c, "limit");
        addReplyLongLong(c, 0);
    } else {
        addReplyArrayLen(c, 0);
    }
    addReplyArrayLen(c, countSubs(cmd));
    for (command *s = cmd->subcommands; s && s->name; s++) replyCommandInfo(c, s);
}

static void replyCommandDocs(client *c, const command *cmd) {
    long fields = 3 + (cmd->subcommands ? 1 : 0);
    addReplyMapLen(c, fields);
    addReplyBulkCString(c, "summary");
    addReplyBulkCString(c, cmd->summary ? cmd->summary : "");
    addReplyBulkCString(c, "since");
    addReplyBulkCString(c, cmd->since ? cmd->since : "");
    addReplyBulkCString(c, "group");
    addReplyBulkCString(c, cmd->group ? cmd->group : "generic");
    if (cmd->subcommands) {
        addReplyBulkCString(c, "subcommands");
        addReplyMapLen(c, countSubs(cmd));
        for (command *s = cmd->subcommands; s->name; s++) {
            addReplyBulkCString(c, s->fullname);
            replyCommandDocs(c, s);
        }
    }
}

void commandCommand(client *c) {
    command *t = commandTable();
    size_t n = commandTableSize();
    addReplyArrayLen(c, (long)n);
    for (size_t i = 0; i < n; i++) replyCommandInfo(c, &t[i]);
}

void commandCountCommand(client *c) { addReplyLongLong(c, (long long)commandTableSize()); }

void commandInfoCommand(client *c) {
    if (c->argc == 2) {
        commandCommand(c);
        return;
    }
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        command *cmd = lookupCommandByName(c->argv[j].p, c->argv[j].len);
        if (cmd) replyCommandInfo(c, cmd);
        else addReplyNull(c);     /* $-1 in RESP2, as Redis 7.0 (not *-1) */
    }
}

void commandDocsCommand(client *c) {
    command *t = commandTable();
    size_t n = commandTableSize();
    if (c->argc == 2) {
        addReplyMapLen(c, (long)n);
        for (size_t i = 0; i < n; i++) {
            addReplyBulkCString(c, t[i].name);
            replyCommandDocs(c, &t[i]);
        }
        return;
    }
    size_t at = addReplyDeferredLen(c);
    long found = 0;
    for (int j = 2; j < c->argc; j++) {
        command *cmd = lookupCommandByName(c->argv[j].p, c->argv[j].len);
        if (!cmd) continue;
        addReplyBulkCString(c, cmd->fullname);
        replyCommandDocs(c, cmd);
        found++;
    }
    setDeferredMapLen(c, at, found);
}

void commandGetkeysCommand(client *c) {
    arg *argv = c->argv + 2;
    int argc = c->argc - 2;
    command *cmd = lookupCommand(argv, argc);
    if (!cmd) {
        addReplyError(c, "ERR Invalid command specified");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        addReplyError(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    if (cmd->firstkey <= 0) {
        addReplyError(c, "ERR The command has no key arguments");
        return;
    }
    int last = cmd->lastkey < 0 ? argc + cmd->lastkey : cmd->lastkey;
    size_t at = addReplyDeferredLen(c);
    long n = 0;
    for (int j = cmd->firstkey; j <= last && j < argc; j += cmd->keystep) {
        addReplyBulk(c, argv[j].p, argv[j].len);
        n++;
    }
    setDeferredArrayLen(c, at, n);
}

static int listMatches(const command *cmd, int filter, const arg *val) {
    if (filter == 0) return 1;
    if (filter == 1) return stringmatchlen(val->p, val->len, cmd->fullname, strlen(cmd->fullname), 1);
    if (filter == 2) {
        char cat[64];
        snprintf(cat, sizeof(cat), "@%.*s", (int)(val->len < 60 ? val->len : 60), val->p);
        const char *hit = cmd->acl ? strcasestr(cmd->acl, cat) : NULL;
        return hit && (hit[strlen(cat)] == ' ' || hit[strlen(cat)] == '\0');
    }
    return 0;   /* module: lattice has none */
}

void commandListCommand(client *c) {
    int filter = 0;
    arg *val = NULL;
    if (c->argc == 5 && argEq(&c->argv[2], "filterby")) {
        val = &c->argv[4];
        if (argEq(&c->argv[3], "pattern")) filter = 1;
        else if (argEq(&c->argv[3], "aclcat")) filter = 2;
        else if (argEq(&c->argv[3], "module")) filter = 3;
        else { addReplyErrorSyntax(c); return; }
    } else if (c->argc != 2) {
        addReplyErrorSyntax(c);
        return;
    }
    command *t = commandTable();
    size_t at = addReplyDeferredLen(c);
    long n = 0;
    for (size_t i = 0; i < commandTableSize(); i++) {
        if (listMatches(&t[i], filter, val)) {
            addReplyBulkCString(c, t[i].fullname);
            n++;
        }
        for (command *s = t[i].subcommands; s && s->name; s++) {
            if (listMatches(s, filter, val)) {
                addReplyBulkCString(c, s->fullname);
                n++;
            }
        }
    }
    setDeferredArrayLen(c, at, n);
}

void commandHelpCommand(client *c) {
    static const char *help[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        NULL};
    addReplyHelp(c, help);
}
