/* sandbox: attempts to leave a preopened directory.
 *
 *   sandbox DIR OUTSIDE
 *
 * DIR is the guest path of the preopen; OUTSIDE is the host's absolute
 * path of a directory beside it, which the guest must not reach. The test
 * prepares, on the host:
 *
 *   OUTSIDE/secret.txt
 *   DIR/inside.txt
 *   DIR/sub/
 *   DIR/link_rel     -> ../outside/secret.txt
 *   DIR/link_abs     -> OUTSIDE/secret.txt
 *   DIR/link_dir     -> ../outside
 *   DIR/link_dir_abs -> OUTSIDE
 *
 * Each attempt prints "WHAT: ERRNO" for a refusal, or "WHAT: ok" when the
 * call succeeded (creating a symlink inside DIR is allowed; only following
 * it out is not). A read that succeeds prints what it read, so a leak
 * shows in the output. Exercises the sandboxing of path resolution in
 * path_open, path_filestat_get/set_times, path_link, path_rename,
 * path_symlink, path_create_directory, path_unlink_file, fd_readdir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h"

static const char *dir;

static const char *at(const char *name) {
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void result(const char *what, int r) {
    if (r < 0)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: ok\n", what);
}

/* open(PATH, FLAGS); on success reads and prints what it got. */
static void try_open(const char *what, const char *path, int flags) {
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    char buf[128];
    ssize_t n = (flags & O_ACCMODE) == O_WRONLY ? 0 : read(fd, buf, sizeof buf - 1);
    close(fd);
    int shown = n > 0 ? (int)n : 0;
    if (shown > 0 && buf[shown - 1] == '\n')
        shown--;
    printf("%s: OPENED, read %zd bytes: %.*s\n", what, n, shown, buf);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: sandbox DIR OUTSIDE\n");
        return 2;
    }
    dir = argv[1];
    const char *outside = argv[2];
    char abs_secret[1024];
    snprintf(abs_secret, sizeof abs_secret, "%s/secret.txt", outside);
    struct stat st;

    /* The sandbox itself works. */
    try_open("open inside.txt", at("inside.txt"), O_RDONLY);

    /* `..` out of the preopen. */
    try_open("open ../outside/secret.txt", at("../outside/secret.txt"), O_RDONLY);
    try_open("open sub/../../outside/secret.txt", at("sub/../../outside/secret.txt"), O_RDONLY);
    try_open("create ../outside/new.txt", at("../outside/new.txt"), O_CREAT | O_WRONLY);
    result("stat ..", stat(at(".."), &st));
    DIR *d = opendir(at(".."));
    printf("opendir ..: %s\n", d ? "ok" : errname(errno));
    if (d)
        closedir(d);
    result("mkdir ../newdir", mkdir(at("../newdir"), 0755));
    result("unlink ../outside/secret.txt", unlink(at("../outside/secret.txt")));

    /* An absolute host path, outside every preopen. */
    try_open("open OUTSIDE/secret.txt", abs_secret, O_RDONLY);
    try_open("open /etc/passwd", "/etc/passwd", O_RDONLY);

    /* Symlinks that point out. */
    try_open("open link_rel", at("link_rel"), O_RDONLY);
    try_open("open link_abs", at("link_abs"), O_RDONLY);
    try_open("open link_rel O_NOFOLLOW", at("link_rel"), O_RDONLY | O_NOFOLLOW);
    try_open("open link_dir/secret.txt", at("link_dir/secret.txt"), O_RDONLY);
    try_open("open link_dir_abs/secret.txt", at("link_dir_abs/secret.txt"), O_RDONLY);
    try_open("create link_dir/new.txt", at("link_dir/new.txt"), O_CREAT | O_WRONLY);
    result("mkdir link_dir/newdir", mkdir(at("link_dir/newdir"), 0755));
    try_open("truncate through link_rel", at("link_rel"), O_WRONLY | O_TRUNC);
    result("stat link_rel", stat(at("link_rel"), &st));
    result("lstat link_rel", lstat(at("link_rel"), &st));
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    result("utimensat link_rel (follow)", utimensat(AT_FDCWD, at("link_rel"), ts, 0));
    d = opendir(at("link_dir"));
    printf("opendir link_dir: %s\n", d ? "ok" : errname(errno));
    if (d)
        closedir(d);

    /* New symlinks: creating them is fine, following them out is not. */
    result("symlink /etc/passwd abs_new", symlink("/etc/passwd", at("abs_new")));
    try_open("open abs_new", at("abs_new"), O_RDONLY);
    result("symlink ../outside/secret.txt rel_new", symlink("../outside/secret.txt", at("rel_new")));
    try_open("open rel_new", at("rel_new"), O_RDONLY);

    /* Hard links across the boundary. */
    result("link ../outside/secret.txt hl", link(at("../outside/secret.txt"), at("hl")));
    result("link inside.txt ../outside/hl.txt", link(at("inside.txt"), at("../outside/hl.txt")));
    result("link inside.txt link_dir/hl.txt", link(at("inside.txt"), at("link_dir/hl.txt")));
    result("linkat AT_SYMLINK_FOLLOW link_rel hl2",
           linkat(AT_FDCWD, at("link_rel"), AT_FDCWD, at("hl2"), AT_SYMLINK_FOLLOW));

    /* Renames across the boundary. */
    result("rename inside.txt ../moved.txt", rename(at("inside.txt"), at("../moved.txt")));
    result("rename inside.txt link_dir/moved.txt", rename(at("inside.txt"), at("link_dir/moved.txt")));
    result("rename ../outside/secret.txt stolen.txt", rename(at("../outside/secret.txt"), at("stolen.txt")));
    result("rename link_dir/secret.txt stolen.txt", rename(at("link_dir/secret.txt"), at("stolen.txt")));

    /* Still inside, still working. */
    try_open("open inside.txt again", at("inside.txt"), O_RDONLY);
    return 0;
}
