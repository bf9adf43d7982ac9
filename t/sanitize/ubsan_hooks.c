/* UBSan hooks for nginx, preloaded by t/sanitize/asan.sh after libasan and
 * before libubsan (so that these definitions win over libubsan's weak ones).
 *
 * gcc's UBSan runtime (libubsan, separate from libasan) does not fit nginx:
 *
 * - It initialises at its first report and reads its options then, from
 *   /proc/self/environ. In a worker that memory holds the process title:
 *   ngx_setproctitle() wrote "nginx: worker process" over it. So UBSan ran
 *   with its defaults, log_path=stderr included; and its call that applies
 *   log_path resolves to libasan's copy (__sanitizer_set_report_path, first in
 *   the process), so from then on ASan's reports of that worker went to
 *   stderr too. __ubsan_default_options() below hands it the $UBSAN_OPTIONS
 *   the master started with (asan.sh makes its log_path the same as ASan's,
 *   which keeps ASan's reports in their files).
 *
 * - For the same reason UBSan's own report text always goes to stderr, which
 *   nginx has pointed at the error log of the test's scratch prefix (deleted
 *   when the test ends). __ubsan_on_report() below, which the runtime calls
 *   for each report, appends the report and a backtrace to
 *   $SPOTAUTH_UBSAN_REPORT_DIR/ubsan.PID instead, where asan.sh looks.
 */
#define _GNU_SOURCE
#include <execinfo.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void __ubsan_get_current_report_data(const char **kind, const char **message, const char **filename,
                                     unsigned *line, unsigned *column, char **address)
    __attribute__((weak));

static char options[4096];
static char report_dir[4096];

/* Runs when the master starts, while the environment is still readable. */
__attribute__((constructor)) static void save_environment(void) {
    const char *value = getenv("UBSAN_OPTIONS");
    if (value != NULL) {
        strncpy(options, value, sizeof options - 1);
    }
    value = getenv("SPOTAUTH_UBSAN_REPORT_DIR");
    if (value != NULL) {
        strncpy(report_dir, value, sizeof report_dir - 1);
    }
}

const char *__ubsan_default_options(void) { return options; }

void __ubsan_on_report(void) {
    if (report_dir[0] == '\0' || __ubsan_get_current_report_data == NULL) {
        return;
    }
    const char *kind = "", *message = "", *filename = "";
    unsigned line = 0, column = 0;
    char *address = NULL;
    __ubsan_get_current_report_data(&kind, &message, &filename, &line, &column, &address);

    char path[4200];
    snprintf(path, sizeof path, "%s/ubsan.%d", report_dir, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return;
    }
    dprintf(fd, "%s:%u:%u: runtime error: %s (%s)\n", filename, line, column, message, kind);
    void *frames[64];
    int count = backtrace(frames, 64);
    backtrace_symbols_fd(frames, count, fd);
    dprintf(fd, "\n");
    close(fd);
}
