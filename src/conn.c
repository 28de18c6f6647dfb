/* conn.c - connection commands: PING ECHO QUIT RESET AUTH HELLO and the
 * CLIENT family.  They change only the calling client's state (or, for
 * CLIENT KILL/PAUSE, other clients'), never the keyspace. */
#include "cmdlist.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "multi.h"
#include "networking.h"
#include "pubsub.h"
#include "introspect.h"
#include "server.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pingCommand(client *c) {
    if (c->argc > 2) {
        addReplyErrorArity(c);
        return;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2) {
        addReplyArrayLen(c, 2);
        addReplyBulk(c, "pong", 4);
        if (c->argc == 1) addReplyBulk(c, "", 0);
        else addReplyBulk(c, c->argv[1].p, c->argv[1].len);
        return;
    }
    if (c->argc == 1) addReplyRaw(c, "+PONG\r\n", 7);
    else addReplyBulk(c, c->argv[1].p, c->argv[1].len);
}

void echoCommand(client *c) { addReplyBulk(c, c->argv[1].p, c->argv[1].len); }

void quitCommand(client *c) {
    addReplyOK(c);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static int passwordRequired(void) { return cfg.requirepass && cfg.requirepass[0]; }

/* The only user: "default".  User names are case-sensitive, as in Redis. */
static int isDefaultUser(const arg *user) { return user->len == 7 && memcmp(user->p, "default", 7) == 0; }

/* Returns 1 if user/pass are valid for the default user. */
static int checkCredentials(const arg *user, const arg *pass) {
    if (user && !isDefaultUser(user)) return 0;
    if (!passwordRequired()) return 1;   /* nopass: any password works */
    size_t n = strlen(cfg.requirepass);
    /* Constant-time comparison over the configured password's length. */
    unsigned diff = (unsigned)(pass->len ^ n);
    for (size_t i = 0; i < n; i++) diff |= (unsigned)(cfg.requirepass[i] ^ (i < pass->len ? pass->p[i] : 0));
    return diff == 0;
}

/* AUTH [user] password.  The credentials are redacted (MONITOR, SLOWLOG
 * show "(redacted)") whatever the outcome, once the syntax is valid. */
void authCommand(client *c) {
    if (c->argc > 3) {
        addReplyErrorSyntax(c);
        return;
    }
    arg userArg = c->argv[1], passArg = c->argv[c->argc - 1];
    arg *user = c->argc == 3 ? &userArg : NULL;
    arg *pass = &passArg;
    for (int j = 1; j < c->argc; j++) redactClientArg(c, j);
    if (!user && !passwordRequired()) {
        addReplyError(c, "ERR AUTH <password> called without any password configured for the default user. "
                         "Are you sure your configuration is correct?");
        return;
    }
    if (checkCredentials(user, pass)) {
        c->flags |= CLIENT_AUTHENTICATED;
        addReplyOK(c);
    } else {
        addReplyError(c, "WRONGPASS invalid username-password pair or user is disabled.");
    }
}

static int validClientName(const arg *a) {
    for (size_t i = 0; i < a->len; i++)
        if (a->p[i] < '!' || a->p[i] > '~') return 0;
    return 1;
}

static void setClientName(client *c, const arg *a) {
    free(c->name);
    c->name = a->len ? strndup(a->p, a->len) : NULL;
}

/* HELLO [protover [AUTH user pass] [SETNAME name]].  As in Redis 7.0 the
 * options take effect while they are parsed, left to right: AUTH
 * authenticates (and its credentials are redacted) and SETNAME renames the
 * client even if a later option is wrong or the client turns out not to be
 * authenticated; only the protocol switch waits for everything to succeed. */
void helloCommand(client *c) {
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (getLongLongFromArg(c, &c->argv[1], &ver, "ERR Protocol version is not an integer or out of range") < 0)
            return;
        next = 2;
        if (ver < 2 || ver > 3) {
            addReplyError(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (int j = next; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (argEq(&c->argv[j], "auth") && more >= 2) {
            arg user = c->argv[j + 1], pass = c->argv[j + 2];
            redactClientArg(c, j + 1);
            redactClientArg(c, j + 2);
            if (!checkCredentials(&user, &pass)) {
                addReplyError(c, "WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            c->flags |= CLIENT_AUTHENTICATED;
            j += 2;
        } else if (argEq(&c->argv[j], "setname") && more >= 1) {
            if (!validClientName(&c->argv[j + 1])) {
                addReplyError(c, "ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            setClientName(c, &c->argv[j + 1]);
            j++;
        } else {
            addReplyErrorFormat(c, "ERR Syntax error in HELLO option '%.*s'", (int)c->argv[j].len, c->argv[j].p);
            return;
        }
    }
    if (!(c->flags & CLIENT_AUTHENTICATED)) {
        addReplyError(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                         "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
                         "select the RESP protocol version at the same time");
        return;
    }
    if (ver) c->resp = (int)ver;
    addReplyMapLen(c, 7);
    addReplyBulkCString(c, "server");
    addReplyBulkCString(c, "redis");
    addReplyBulkCString(c, "version");
    addReplyBulkCString(c, LATTICE_VERSION);
    addReplyBulkCString(c, "proto");
    addReplyLongLong(c, c->resp);
    addReplyBulkCString(c, "id");
    addReplyLongLong(c, (long long)c->id);
    addReplyBulkCString(c, "mode");
    addReplyBulkCString(c, "standalone");
    addReplyBulkCString(c, "role");
    addReplyBulkCString(c, "master");
    addReplyBulkCString(c, "modules");
    addReplyArrayLen(c, 0);
}

void resetCommand(client *c) {
    discardTransaction(c);
    pubsubFreeClient(c);
    monitorRemove(c);
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT | CLIENT_NO_EVICT);
    c->db = dbAt(0);
    c->dbid = 0;
    c->resp = 2;
    free(c->name);
    c->name = NULL;
    if (passwordRequired()) c->flags &= ~CLIENT_AUTHENTICATED;
    else c->flags |= CLIENT_AUTHENTICATED;
    addReplyStatus(c, "RESET");
}

/* ---------- CLIENT ---------- */

void clientIdCommand(client *c) { addReplyLongLong(c, (long long)c->id); }

void clientSetnameCommand(client *c) {
    if (!validClientName(&c->argv[2])) {
        addReplyError(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    setClientName(c, &c->argv[2]);
    addReplyOK(c);
}

void clientGetnameCommand(client *c) {
    if (c->name) addReplyBulkCString(c, c->name);
    else addReplyNull(c);
}

static int clientTypeMatches(client *c, const arg *type, int *bad) {
    *bad = 0;
    if (argEq(type, "normal")) return !(c->flags & (CLIENT_PUBSUB));
    if (argEq(type, "pubsub")) return (c->flags & CLIENT_PUBSUB) != 0;
    if (argEq(type, "master") || argEq(type, "replica") || argEq(type, "slave")) return 0;
    *bad = 1;
    return 0;
}

static void appendClientInfo(char **buf, size_t *len, size_t *cap, client *c) {
    if (*cap - *len < 1024) {
        *cap = (*cap + 1024) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf) abort();
    }
    *len += catClientInfo(*buf + *len, *cap - *len - 1, c);
    (*buf)[(*len)++] = '\n';
}

static client *lookupClientById(uint64_t id) {
    for (client *x = clientList(); x; x = x->next)
        if (x->id == id) return x;
    return NULL;
}

/* CLIENT LIST [TYPE type | ID id...]: one line per client in ascending id
 * order; with ID, the listed clients in the order the ids are given (ids that
 * match no client, 0 and negative ones included, are skipped). */
void clientListCommand(client *c) {
    arg *type = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (c->argc == 4 && argEq(&c->argv[2], "type")) {
        type = &c->argv[3];
        int bad;
        clientTypeMatches(c, type, &bad);
        if (bad) {
            addReplyErrorFormat(c, "ERR Unknown client type '%.*s'", (int)type->len, type->p);
            return;
        }
    } else if (c->argc > 3 && argEq(&c->argv[2], "id")) {
        for (int j = 3; j < c->argc; j++) {
            long long id;
            if (!string2ll(c->argv[j].p, c->argv[j].len, &id)) {
                addReplyError(c, "ERR Invalid client ID");
                free(buf);
                return;
            }
            client *x = id > 0 ? lookupClientById((uint64_t)id) : NULL;
            if (x) appendClientInfo(&buf, &len, &cap, x);
        }
        addReplyVerbatim(c, buf ? buf : "", len, "txt");
        free(buf);
        return;
    } else if (c->argc != 2) {
        addReplyErrorSyntax(c);
        return;
    }
    for (client *x = clientList(); x; x = x->next) {
        int bad;
        if (type && !clientTypeMatches(x, type, &bad)) continue;
        appendClientInfo(&buf, &len, &cap, x);
    }
    addReplyVerbatim(c, buf ? buf : "", len, "txt");
    free(buf);
}

void clientInfoCommand(client *c) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    appendClientInfo(&buf, &len, &cap, c);
    addReplyVerbatim(c, buf, len, "txt");
    free(buf);
}

void clientKillCommand(client *c) {
    if (c->argc == 3) {
        /* Old form: CLIENT KILL addr:port */
        for (client *x = clientList(); x; x = x->next) {
            if (strlen(x->addr) == c->argv[2].len && memcmp(x->addr, c->argv[2].p, c->argv[2].len) == 0) {
                if (x == c) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
                else freeClientAsync(x);
                addReplyOK(c);
                return;
            }
        }
        addReplyError(c, "ERR No such client");
        return;
    }
    /* Filters, checked left to right: the first bad one is the error. */
    arg *addr = NULL, *laddr = NULL, *type = NULL;
    long long id = 0;
    int skipme = 1;
    for (int j = 2; j < c->argc; j += 2) {
        if (j + 1 >= c->argc) {
            addReplyErrorSyntax(c);
            return;
        }
        arg *o = &c->argv[j], *v = &c->argv[j + 1];
        if (argEq(o, "id")) {
            if (!string2ll(v->p, v->len, &id) || id <= 0) {
                addReplyError(c, "ERR client-id should be greater than 0");
                return;
            }
        } else if (argEq(o, "type")) {
            int bad;
            clientTypeMatches(c, v, &bad);
            if (bad) {
                addReplyErrorFormat(c, "ERR Unknown client type '%.*s'", (int)v->len, v->p);
                return;
            }
            type = v;
        } else if (argEq(o, "addr")) {
            addr = v;
        } else if (argEq(o, "laddr")) {
            laddr = v;
        } else if (argEq(o, "user")) {
            /* The only user is "default", and every client is its. */
            if (!isDefaultUser(v)) {
                addReplyErrorFormat(c, "ERR No such user '%.*s'", (int)v->len, v->p);
                return;
            }
        } else if (argEq(o, "skipme")) {
            if (argEq(v, "yes")) skipme = 1;
            else if (argEq(v, "no")) skipme = 0;
            else { addReplyErrorSyntax(c); return; }
        } else {
            addReplyErrorSyntax(c);
            return;
        }
    }
    long long killed = 0;
    for (client *x = clientList(); x; x = x->next) {
        int bad;
        if (addr && !(strlen(x->addr) == addr->len && memcmp(x->addr, addr->p, addr->len) == 0)) continue;
        if (laddr && !(strlen(x->laddr) == laddr->len && memcmp(x->laddr, laddr->p, laddr->len) == 0)) continue;
        if (type && !clientTypeMatches(x, type, &bad)) continue;
        if (id && x->id != (uint64_t)id) continue;
        if (x == c && skipme) continue;
        if (x == c) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        else freeClientAsync(x);
        killed++;
    }
    addReplyLongLong(c, killed);
}

void clientReplyCommand(client *c) {
    arg *a = &c->argv[2];
    if (argEq(a, "on")) {
        c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT);
        addReplyOK(c);
    } else if (argEq(a, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (argEq(a, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        addReplyErrorSyntax(c);
    }
}

void clientPauseCommand(client *c) {
    long long timeout;
    if (getLongLongFromArg(c, &c->argv[2], &timeout, "ERR timeout is not an integer or out of range") < 0) return;
    if (timeout < 0) {
        addReplyError(c, "ERR timeout is negative");
        return;
    }
    int all = 1;
    if (c->argc == 4) {
        if (argEq(&c->argv[3], "write")) all = 0;
        else if (!argEq(&c->argv[3], "all")) {
            addReplyError(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    } else if (c->argc > 4) {
        addReplyErrorSyntax(c);
        return;
    }
    pauseClients(server.mstime + timeout, all);
    addReplyOK(c);
}

void clientUnpauseCommand(client *c) {
    unpauseClients();
    addReplyOK(c);
}

void clientNoEvictCommand(client *c) {
    if (argEq(&c->argv[2], "on")) c->flags |= CLIENT_NO_EVICT;
    else if (argEq(&c->argv[2], "off")) c->flags &= ~CLIENT_NO_EVICT;
    else { addReplyErrorSyntax(c); return; }
    addReplyOK(c);
}

void clientGetredirCommand(client *c) { addReplyLongLong(c, -1); }

void clientTrackinginfoCommand(client *c) {
    addReplyMapLen(c, 3);
    addReplyBulkCString(c, "flags");
    addReplySetLen(c, 1);
    addReplyBulkCString(c, "off");
    addReplyBulkCString(c, "redirect");
    addReplyLongLong(c, -1);
    addReplyBulkCString(c, "prefixes");
    addReplyArrayLen(c, 0);
}

void clientUnblockCommand(client *c) { addReplyLongLong(c, 0); }

void clientHelpCommand(client *c) {
    static const char *help[] = {
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        NULL};
    addReplyHelp(c, help);
}
