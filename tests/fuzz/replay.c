/* replay.c - runs a fuzz target's LLVMFuzzerTestOneInput on saved inputs,
 * without libFuzzer, so that `make test` replays the checked-in corpus and
 * the crash regressions with any compiler (built with ASan + UBSan).
 *
 *   replay_<target> PATH...     each PATH a file, or a directory whose files
 *                               (recursively, in name order) are run
 *
 * Exits 0 when every input ran clean.  An input that trips a check, a
 * sanitizer or a leak stops the run with its path on stderr. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define REPLAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REPLAY_ASAN 1
#endif
#endif
#ifdef REPLAY_ASAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char current[4096];   /* the input running, for the death reports */
static long ran;

static void sayCurrent(void) {
    if (!current[0]) return;
    static const char what[] = "replay: failing input: ";
    ssize_t ignored = write(2, what, sizeof(what) - 1);
    ignored = write(2, current, strlen(current));
    ignored = write(2, "\n", 1);
    (void)ignored;
}

static void onSignal(int sig) {
    sayCurrent();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int runFile(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) abort();
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
    }
    fclose(f);
    snprintf(current, sizeof(current), "%s", path);
    /* A copy of exactly len bytes, so that reading past the input trips ASan. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) abort();
    if (len) memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
#ifdef REPLAY_ASAN
    if (__lsan_do_recoverable_leak_check()) {
        sayCurrent();
        _exit(1);   /* not exit: the leak check at exit would report it again */
    }
#endif
    current[0] = '\0';
    ran++;
    return 0;
}

static int byName(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int runPath(const char *path) {
    struct stat st;
    if (stat(path, &st) < 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return runFile(path);
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;   /* ., .. and hidden files */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names) abort();
        }
        size_t len = strlen(path) + 1 + strlen(e->d_name) + 1;
        names[n] = malloc(len);
        if (!names[n]) abort();
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof(*names), byName);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (runPath(names[i]) < 0) rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    signal(SIGABRT, onSignal);
    signal(SIGSEGV, onSignal);
    signal(SIGBUS, onSignal);
    signal(SIGFPE, onSignal);
#ifdef REPLAY_ASAN
    __sanitizer_set_death_callback(sayCurrent);
#endif
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (runPath(argv[i]) < 0) rc = 1;
    printf("%s: %ld inputs ran clean\n", argv[0], ran);
    return rc;
}
